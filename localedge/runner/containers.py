"""``python -m localedge run --images``: each module from its built image, as IoT Edge runs it.

The runner then plays edgeAgent with Docker and edgeHub over MQTT (:mod:`localedge.runner.mqtt`):

- one user-defined bridge network per run (``localedge-<pid>``, a /24 of its own), on which each
  module's container has the module's name as its network alias, so ``http://ImageClassifierService/image``
  resolves as on a device; each container gets a fixed address there (``.10`` up);
- each module's edgeHub stand-in (its own mosquitto, TLS on port 8883) listens on an address of the
  host on that network (``.200`` up, added to the network's bridge: this needs root, as Docker does);
- IoT Edge's own variables (``IOTEDGE_IOTHUBHOSTNAME``, ``_DEVICEID``, ``_MODULEID``,
  ``_GATEWAYHOSTNAME``, ``_MODULEGENERATIONID``, ``_WORKLOADURI``, ``_APIVERSION``, ``_AUTHSCHEME``) and
  the workload API on a Unix socket mounted at ``/var/run/iotedge/workload.sock``
  (:class:`WorkloadApi`: the trust bundle and SAS signing, what ``azure-iot-device``'s
  ``create_from_edge_environment`` asks of it), so each module's unchanged SDK client connects as on a device;
- the module's env from the manifest (and ``--set``) in an env file of the run's private folder (never
  on a command line), nothing of the runner's own environment;
- createOptions where this machine can: ``HostConfig.Binds`` (named volumes are Docker volumes, as on a
  device), ``PortBindings`` (published on 127.0.0.1 unless a ``HostIp`` is given), ``Devices`` that exist
  here, ``DeviceCgroupRules``, ``User``; what cannot be honoured is logged once;
- ``--set Module.VAR=path``: a ``*_DIR`` variable is a host folder (made, owned by the image's user,
  uid :data:`MODULE_UID`) bound read-write; a value naming an existing file or folder is bound
  read-only; the module sees it at ``/localedge/<Module>/<VAR>``.

Each container runs in the foreground of a ``docker run`` process that the supervisor starts, stops
(SIGTERM, proxied to the container) and restarts per restart policy, its output being the module's
log. Containers and networks carry the label ``io.localedge.runner=<pid>``; those of runners that died
are removed when the next one starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import shutil
import socketserver
import subprocess
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from localedge import ROOT
from localedge.build.module_images import DEFAULT_REGISTRY
from localedge.deploy.genconfig import image_name
from localedge.deploy.manifest import VARIABLE, ModuleSpec
from localedge.runner.discovery import alive

logger = logging.getLogger("localedge")

LABEL = "io.localedge.runner"
MODULE_UID = 10001  # the user every module image runs as (its Dockerfiles' USER)
WORKLOAD_SOCKET = "/var/run/iotedge/workload.sock"  # where IoT Edge mounts the workload API in a module
WORKLOAD_API_VERSION = "2019-01-30"
IOTHUB_HOST_NAME = "localhost"  # the SAS audience (never contacted), as the MQTT transport's connection string says
DEVICE_ID = "local"
SET_ROOT = "/localedge"  # where --set paths appear in a container
SUBNETS = [f"172.30.{n}.0/24" for n in range(16, 256)]  # candidates for the run's network (Docker refuses one in use)
CONTAINER_HOST = 10  # containers get .10, .11, ...
BROKER_HOST = 200  # module brokers listen on .200, .201, ... (host addresses on the bridge)
DOCKER_TIMEOUT_S = 60.0
DOCKER_HINT = ("start one (sudo systemctl start docker; without systemd: sudo dockerd > /var/log/dockerd.log 2>&1 &), "
               "or run without --images")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DockerError(RuntimeError):
    """Docker cannot do what the runner asked; the message is one line and says what to do."""


def docker(*args: str, timeout_s: float = DOCKER_TIMEOUT_S, check: bool = True) -> str:
    """Run the docker CLI; its standard output. Raises DockerError with its last error line."""
    if shutil.which("docker") is None:
        raise DockerError("--images needs Docker, which is not installed (Debian/Ubuntu: sudo apt-get install docker.io)")
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {args[0]} did not answer within {timeout_s:.0f} s") from None
    if check and done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise DockerError(f"docker {' '.join(args[:2])}: {last}")
    return done.stdout


def check_daemon() -> str:
    """The Docker daemon's version; raises DockerError in one line (with how to start one) when none answers."""
    try:
        return docker("version", "--format", "{{.Server.Version}}", timeout_s=15).strip()
    except DockerError as exc:
        raise DockerError(f"--images needs a running Docker daemon ({exc}); {DOCKER_HINT}") from None


