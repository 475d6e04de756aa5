"""``python -m localedge run``: the whole solution on one machine, no Azure, no Docker.

Reads the deployment template, starts each custom module of this solution as a local process
with the env the manifest gives it (``--set Module.VAR=value`` overrides), and delivers messages
between them as the manifest's routes say. URLs that name a module (``http://Module:80/...``)
are pointed at the loopback port the runner gives that module's ``PORT``, since module names
resolve only on the IoT Edge network. Each module also gets a free ``METRICS_PORT`` of its own (on
IoT Edge they all serve 9600, each in its container), and the runner keeps the modules' metrics URLs
in a state file for ``python -m localedge metrics`` (:mod:`localedge.runner.discovery`).

While it runs, the runner serves a control endpoint (:mod:`localedge.runner.control`) for
``list``, ``logs``, ``restart``, ``twin``, ``monitor``, ``invoke`` and ``upstream``
(:mod:`localedge.runner.commands`). Modules are restarted as edgeAgent restarts them
(:mod:`localedge.runner.supervisor`). With ``--transport mqtt`` the modules reach the hub with their
``azure-iot-device`` client over edgeHub's MQTT topics (:mod:`localedge.runner.mqtt`) instead of the
local bus; routing, twins and direct methods are the bus's either way.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic.alias_generators import to_camel

from localedge import ROOT
from localedge.build.module_images import host_platform
from localedge.commandline import add_command
from localedge.deploy.manifest import (VARIABLE, Manifest, ModuleSpec, load_manifest, load_variables, read_template,
                                       unresolved)
from localedge.http_get import get
from localedge.runner import containers, supervisor
from localedge.runner.bus import DEFAULT_TIME_TO_LIVE_S, Bus, UpstreamSink
from localedge.runner.control import ControlServer, socket_path
from localedge.runner.known import unknown_set
from localedge.runner.discovery import RunnerState, alive, private_state_dir
from localedge.runner.ports import free_port
from localedge.runner.routes import Route, RouteError, parse_route
from localedge.runner.standins import (BlobStandIns, blob_account_defaults, is_blob_module, map_volumes,
                                      point_at_loopback, temp_folder, volume_folders)
from localedge.runner.supervisor import HealthCheck, Supervisor

logger = logging.getLogger("localedge")

HEALTH_TIMEOUT_S = 3.0
HIDDEN_ENV = re.compile(r"^(IOTEDGE_|LOCALEDGE_|EdgeHubConnectionString|EdgeModuleCACertificateFile)")


class RunnerError(ValueError):
    """The runner cannot start the solution as asked; the message says why and what to do."""


def parse_sets(items: Sequence[str], modules: Mapping[str, ModuleSpec]) -> dict[str, dict[str, str]]:
    """``Module.VAR=value`` items -> {module: {VAR: value}}; raises RunnerError on a bad item."""
    result: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        module, dot, var = target.partition(".")
        if not sep or not dot or not module or not var:
            raise RunnerError(f"--set {item!r}: write it as <Module>.<VAR>=<value>, e.g. CameraCapture.VIDEO_PATH=clip.mp4")
        if module not in modules:
            raise RunnerError(f"--set {item!r}: no module {module!r} in the manifest (modules: {', '.join(modules)})")
        if (unknown := unknown_set(module, var, modules)) is not None:  # a typo would silently leave the default
            raise RunnerError(f"--set {item!r}: {unknown}")
        result.setdefault(module, {})[var] = value
    return result


def apply_sets(manifest: Manifest, sets: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Put each ``--set`` where the module will read it; returns the env overrides.

    A variable whose twin name (``FRAME_RATE`` -> ``frameRate``) is among the module's desired
    properties in the manifest goes there, typed like the manifest's value, since desired
    properties override the environment; any other goes into the module's env.
    """
    env_sets: dict[str, dict[str, str]] = {}
    for module, items in sets.items():
        desired = manifest.modules[module].desired
        for var, value in items.items():
            key = to_camel(var.lower())
            if key in desired:
                desired[key] = _typed_like(desired[key], value, f"{module}.{var}")
            else:
                env_sets.setdefault(module, {})[var] = value
    return env_sets


def _typed_like(example: object, value: str, where: str) -> object:
    try:
        if isinstance(example, bool):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes", "on")
        if isinstance(example, int):
            return int(value)
        if isinstance(example, float):
            return float(value)
    except ValueError as exc:
        raise RunnerError(f"--set {where}={value}: expected a {type(example).__name__}, like the manifest's {example!r}") from exc
    return value