def image_of(spec: ModuleSpec, platform: str, variables: Mapping[str, str]) -> str:
    """The image ``make images`` tags for the module (``<registry>/<repository>:<version>-<platform>``, the
    registry ``localhost:5000`` when ``variables`` give no CONTAINER_REGISTRY_ADDRESS, as make images does);
    ``platform`` unless the template names the module's (``${MODULES.<Folder>.<platform>}``)."""
    assert spec.folder is not None
    registry = {**variables}
    if not registry.get("CONTAINER_REGISTRY_ADDRESS", "").strip():
        registry["CONTAINER_REGISTRY_ADDRESS"] = DEFAULT_REGISTRY
    return image_name(ROOT, spec.folder, spec.platform or platform, registry, ROOT / "deployment.template.json")


def missing_images(images: Mapping[str, str]) -> list[str]:
    """The images (module -> image) this daemon does not have."""
    return [image for image in images.values()
            if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False,
                              timeout=DOCKER_TIMEOUT_S).returncode != 0]


def remove_stale() -> None:
    """Remove the containers and networks left by runners that died (their pid no longer runs)."""
    for kind in ("container", "network"):
        listing = docker(kind, "ls", "--all" if kind == "container" else "--quiet", "--filter", f"label={LABEL}",
                         "--format", f'{{{{.ID}}}} {{{{.Label "{LABEL}"}}}}', check=False)
        for line in listing.splitlines():
            ident, _, pid = line.partition(" ")
            if ident and (not pid.isdecimal() or not alive(int(pid))):
                docker(kind, "rm", *(["--force"] if kind == "container" else []), ident, check=False)


class ModuleNetwork:
    """The run's user-defined bridge network: containers at ``.10`` up, module brokers at host addresses ``.200`` up.

    Raises DockerError when no candidate subnet is free, or an address cannot be added to the bridge (not root).
    """

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.name = f"localedge-{self.pid}"
        self.bridge = f"le{self.pid}"[:15]
        self.subnet: ipaddress.IPv4Network | None = None
        self._containers = 0
        self._brokers: list[str] = []
        self._lock = threading.Lock()

    def create(self) -> None:
        last = ""
        for candidate in SUBNETS:
            subnet = ipaddress.IPv4Network(candidate)
            done = subprocess.run(
                ["docker", "network", "create", "--driver", "bridge", "--subnet", candidate,
                 "--gateway", str(subnet.network_address + 1), "--label", f"{LABEL}={self.pid}",
                 "--opt", f"com.docker.network.bridge.name={self.bridge}", self.name],
                capture_output=True, text=True, timeout=DOCKER_TIMEOUT_S, check=False)
            if done.returncode == 0:
                self.subnet = subnet
                return
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            if "overlap" not in last and "in use" not in last:
                break
        raise DockerError(f"cannot create the modules' network {self.name}: {last}")

    @property
    def gateway(self) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    def container_address(self) -> str:
        """The next container address."""
        assert self.subnet is not None
        with self._lock:
            self._containers += 1
            return str(self.subnet.network_address + CONTAINER_HOST + self._containers - 1)

    def broker_address(self, _module: str = "") -> str:
        """A new host address on the network's bridge, for a module's broker; raises DockerError."""
        assert self.subnet is not None
        with self._lock:
            address = str(self.subnet.network_address + BROKER_HOST + len(self._brokers))
            done = subprocess.run(["ip", "address", "add", f"{address}/32", "dev", self.bridge],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                why = (done.stderr.strip().splitlines() or ["?"])[-1]
                raise DockerError(f"cannot give the edgeHub stand-in an address on {self.bridge} ({why}): "
                                  "--images must run as root (sudo)")
            self._brokers.append(address)
            return address

    def remove(self) -> None:
        """Remove the network (its bridge and the brokers' addresses go with it)."""
        docker("network", "rm", self.name, check=False)


class _WorkloadHandler(BaseHTTPRequestHandler):
    server: _WorkloadServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:  # quiet: the module's own log tells what matters
        return

    def _answer(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if urlsplit(self.path).path == "/trust-bundle":
            self._answer(200, {"certificate": self.server.ca_pem()})
        else:
            self._answer(404, {"message": f"no {urlsplit(self.path).path}"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > 64 * 1024:
            self._answer(413, {"message": "request too large"})
            return
        body = self.rfile.read(length)
        parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
        if len(parts) != 5 or parts[0] != "modules" or parts[2] != "genid" or parts[4] != "sign":
            self._answer(404, {"message": f"no {urlsplit(self.path).path}"})
            return
        if parts[1] != self.server.module or parts[3] != self.server.generation_id:
            self._answer(404, {"message": f"module {parts[1]} (generation {parts[3]}) not found"})
            return
        try:
            request = json.loads(body)
            data = base64.b64decode(request["data"], validate=True)
            if request.get("algo") != "HMACSHA256" or request.get("keyId") != "primary":
                raise ValueError("algo must be HMACSHA256 and keyId primary")
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(400, {"message": f"bad sign request: {exc}"})
            return
        digest = hmac.new(base64.b64decode(self.server.key), data, hashlib.sha256).digest()
        self._answer(200, {"digest": base64.b64encode(digest).decode("ascii")})


class _WorkloadServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, module: str, generation_id: str, key: str, ca: Path) -> None:
        self.module = module
        self.generation_id = generation_id
        self.key = key
        self._ca = ca
        super().__init__(str(path), _WorkloadHandler)

    def ca_pem(self) -> str:
        return self._ca.read_text(encoding="ascii")


class WorkloadApi:
    """IoT Edge's workload API for one module, on a Unix socket: ``GET /trust-bundle`` (the run's CA, which
    signed the module's broker certificate) and ``POST /modules/{id}/genid/{generation}/sign`` (HMAC-SHA256
    of ``data`` with the module's key: the SAS token's signature). contract: azure-iot-device's
    ``iothub/edge_hsm.py`` and IoT Edge's workload API (api-version 2019-01-30)."""

    def __init__(self, path: Path, module: str, key: str, ca: Path) -> None:
        self.path = path
        self.module = module
        self.generation_id = secrets.token_hex(8)
        path.unlink(missing_ok=True)
        self._server = _WorkloadServer(path, module, self.generation_id, key, ca)
        path.chmod(0o666)  # the module's user connects; the run's folder (0700) keeps everyone else out
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"workload-{module}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


def edge_environment(module: str, gateway: str, generation_id: str) -> dict[str, str]:
    """The variables IoT Edge gives every module container."""
    return {
        "IOTEDGE_IOTHUBHOSTNAME": IOTHUB_HOST_NAME,
        "IOTEDGE_DEVICEID": DEVICE_ID,
        "IOTEDGE_MODULEID": module,
        "IOTEDGE_GATEWAYHOSTNAME": gateway,
        "IOTEDGE_MODULEGENERATIONID": generation_id,
        "IOTEDGE_WORKLOADURI": f"unix://{WORKLOAD_SOCKET}",
        "IOTEDGE_APIVERSION": WORKLOAD_API_VERSION,
        "IOTEDGE_AUTHSCHEME": "sasToken",
    }


def _own(path: Path) -> None:
    """Let the modules' user (uid MODULE_UID) write ``path``: its owner when the runner is root, else open to all."""
    if os.geteuid() == 0:
        os.chown(path, MODULE_UID, MODULE_UID)
    else:
        path.chmod(0o777)


def bind_sets(sets: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Turn ``--set`` values that are host paths into container paths (``sets`` changed in place); the binds
    per module (``host:container[:ro]``). A ``*_DIR`` variable is a folder made here and bound read-write;
    any other value naming an existing file or folder is bound read-only."""
    binds: dict[str, list[str]] = {}
    for module, items in sets.items():
        for var, value in items.items():
            if not value.strip() or "://" in value:
                continue
            host = Path(value).expanduser()
            inside = f"{SET_ROOT}/{module}/{var}"
            if var.endswith("_DIR"):
                host.mkdir(parents=True, exist_ok=True)
                _own(host.resolve())
                binds.setdefault(module, []).append(f"{host.resolve()}:{inside}")
                items[var] = inside
            elif host.exists():
                target = f"{inside}/{host.name}" if host.is_file() else inside
                binds.setdefault(module, []).append(f"{host.resolve()}:{target}:ro")
                items[var] = target
    return binds


def container_environment(spec: ModuleSpec, sets: Mapping[str, str]) -> dict[str, str]:
    """The module's env in its container: the manifest's (an unresolved ``$VAR`` left empty) < ``--set``."""
    env = {key: VARIABLE.sub("", value) for key, value in spec.env.items()}
    env.update(sets)
    return env


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """``path`` (0600) in docker's ``--env-file`` format; raises DockerError for a name or value it cannot carry."""
    lines = []
    for key, value in env.items():
        if not _ENV_NAME.match(key):
            raise DockerError(f"env variable name {key!r}: letters, digits and _ only, not starting with a digit")
        if "\n" in value or "\r" in value or "\0" in value:
            raise DockerError(f"env variable {key}: a value with a line break or NUL cannot be given to a container")
        lines.append(f"{key}={value}\n")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.writelines(lines)


def create_arguments(spec: ModuleSpec) -> list[str]:
    """``docker run`` arguments for the createOptions this machine can honour (the rest is logged)."""
    options = spec.create_options
    found = options.get("HostConfig")
    host: dict[str, Any] = found if isinstance(found, dict) else {}
    args: list[str] = []
    for bind in host.get("Binds") or []:
        args += ["--volume", str(bind)]
    for port, bindings in (host.get("PortBindings") or {}).items():
        for binding in bindings or [{}]:
            host_ip = str((binding or {}).get("HostIp") or "127.0.0.1")
            host_port = str((binding or {}).get("HostPort") or "")
            args += ["--publish", f"{host_ip}:{host_port}:{port}"]
    for device in host.get("Devices") or []:
        on_host = str(device.get("PathOnHost", ""))
        if on_host and Path(on_host).exists():
            args += ["--device", f"{on_host}:{device.get('PathInContainer') or on_host}:{device.get('CgroupPermissions') or 'rwm'}"]
        else:
            logger.info("%s: device %s is not on this machine; started without it", spec.name, on_host)
    for rule in host.get("DeviceCgroupRules") or []:
        args += ["--device-cgroup-rule", str(rule)]
    if options.get("User"):
        args += ["--user", str(options["User"])]
    ignored = sorted(set(host) - {"Binds", "PortBindings", "Devices", "DeviceCgroupRules"})
    if ignored:
        logger.info("%s: createOptions HostConfig %s not honoured by the local runner", spec.name, ", ".join(ignored))
    return args


def run_command(spec: ModuleSpec, image: str, network: ModuleNetwork, address: str, env_file: Path, workload: Path,
                extra_binds: list[str], hosts: Mapping[str, str]) -> list[str]:
    """The command that runs one module in the foreground (its output is the module's log): ``docker run``,
    after removing a container of the same name that a previous start may have left."""
    name = container_name(network, spec.name)
    aliases = sorted({spec.name, spec.name.lower()})
    command = ["docker", "run", "--rm", "--name", name, "--label", f"{LABEL}={network.pid}",
               "--network", network.name, "--ip", address, "--hostname", spec.name.lower()[:63],
               *[a for alias in aliases for a in ("--network-alias", alias)],
               "--env-file", str(env_file), "--volume", f"{workload}:{WORKLOAD_SOCKET}",
               "--stop-timeout", "10", "--sig-proxy=true"]
    for host_name, host_address in hosts.items():
        command += ["--add-host", f"{host_name}:{host_address}"]
    for bind in extra_binds:
        command += ["--volume", bind]
    command += create_arguments(spec)
    command.append(image)
    return ["sh", "-c", 'docker rm --force "$0" >/dev/null 2>&1; exec "$@"', name, *command]


def container_name(network: ModuleNetwork, module: str) -> str:
    """The module's container name in this run (``localedge-<pid>-<module>``, lowercase)."""
    return f"{network.name}-{module}".lower()


def container_health(name: str) -> str:
    """Docker's health status of a container (``healthy``, ``unhealthy``, ``starting``), ``none`` without a
    HEALTHCHECK, ``gone`` when it does not run."""
    text = docker("inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", name,
                  check=False, timeout_s=10).strip()
    return text or "gone"