def module_environments(manifest: Manifest, sets: Mapping[str, Mapping[str, str]],
                        base: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each runnable module's environment: process env (IoT Edge variables removed) < manifest < --set.

    Also points URLs naming a module, in env values and desired properties, at its loopback port.
    """
    clean = {k: v for k, v in base.items() if not HIDDEN_ENV.match(k)}
    envs: dict[str, dict[str, str]] = {}
    for name, spec in manifest.modules.items():
        env = dict(spec.env)
        missing = sorted({var for value in env.values() for var in unresolved(value)})
        if missing:
            logger.info("%s: %s not set in .env or the environment; left empty", name, ", ".join(missing))
            env = {key: VARIABLE.sub("", value) for key, value in env.items()}
        env.update({"BIND_ADDRESS": "127.0.0.1", **sets.get(name, {})})  # its servers on loopback, unless --set
        envs[name] = {**clean, **env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))}
    for name, spec in manifest.modules.items():
        if "PORT" not in envs[name]:
            continue
        declared = spec.env.get("PORT", envs[name]["PORT"])
        wanted = sets.get(name, {}).get("PORT")
        if wanted is not None and not (wanted.isdecimal() and 1 <= int(wanted) <= 65535):
            raise RunnerError(f"--set {name}.PORT={wanted}: write a TCP port, a number from 1 to 65535 (or leave it to the runner)")
        local_port = int(wanted) if wanted is not None else free_port()
        envs[name]["PORT"] = str(local_port)
        for other in [*envs.values(), *(spec.desired for spec in manifest.modules.values())]:
            point_at_loopback(other, name, declared, local_port)
    for name in envs:  # each module its own metrics port (all would want 9600); 0 (metrics off) is kept
        wanted = sets.get(name, {}).get("METRICS_PORT")
        if wanted is not None and not (wanted.isdecimal() and 0 <= int(wanted) <= 65535):
            raise RunnerError(f"--set {name}.METRICS_PORT={wanted}: write a TCP port, 0 to 65535 (0: off), or leave it to the runner")
        if wanted is None:
            wanted = "0" if envs[name].get("METRICS_PORT", "").strip() == "0" else str(free_port())
        envs[name]["METRICS_PORT"] = wanted
    return envs


def _routes(manifest: Manifest) -> list[Route]:
    routes = []
    for name, text in manifest.routes.items():
        try:
            route = parse_route(name, text)
        except RouteError as exc:
            raise RunnerError(f"{manifest.path}: modulesContent.$edgeHub.properties.desired.routes.{name}: {exc}") from None
        for module in (route.module, route.sink_module):
            if module is not None and module not in manifest.modules:
                raise RunnerError(
                    f"{manifest.path}: route {name!r} names module {module!r}, which is not in "
                    f"$edgeAgent.modules ({', '.join(manifest.modules)}); fix the route or add the module"
                )
        routes.append(route)
    return routes


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise RunnerError(f"{name}={text}: write a number of seconds, 0 or more")
    return value


def supervisor_timing(environ: Mapping[str, str]) -> dict[str, float]:
    """The supervisor's timing: edgeAgent's by default; ``LOCALEDGE_COOL_OFF_S``, ``LOCALEDGE_MAX_COOL_OFF_S``,
    ``LOCALEDGE_STABLE_S``, ``LOCALEDGE_HEALTH_GRACE_S`` and ``LOCALEDGE_HEALTH_INTERVAL_S`` shorten them (tests)."""
    return {
        "cool_off_s": _seconds(environ, "LOCALEDGE_COOL_OFF_S", supervisor.COOL_OFF_S),
        "max_cool_off_s": _seconds(environ, "LOCALEDGE_MAX_COOL_OFF_S", supervisor.MAX_COOL_OFF_S),
        "stable_s": _seconds(environ, "LOCALEDGE_STABLE_S", supervisor.STABLE_S),
        "health_grace_s": _seconds(environ, "LOCALEDGE_HEALTH_GRACE_S", supervisor.HEALTH_GRACE_S),
        "health_interval_s": max(0.1, _seconds(environ, "LOCALEDGE_HEALTH_INTERVAL_S", supervisor.HEALTH_INTERVAL_S)),
    }


def module_version(folder: str) -> str:
    """``image.tag.version`` of ``modules/<folder>/module.json``; empty when it cannot be read."""
    try:
        document = json.loads((ROOT / "modules" / folder / "module.json").read_text(encoding="utf-8"))
        return str(document["image"]["tag"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def http_ready(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """True when ``url`` answers 2xx within ``timeout_s`` (a readiness probe)."""
    try:
        status, _ = get(url, timeout_s)
        return 200 <= status < 300
    except (OSError, ValueError):
        return False


def health_check(env: Mapping[str, str], name: str, bus: Bus) -> HealthCheck:
    """A module's health as on-unhealthy judges it: a module with a ``PORT`` (the classifier) must answer
    ``/health/ready`` there; the others must be connected to the hub (attached to the bus)."""
    port = env.get("PORT", "").strip()
    if port.isdecimal():
        return functools.partial(http_ready, f"http://127.0.0.1:{port}/health/ready")
    return functools.partial(bus.connected, name)


def run(args: argparse.Namespace) -> int:
    """Run the solution until --duration elapses or Ctrl-C / SIGTERM; returns the exit code."""
    images = bool(getattr(args, "images", False))
    variables = load_variables(Path(args.env_file), os.environ)
    accounts = blob_account_defaults(read_template(Path(args.manifest)), variables)
    if accounts:  # a Blob Storage on IoT Edge module whose account .env does not give: a local one for this run
        logger.info("%s not set in .env or the environment: a local storage account for this run", ", ".join(accounts))
    manifest = load_manifest(Path(args.manifest), {**variables, **accounts})
    raw_sets = parse_sets(args.set or [], manifest.modules)
    set_binds = containers.bind_sets(raw_sets) if images else {}  # host paths -> paths in the containers
    sets = apply_sets(manifest, raw_sets)
    routes = _routes(manifest)
    try:
        folder = private_state_dir()
    except PermissionError as exc:
        raise RunnerError(str(exc)) from None
    if images:
        envs = {name: containers.container_environment(spec, sets.get(name, {})) for name, spec in manifest.modules.items()}
    else:
        envs = module_environments(manifest, sets, os.environ)
        for spec in manifest.modules.values():  # the modules' volumes: folders under .localedge/volumes
            map_volumes(envs[spec.name], volume_folders(spec, folder))
            if "TMPDIR" not in raw_sets.get(spec.name, {}):  # and a temp folder each: .localedge/tmp/<Module>
                envs[spec.name]["TMPDIR"] = str(temp_folder(folder, spec.name))
    runnable = _runnable(manifest)
    timing = supervisor_timing(os.environ)
    network = _module_network(manifest, runnable, variables, getattr(args, "platform", None)) if images else None
    upstream = UpstreamSink(Path(args.upstream) if args.upstream else None, sys.stdout)
    bus = Bus(routes, {name: spec.desired for name, spec in manifest.modules.items()}, upstream,
              time_to_live_s=float(getattr(manifest, "time_to_live_s", DEFAULT_TIME_TO_LIVE_S)))
    sup = Supervisor(sys.stdout, Path.cwd(), **timing)
    blobs = BlobStandIns(manifest, folder, host=network[0].gateway if network else "127.0.0.1")
    blobs.start(envs, [bus.desired[name] for name in bus.desired])
    try:
        control = ControlServer(socket_path(folder, os.getpid()), bus, sup)
    except OSError as exc:
        blobs.stop()
        if network is not None:
            network[0].remove()
        raise RunnerError(f"cannot open the runner's control endpoint in {folder}: {exc}") from None
    mqtt_folder = None
    mqtt_hub = None
    workloads: list[containers.WorkloadApi] = []
    hosts: dict[str, str] = {}
    try:
        if images or getattr(args, "transport", "local") == "mqtt":  # its keys in the runner's 0700 state folder
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _remove_stale_mqtt_folders(folder)
            mqtt_folder = Path(tempfile.mkdtemp(prefix=f"mqtt-{os.getpid()}-", dir=folder))
            mqtt_hub = _mqtt_hub(bus, mqtt_folder, network[0].broker_address if network else None)
        for spec, script in runnable:
            version = module_version(spec.folder or "")
            if network is not None:
                assert mqtt_hub is not None and mqtt_folder is not None
                net, image_names = network
                address, key = mqtt_hub.endpoint(spec.name)
                workload = containers.WorkloadApi(mqtt_folder / f"workload-{spec.name}.sock", spec.name, key,
                                                  mqtt_hub.ca_certificate)
                workloads.append(workload)
                env_file = mqtt_folder / f"{spec.name}.env"
                containers.write_env_file(env_file, {**envs[spec.name], **containers.edge_environment(
                    spec.name, address, workload.generation_id)})
                hosts[spec.name] = net.container_address()
                command = containers.run_command(spec, image_names[spec.name], net, hosts[spec.name], env_file,
                                                 workload.path, set_binds.get(spec.name, []), {})
                cli_env = {k: v for k, v in os.environ.items() if not HIDDEN_ENV.match(k)}
                sup.add_command(spec.name, command, cli_env, spec.restart_policy, version=version,
                                health=functools.partial(_container_healthy, containers.container_name(net, spec.name),
                                                         bus, spec.name))
                continue
            link = mqtt_hub.environment(spec.name) if mqtt_hub is not None else bus.environment(spec.name)
            sup.add(spec.name, script, {**envs[spec.name], **link}, spec.restart_policy,
                    version=version, health=health_check(envs[spec.name], spec.name, bus))
    except BaseException as exc:
        control.close()
        blobs.stop()
        _stop_transport(mqtt_hub, mqtt_folder, workloads, network[0] if network else None)
        if isinstance(exc, RuntimeError):  # MqttEdgeHub: mosquitto or openssl missing, no address free; DockerError
            raise RunnerError(str(exc)) from None
        raise

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    bus.start()
    control.start()
    state = RunnerState([m.name for m in sup.modules], folder, {
        "control": str(control.path),  # the commands' endpoint; and Azurite for `captures` (0600 file: the key is local)
        "blob": {name: azurite.connection_string for name, azurite in blobs.azurites.items()},
        "containers": hosts}, hosts=hosts)  # under --images: each module container's address on the modules' network
    state.refresh(bus.reported)
    sup.start_all()
    logger.info("running %s%s %s; routes: %s", ", ".join(m.name for m in sup.modules),
                " (containers)" if images else "", f"for {args.duration:g} s" if args.duration else "until Ctrl-C",
                len(routes))
    deadline = time.monotonic() + args.duration if args.duration else None
    try:
        while not stop.wait(0.25):
            sup.watch()
            blobs.watch()
            if mqtt_hub is not None:  # a module's edgeHub stand-in that crashed comes back, as edgeHub would
                mqtt_hub.watch()
            state.refresh(bus.reported)
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        state.remove()
        control.close()
    logger.info("stopping modules")
    sup.stop_all()
    _stop_transport(mqtt_hub, mqtt_folder, workloads, network[0] if network else None)
    blobs.stop()
    bus.close()
    counters = bus.counters()
    written = f", appended to {args.upstream}" if args.upstream else ""
    logger.info("done: %d message(s) to $upstream%s", upstream.count, written)
    if counters.unrouted or counters.upstream_queued or counters.upstream_expired or counters.upstream_dropped:
        logger.info("%d message(s) matched no route (dropped); $upstream: %d still queued, %d expired, %d dropped",
                    counters.unrouted, counters.upstream_queued, counters.upstream_expired, counters.upstream_dropped)
    return 0


def _runnable(manifest: Manifest) -> list[tuple[ModuleSpec, Path]]:
    """The modules this runner starts, in startupOrder, with their main.py; raises RunnerError when there is none.
    Blob Storage modules are left to :class:`BlobStandIns`; others not built from modules/ are logged and skipped."""
    runnable = []
    for spec in sorted(manifest.modules.values(), key=lambda s: s.startup_order):
        script = ROOT / "modules" / (spec.folder or "") / "main.py"
        if is_blob_module(spec):
            continue
        if spec.status != "running":
            logger.info("%s: status %s, not started", spec.name, spec.status)
        elif spec.folder is None or not script.is_file():
            logger.warning("%s: image %s is not built from modules/ in this solution; not started", spec.name, spec.image)
        else:
            runnable.append((spec, script))
    if not runnable:
        raise RunnerError(f"{manifest.path}: no module of this solution to run")
    return runnable


def _module_network(manifest: Manifest, runnable: list[tuple[ModuleSpec, Path]], variables: Mapping[str, str],
                    platform: str | None) -> tuple[containers.ModuleNetwork, dict[str, str]]:
    """For ``--images``: Docker answers, each module's image is built, and the run's network is made:
    (network, module -> image). Raises RunnerError in one line."""
    wanted = platform or host_platform()
    try:
        containers.check_daemon()
        containers.remove_stale()
        image_names = {spec.name: containers.image_of(spec, wanted, variables) for spec, _ in runnable}
        missing = containers.missing_images(image_names)
        if missing:
            platforms = sorted({name.rsplit("-", 1)[-1] for name in missing})
            raise RunnerError(f"{len(missing)} module image(s) not built here ({', '.join(missing)}): build them with "
                              + " and ".join(f"`make images PLATFORM={p}`" for p in platforms))
        network = containers.ModuleNetwork()
        network.create()
    except containers.DockerError as exc:
        raise RunnerError(str(exc)) from None
    logger.info("modules' network %s (%s); images: %s", network.name, network.subnet, ", ".join(image_names.values()))
    return network, image_names


def _container_healthy(container: str, bus: Bus, module: str) -> bool:
    """A module container's health as on-unhealthy judges it: Docker's HEALTHCHECK verdict when the image has
    one, else the module's connection to the hub."""
    status = containers.container_health(container)
    return status == "healthy" or (status == "none" and bus.connected(module))


def _stop_transport(hub: Any, folder: Path | None, workloads: list[containers.WorkloadApi],
                    network: containers.ModuleNetwork | None) -> None:
    """Stop the MQTT transport, the workload APIs and the modules' network; remove the run's private folder."""
    if network is not None:  # containers a killed docker CLI left behind, then the network
        for line in containers.docker("container", "ls", "--all", "--quiet", "--filter",
                                      f"label={containers.LABEL}={network.pid}", check=False).split():
            containers.docker("container", "rm", "--force", line, check=False)
    for workload in workloads:
        workload.close()
    if hub is not None:
        hub.stop()
    if network is not None:
        network.remove()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_stale_mqtt_folders(folder: Path) -> None:
    """Remove the MQTT transport's folders (keys included) left by runners that were killed."""
    for path in folder.glob("mqtt-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdecimal() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _mqtt_hub(bus: Bus, folder: Path, address_for: Any = None) -> Any:
    """Start the MQTT transport (:mod:`localedge.runner.mqtt`, imported only when asked for) with its
    broker's files (CA, certificates, configuration) in ``folder``; ``address_for(module)`` gives each
    module's broker address (default: a loopback address of its own)."""
    try:
        from localedge.runner.mqtt import MqttEdgeHub  # noqa: PLC0415 - optional transport, loaded on demand
    except ImportError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise RunnerError(f"--transport mqtt is not available here ({exc}); use --transport local") from None
    hub = MqttEdgeHub(bus, folder, address_for)
    hub.start()
    return hub


def add_parser(commands: Any) -> None:
    """The ``run`` command's arguments."""
    run_cmd = add_command(
        commands, "run", "run the solution's modules locally, routed as the manifest says",
        "Run the solution's modules as local processes (or, with --images, as containers), with the env and routes the "
        "deployment template gives them, until --duration elapses or Ctrl-C. Nothing it starts is reachable from another "
        "machine (its ports are on 127.0.0.1).",
        ["python -m localedge run --set CameraCapture.VIDEO_PATH=demo/colours.mp4 --set CameraCapture.LOOP_VIDEO=true",
         "python -m localedge run --duration 60 --upstream upstream.jsonl",
         "python -m localedge run --images --platform arm64v8"])
    run_cmd.add_argument("--manifest", default="deployment.template.json", help="deployment template (default: %(default)s)")
    run_cmd.add_argument("--set", action="append", metavar="Module.VAR=value", help="override a module's env (repeatable)")
    run_cmd.add_argument("--upstream", metavar="FILE", help="append each $upstream message to FILE as a JSON line")
    run_cmd.add_argument("--duration", type=float, default=0.0, metavar="SECONDS", help="stop after this long (default: Ctrl-C)")
    run_cmd.add_argument("--env-file", default=".env", help="variables for $VAR substitution (default: %(default)s, if present)")
    run_cmd.add_argument("--transport", choices=("local", "mqtt"), default="local",
                         help="how modules reach the hub: the runner's local bus, or edgeHub's MQTT topics over TLS "
                              "with each module's azure-iot-device client (default: %(default)s)")
    run_cmd.add_argument("--images", action="store_true",
                         help="run each module from its built image (make images) in Docker, as IoT Edge does: a network "
                              "of its own, the real SDK over MQTT with IoT Edge's variables and workload API (needs root)")
    run_cmd.add_argument("--platform", choices=("amd64", "arm64v8", "arm32v7"),
                         help="with --images: the images' platform (default: this machine's; arm ones run under QEMU)")
    run_cmd.set_defaults(func=run)
