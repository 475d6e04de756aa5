"""``python -m localedge run --transport mqtt``: the runner plays edgeHub over MQTT with TLS.

Every module then runs its unchanged ``azure-iot-device`` client (``IoTHubModuleClient.
create_from_edge_environment()``, which honours ``EdgeHubConnectionString`` and
``EdgeModuleCACertificateFile``) against mosquitto, and the runner's own paho-mqtt client translates
edgeHub's MQTT topics to and from the frames of :class:`localedge.runner.bus.Bus`, so routing and
module twins are the bus's, whatever the transport.

contract: docs/iotedge.md "Exercising the real SDK without Azure", and IoT Hub's MQTT topics:

- module output: ``devices/{device}/modules/{module}/messages/events/{properties}`` (``$.on`` the
  output, ``$.ct``/``$.ce`` content type and encoding, the rest application properties) -> ``send``;
- module input: ``devices/{device}/modules/{module}/inputs/{input}/{properties}`` <- ``input``;
- twin: ``$iothub/twin/GET/?$rid={rid}`` -> ``get_twin``, answered on ``$iothub/twin/res/200/?$rid=``;
  ``$iothub/twin/PATCH/properties/reported/?$rid={rid}`` -> ``report``, answered 204 (400 for a
  patch that is not a JSON object); ``$iothub/twin/PATCH/properties/desired/?$version={v}`` <- ``desired``;
- direct methods: ``$iothub/methods/POST/{name}/?$rid={rid}`` <- ``method``; the module's
  ``$iothub/methods/res/{status}/?$rid={rid}`` -> ``method_result``.

Layout. The SDK always connects to port 8883 on ``GatewayHostName``, and the twin and method
topics carry no module id, so each module needs a topic space of its own. mosquitto's
``mount_point`` would give one per listener in one broker, but Debian 12's mosquitto 2.0.11 does
not strip the mount point from messages it delivers (eclipse-mosquitto/mosquitto#2244, fixed in
2.0.12), so each module gets its own small mosquitto: a TLS listener on ``127.0.0.<n>:8883`` (an
address of its own) for the module and a plain listener on a free loopback port for the runner's
client. One CA made per run signs each broker's certificate.

Knowing the module. mosquitto reports connections and subscriptions only in its log, so the
runner reads each broker's log (``connection_messages``, ``log_type subscribe``): a module is
attached to the bus when its client (``{device}/{module}``) connects and detached when it goes; the
bus is told ``subscribe`` once the module's subscription to its inputs is in place, so no input
is published before the broker can deliver it (the bus holds inputs until then). mosquitto logs a
connection before it handles any packet of it, so a module's first request never overtakes it.
Desired-property patches wait likewise for the module's subscription to them, and a direct
method to a module not subscribed to methods is answered 404.

Bounds: a module's broker holds at most QUEUE_LIMIT messages for a module that does not take
them (a frozen or slow one; mosquitto then drops newer ones, and the runner logs it), and accepts
packets of at most MAX_PACKET_BYTES; the runner's client holds at most TRANSIT_LIMIT for its broker.
``send`` raises OSError only when the module is gone (the bus then holds inputs until the module
subscribes again); nothing the runner does waits for a module.

Security: the listeners are loopback only; mosquitto cannot check the SAS tokens the SDK makes,
so the TLS listener admits any local client (as the test stand-in does). The SharedAccessKey is
random per run and never logged; :meth:`MqttEdgeHub.stop` deletes the private keys.
"""

from __future__ import annotations

import base64
import functools
import getpass
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote

import paho.mqtt.client as mqtt

from edgekit import wire
from localedge.runner.bus import Bus
from localedge.runner.ports import free_port
from localedge.runner.supervisor import _LIBC, _terminate_with

logger = logging.getLogger(__name__)

DEVICE_ID = "local"  # the bus's connectionDeviceId
HOST_NAME = "localhost"  # the IoT Hub host name in the connection string (the SAS audience; never contacted)
TLS_PORT = 8883  # the SDK's MQTT port on GatewayHostName, fixed
RUNNER_CLIENT_ID = "localedge-runner"
QUEUE_LIMIT = 1000  # messages a module's broker holds for it (past it mosquitto drops new ones, logged)
TRANSIT_LIMIT = 10_000  # messages the runner's client holds for a broker (which acks at once; only a stuck one fills it)
MAX_PACKET_BYTES = 512 * 1024  # largest MQTT packet a broker accepts (IoT Hub's message limit is 256 KB)
PENDING_LIMIT = 256  # twin requests awaiting the bus's answer, per module; past it the oldest is forgotten
HELD_DESIRED = 100  # desired patches held until the module subscribes to them
ATTACH_WAIT_S = 2.0  # longest wait for the broker's log to announce the connection a message came on
START_TIMEOUT_S = 10.0  # longest wait for a broker to start and the runner's client to subscribe on it
INSTALL_HINT = "sudo apt-get install mosquitto openssl"
# The loopback addresses 127.0.0.<first>-<last> the brokers may take; several runners side by side (parallel
# test workers, say) each given a range of their own never pick the same address.
ADDRESSES_ENV = "LOCALEDGE_BROKER_ADDRESSES"
LOG_LINE_LIMIT = 4096  # longest broker log line read at once
DROP_WARNING_EVERY_S = 60.0  # a module's broker dropping its messages is logged at most this often

_CONNECTED = re.compile(r"^New client connected from \S+ as (?P<id>\S+) \(")
_DISCONNECTED = re.compile(r"^(?:Client (?P<a>\S+) (?:disconnected|closed its connection|has exceeded timeout|been disconnected)"
                           r"|Socket error on client (?P<b>\S+), disconnecting)")
_SUBSCRIBED = re.compile(r"^(?P<id>\S+) [0-2] (?P<topic>\S+)$")

Frame = dict[str, Any]


class MqttEdgeHub:
    """edgeHub over MQTT for the runner's modules: one mosquitto (TLS) per module, translated to ``bus``.

    ``folder``: a private folder for the CA, certificates, keys and broker configuration (made 0700).
    Call :meth:`environment` for each module (before or after :meth:`start`) and give the module
    process those variables (and not the bus's ``LOCALEDGE_*`` ones); :meth:`stop` at the end.
    Linux only (addresses 127.0.0.2-254 are loopback there). Brokers get SIGTERM when the thread that
    started them ends (as modules do, :func:`localedge.runner.supervisor._terminate_with`), so call
    :meth:`start`, and :meth:`environment` after it, from the runner's main thread.
    """

    def __init__(self, bus: Bus, folder: Path, address_for: Callable[[str], str] | None = None) -> None:
        self.bus = bus
        self.folder = folder
        self._address_for = address_for  # module -> the address its broker listens on (default: 127.0.0.<n>)
        self._modules: dict[str, _ModuleBroker] = {}
        self._lock = threading.Lock()
        self._started = False
        self._ca: tuple[Path, Path] | None = None  # (certificate, key)

    @property
    def ca_certificate(self) -> Path:
        """The CA certificate (PEM) modules trust: ``EdgeModuleCACertificateFile``."""
        return self.folder / "ca.pem"

    def environment(self, module: str) -> dict[str, str]:
        """Variables the module process needs: ``EdgeHubConnectionString`` (HostName, DeviceId, ModuleId,
        a random SharedAccessKey, GatewayHostName) and ``EdgeModuleCACertificateFile``.

        Gives the module its own address (127.0.0.<n>); after :meth:`start` its broker starts at once.
        Raises RuntimeError when no loopback address has port 8883 free, or (after start) as start does.
        """
        address, key = self.endpoint(module)
        connection = (f"HostName={HOST_NAME};DeviceId={DEVICE_ID};ModuleId={module};"
                      f"SharedAccessKey={key};GatewayHostName={address}")
        return {"EdgeHubConnectionString": connection, "EdgeModuleCACertificateFile": str(self.ca_certificate)}

    def endpoint(self, module: str) -> tuple[str, str]:
        """(address of the module's broker, the module's SharedAccessKey, base64), registering the module
        as :meth:`environment` does; raises RuntimeError as it does."""
        with self._lock:
            broker = self._modules.get(module)
            if broker is None:
                address = self._address_for(module) if self._address_for is not None else self._free_address()
                broker = _ModuleBroker(self.bus, module, self.folder / "modules" / _safe(module), address)
                if self._started:
                    assert self._ca is not None
                    broker.start(*self._ca)  # raises RuntimeError; the module is then not registered
                self._modules[module] = broker
        return broker.address, broker.key

    def start(self) -> None:
        """Make the CA, then start each module's broker and the runner's client on it.

        Raises RuntimeError with one line when mosquitto or openssl is missing, a broker does not
        start (its last log line says why) or the runner's client cannot subscribe on it.
        """
        missing = [tool for tool in ("mosquitto", "openssl") if shutil.which(tool) is None]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise RuntimeError(f"--transport mqtt needs {' and '.join(missing)}, which {verb} not installed: {INSTALL_HINT}")
        with self._lock:
            if self._started:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            self.folder.chmod(0o700)
            self._ca = _make_ca(self.folder)
            self._started = True
            brokers = list(self._modules.values())
            try:
                for broker in brokers:
                    broker.start(*self._ca)
            except BaseException:
                self._started = False
                self._stop(brokers)  # nothing left running, no key left behind
                raise

    def stop(self) -> None:
        """Stop the runner's clients and the brokers (modules are detached from the bus), delete the keys."""
        with self._lock:
            brokers = list(self._modules.values())
            self._started = False
        self._stop(brokers)

    def _stop(self, brokers: list[_ModuleBroker]) -> None:
        for broker in brokers:
            broker.stop()
        for key in [self.folder / "ca.key", *(b.folder / "server.key" for b in brokers)]:
            key.unlink(missing_ok=True)

    def watch(self) -> list[str]:
        """Start again each module's broker that exited (a crash, SIGKILL); returns those modules. Call
        periodically from the runner's main thread (a broker gets SIGTERM when the thread that started it ends)."""
        with self._lock:
            brokers = list(self._modules.values()) if self._started else []
        return [broker.module for broker in brokers if broker.restart_if_exited()]

    def connected(self, module: str) -> bool:
        """True while ``module``'s SDK client is connected to its broker."""
        broker = self._modules.get(module)
        return broker is not None and broker.link is not None

    def _free_address(self) -> str:
        used = {b.address for b in self._modules.values()}
        low, high = address_range(os.environ.get(ADDRESSES_ENV, ""))
        first = random.randint(low, high)
        for n in [*range(first, high + 1), *range(low, first)]:
            address = f"127.0.0.{n}"
            if address not in used and _port_free(address, TLS_PORT):
                return address
        raise RuntimeError(f"no loopback address 127.0.0.{low}-{high} has port {TLS_PORT} free for a module's broker "
                           f"(is another MQTT broker listening on port {TLS_PORT} on every address?)")


def address_range(text: str) -> tuple[int, int]:
    """The last bytes (first, last) of the loopback addresses brokers may take: ``LOCALEDGE_BROKER_ADDRESSES``
    as ``127.0.0.2-127.0.0.60``; empty: 2-254. Raises RuntimeError naming the variable when it is not such
    a range within 127.0.0.2-254."""
    if not text.strip():
        return 2, 254
    match = re.fullmatch(r"\s*127\.0\.0\.(\d{1,3})\s*-\s*127\.0\.0\.(\d{1,3})\s*", text)
    low, high = (int(match[1]), int(match[2])) if match else (0, 0)
    if not 2 <= low <= high <= 254:
        raise RuntimeError(f"{ADDRESSES_ENV}={text[:40]!r}: write a range of loopback addresses within "
                           f"127.0.0.2-254, e.g. 127.0.0.2-127.0.0.60")
    return low, high


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"openssl {args[0]} failed: {last}")


def _make_ca(folder: Path) -> tuple[Path, Path]:
    """A CA for this run (EC P-256, valid 2 days): (certificate, key)."""
    cert, key = folder / "ca.pem", folder / "ca.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localedge edgeHub CA")
    key.chmod(0o600)
    return cert, key


def _make_server_certificate(folder: Path, address: str, ca: Path, ca_key: Path) -> tuple[Path, Path]:
    """A server certificate for ``address`` and localhost, signed by the CA: (certificate, key)."""
    cert, key, csr, ext = (folder / n for n in ("server.pem", "server.key", "server.csr", "san.ext"))
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
             "-out", str(csr), "-subj", "/CN=localhost")
    key.chmod(0o600)
    ext.write_text(f"subjectAltName=DNS:localhost,IP:{address}\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-CAserial", str(folder / "ca.srl"), "-out", str(cert), "-days", "2", "-extfile", str(ext))
    csr.unlink()
    return cert, key


def _properties(text: str) -> Iterator[tuple[str, str]]:
    """``k=v&k2=v2`` as IoT Hub's MQTT topics carry them (percent-encoded, ``+`` kept): (key, value) pairs."""
    for pair in text.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            yield unquote(key), unquote(value)


def _encode_properties(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _query(topic: str) -> dict[str, str]:
    return dict(_properties(topic.partition("?")[2]))


class _Connection:
    """One connection of a module's SDK client; :attr:`send` is its link to the bus (``Bus.attach``)."""

    def __init__(self, broker: _ModuleBroker) -> None:
        self.broker = broker
        self.gone = False
        self.inputs_subscribed = False
        self.desired_subscribed = False
        self.methods_subscribed = False
        self.held_desired: deque[Frame] = deque(maxlen=HELD_DESIRED)
        self.lock = threading.Lock()
        self.send: Callable[[Frame], None] = self._send  # one object, so that Bus.detach recognises it

    def _send(self, frame: Frame) -> None:
        """A bus frame for the module, published on its topic; raises OSError once the module is gone
        (or its broker is: the runner's client is not connected), and the bus then holds inputs."""
        if self.gone:
            raise OSError(f"{self.broker.module} is not connected")
        op = frame.get("op")
        if op == "desired":
            with self.lock:
                if not self.desired_subscribed:
                    self.held_desired.append(frame)
                    return
        elif op == "method" and not self.methods_subscribed:
            self.broker.answer_later(frame.get("rid"), 404, {"error": f"{self.broker.module} has not subscribed to "
                                                                      "direct methods (no method handler set)"})
            return
        self.broker.publish_frame(frame)

    def subscribed(self, topic: str) -> None:
        broker = self.broker
        if topic == f"devices/{DEVICE_ID}/modules/{broker.module}/inputs/#":
            if not self.inputs_subscribed:
                self.inputs_subscribed = True
                broker.bus.handle(broker.module, {"op": "subscribe"})
        elif topic == "$iothub/twin/PATCH/properties/desired/#":
            with self.lock:
                self.desired_subscribed = True
                held = list(self.held_desired)
                self.held_desired.clear()
            for frame in held:
                broker.publish_frame(frame)
        elif topic == "$iothub/methods/POST/#":
            self.methods_subscribed = True


class _ModuleBroker:
    """One module's mosquitto, the runner's client on its plain listener, and the module's link to the bus."""

    def __init__(self, bus: Bus, module: str, folder: Path, address: str) -> None:
        self.bus = bus
        self.module = module
        self.folder = folder
        self.address = address
        self.key = base64.b64encode(os.urandom(32)).decode("ascii")  # random per run; mosquitto cannot check it
        self.client_id = f"{DEVICE_ID}/{module}"
        self.plain_port = 0
        self.link: _Connection | None = None
        self._link_changed = threading.Condition()
        self._process: subprocess.Popen[bytes] | None = None
        self._config: Path | None = None
        self._log_reader: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._ready = threading.Event()  # the runner's client is subscribed
        self._stopping = False
        self._log_tail: deque[str] = deque(maxlen=5)
        self._next_drop_warning = 0.0
        self.dropped = 0  # messages for the module the runner's client could not queue (TRANSIT_LIMIT)
        self._twin_rids: OrderedDict[int, str] = OrderedDict()  # bus rid -> the SDK's $rid
        self._next_rid = 0
        self._rid_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, ca: Path, ca_key: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        cert, key = _make_server_certificate(self.folder, self.address, ca, ca_key)
        self.plain_port = free_port()
        config = self.folder / "mosquitto.conf"
        config.write_text(
            f"user {getpass.getuser()}\n"  # as root mosquitto would switch to its own user, who cannot read the key
            "per_listener_settings false\nallow_anonymous true\nset_tcp_nodelay true\n"
            # what it accepted and has not handed to the runner's client survives a crash and restart: saved on
            # every change, as edgeHub stores before it acknowledges
            f"persistence true\npersistence_location {self.folder}/\nautosave_interval 1\nautosave_on_changes true\n"
            f"max_queued_messages {QUEUE_LIMIT}\nmax_packet_size {MAX_PACKET_BYTES}\n"
            "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type subscribe\n"
            "connection_messages true\nlog_timestamp false\n"
            f"listener {TLS_PORT} {self.address}\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
            f"listener {self.plain_port} 127.0.0.1\n",
            encoding="utf-8",
        )
        self._config = config
        self._launch()
        self._connect_client()

    def _launch(self) -> None:
        """Start mosquitto with the broker's configuration, and the thread that reads its log."""
        self._process = subprocess.Popen(  # SIGTERM when the runner dies, even by kill -9, as its modules get
            ["mosquitto", "-c", str(self._config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=functools.partial(_terminate_with, os.getpid()) if _LIBC is not None else None)
        assert self._process.stderr is not None
        self._log_reader = threading.Thread(target=self._read_log, args=(self._process.stderr,),
                                            name=f"mqtt-log-{self.module}", daemon=True)
        self._log_reader.start()

    def restart_if_exited(self) -> bool:
        """Start mosquitto again, on the same addresses, certificate and configuration, when it exited without
        being stopped (as edgeHub comes back after a crash): the runner's client reconnects by itself, and the
        module's SDK reconnects and delivers what its outbox held. True when it was restarted."""
        process = self._process
        if self._stopping or process is None or process.poll() is None:
            return False
        if self._log_reader is not None:
            self._log_reader.join(2.0)  # its last lines first (and the link detached)
        logger.warning("%s: its mosquitto exited (code %s); starting it again", self.module, process.returncode)
        self._launch()
        return True

    def _connect_client(self) -> None:
        client = mqtt.Client(client_id=RUNNER_CLIENT_ID, clean_session=False)  # its queue survives a broker restart
        client.max_queued_messages_set(TRANSIT_LIMIT)
        client.max_inflight_messages_set(100)
        client.reconnect_delay_set(0.1, 2)
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_: self._ready.set()
        client.on_message = self._on_message
        self._client = client
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                if self._log_reader is not None:
                    self._log_reader.join(1.0)  # its last lines say why
                self.stop()
                raise RuntimeError(f"mosquitto for {self.module} on {self.address}:{TLS_PORT} exited: {self._last_log()}")
            try:
                client.connect("127.0.0.1", self.plain_port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mosquitto for {self.module} did not accept connections: {self._last_log()}") from None
                time.sleep(0.05)  # mosquitto is still opening its listeners
        client.loop_start()
        if not self._ready.wait(max(deadline - time.monotonic(), 1.0)):
            self.stop()
            raise RuntimeError(f"the runner could not subscribe on the broker for {self.module}: {self._last_log()}")

    def _last_log(self) -> str:
        return " / ".join(self._log_tail) or "no log"

    def stop(self) -> None:
        self._stopping = True
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self._set_link(None)

    # -- the broker's log: who is connected and subscribed ---------------------------------------------

    def _read_log(self, stream: IO[bytes]) -> None:
        try:
            while True:
                raw = stream.readline(LOG_LINE_LIMIT)
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip()
                try:
                    self._log_event(line)
                except Exception:  # noqa: BLE001 - the log reader must go on, or modules would never be attached
                    logger.exception("%s: could not handle the broker's log line", self.module)
        finally:
            stream.close()
        if not self._stopping and self._ready.is_set():  # a broker that fails to start is start()'s error
            logger.error("%s: its mosquitto exited (%s)", self.module, self._last_log())
            self._set_link(None)

    def _log_event(self, line: str) -> None:
        connected = _CONNECTED.match(line)
        if connected:
            if connected["id"] == self.client_id:
                self._set_link(_Connection(self))
                logger.debug("%s connected over MQTT", self.module)
            return
        gone = _DISCONNECTED.match(line)
        if gone:
            if (gone["a"] or gone["b"]) == self.client_id:
                self._set_link(None)
                logger.debug("%s disconnected", self.module)
            return
        subscribed = _SUBSCRIBED.match(line)
        if subscribed:
            link = self.link
            if subscribed["id"] == self.client_id and link is not None:
                link.subscribed(subscribed["topic"])
            return
        if line.startswith("Outgoing messages are being dropped") and time.monotonic() >= self._next_drop_warning:
            self._next_drop_warning = time.monotonic() + DROP_WARNING_EVERY_S
            logger.warning("%s is not taking its messages: its broker holds %d and drops newer ones until it catches up",
                           self.module, QUEUE_LIMIT)
        if "should not be run as root" not in line:  # we run it as the user the runner runs as
            self._log_tail.append(line[:300])

    def _set_link(self, link: _Connection | None) -> None:
        with self._link_changed:
            old, self.link = self.link, link
            self._link_changed.notify_all()
        if old is not None:
            old.gone = True
            self.bus.detach(self.module, old.send)
        if link is not None:
            self.bus.attach(self.module, link.send)

    def _current_link(self) -> _Connection | None:
        """The module's connection; a message can overtake the log line announcing it, so wait a little."""
        with self._link_changed:
            self._link_changed.wait_for(lambda: self.link is not None, ATTACH_WAIT_S)
            return self.link

    # -- MQTT: module -> bus ---------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, rc: int) -> None:
        if rc != 0:
            logger.warning("%s: the runner's client was refused by its broker (rc %s)", self.module, rc)
            return
        client.subscribe([(f"devices/{DEVICE_ID}/modules/{self.module}/messages/events/#", 1),
                          ("$iothub/twin/GET/#", 1), ("$iothub/twin/PATCH/properties/reported/#", 1),
                          ("$iothub/methods/res/#", 1)])

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self._translate(message.topic, bytes(message.payload))
        except Exception:  # noqa: BLE001 - nothing a module sends may stop the runner's client
            logger.warning("%s: could not handle a message on %.120s", self.module, message.topic, exc_info=True)

    def _translate(self, topic: str, payload: bytes) -> None:
        events = f"devices/{DEVICE_ID}/modules/{self.module}/messages/events/"
        if topic.startswith(events):
            self._current_link()
            self._output(topic[len(events):], payload)
        elif topic.startswith("$iothub/twin/GET/"):
            sdk_rid = _query(topic).get("$rid")
            if sdk_rid is None:
                logger.warning("%s: a twin request without $rid", self.module)
                return
            self._current_link()
            with self._rid_lock:
                self._next_rid += 1
                rid = self._next_rid
                self._twin_rids[rid] = sdk_rid
                while len(self._twin_rids) > PENDING_LIMIT:
                    self._twin_rids.popitem(last=False)
            self.bus.handle(self.module, {"op": "get_twin", "rid": rid})
        elif topic.startswith("$iothub/twin/PATCH/properties/reported/"):
            self._reported(_query(topic).get("$rid", ""), payload)
        elif topic.startswith("$iothub/methods/res/"):
            self._method_result(topic, payload)
        else:
            logger.warning("%s: a message on a topic edgeHub does not serve: %.120s", self.module, topic)

    def _output(self, encoded: str, payload: bytes) -> None:
        output = ""
        content_type = content_encoding = ""
        properties: dict[str, str] = {}
        for key, value in _properties(encoded):
            if key == "$.on":
                output = value
            elif key == "$.ct":
                content_type = value
            elif key == "$.ce":
                content_encoding = value
            elif not key.startswith("$."):
                properties[key] = value
        self.bus.handle(self.module, {"op": "send", "output": output, "body": wire.encode_body(payload),
                                      "properties": properties, "contentType": content_type,
                                      "contentEncoding": content_encoding})

    def _reported(self, sdk_rid: str, payload: bytes) -> None:
        try:
            patch = json.loads(payload.decode("utf-8"))
        except ValueError:
            patch = None
        if not isinstance(patch, dict):
            logger.warning("%s: a reported-properties patch that is not a JSON object; answered 400", self.module)
            self._publish(f"$iothub/twin/res/400/?$rid={quote(sdk_rid, safe='')}", b"")
            return
        self._current_link()
        self.bus.handle(self.module, {"op": "report", "patch": patch})
        version = self.bus.twin(self.module)[1].get("$version", 1)
        self._publish(f"$iothub/twin/res/204/?$rid={quote(sdk_rid, safe='')}&$version={version}", b"")

    def _method_result(self, topic: str, payload: bytes) -> None:
        status_text = topic[len("$iothub/methods/res/"):].partition("/")[0]
        rid_text = _query(topic).get("$rid", "")
        if not (status_text.isdecimal() and rid_text.isdecimal()):
            logger.warning("%s: a direct-method answer without a numeric status and $rid", self.module)
            return
        body: Any
        try:
            body = json.loads(payload.decode("utf-8")) if payload else None
        except ValueError:
            body = {"error": "the module answered with a payload that is not JSON"}
        self.bus.handle(self.module, {"op": "method_result", "rid": int(rid_text), "status": int(status_text),
                                      "payload": body})

    def answer_later(self, rid: Any, status: int, payload: Any) -> None:
        """A ``method_result`` for the bus from a thread of its own (``send`` runs under the bus's lock)."""
        frame = {"op": "method_result", "rid": rid, "status": status, "payload": payload}
        threading.Thread(target=self.bus.handle, args=(self.module, frame), name="mqtt-method-answer",
                         daemon=True).start()

    # -- MQTT: bus -> module ---------------------------------------------------------------------------

    def publish_frame(self, frame: Frame) -> None:
        """Publish a bus frame on the module's topic (see the module docstring); raises OSError when the
        runner's client is not connected to the broker (a full queue drops the message, logged)."""
        op = frame.get("op")
        if op == "input":
            pairs = [("$.ct", str(frame["contentType"]))] if frame.get("contentType") else []
            if frame.get("contentEncoding"):
                pairs.append(("$.ce", str(frame["contentEncoding"])))
            elif frame.get("contentType") == "application/json":
                pairs.append(("$.ce", "utf-8"))  # what modules send; routes keep the body as it was
            pairs += sorted((str(k), str(v)) for k, v in (frame.get("properties") or {}).items())
            topic = (f"devices/{DEVICE_ID}/modules/{self.module}/inputs/{quote(str(frame['input']), safe='')}/"
                     f"{_encode_properties(pairs)}")
            self._publish(topic, wire.decode_body(frame["body"]))
        elif op == "twin":
            with self._rid_lock:
                sdk_rid = self._twin_rids.pop(int(frame["rid"]), None)
            if sdk_rid is None:
                return  # asked on a connection that is gone, or forgotten past PENDING_LIMIT
            document = {"desired": frame.get("desired") or {}, "reported": frame.get("reported") or {}}
            self._publish(f"$iothub/twin/res/200/?$rid={quote(sdk_rid, safe='')}", json.dumps(document).encode())
        elif op == "desired":
            patch = dict(frame.get("patch") or {})
            version = int(patch.get("$version", 0))
            self._publish(f"$iothub/twin/PATCH/properties/desired/?$version={version}", json.dumps(patch).encode())
        elif op == "method":
            name = quote(str(frame["name"]), safe="")
            self._publish(f"$iothub/methods/POST/{name}/?$rid={int(frame['rid'])}",
                          json.dumps(frame.get("payload")).encode())
        else:
            logger.warning("%s: the bus sent a frame this transport does not know (%r)", self.module, op)

    def _publish(self, topic: str, payload: bytes) -> None:
        client = self._client
        if client is None or not client.is_connected():
            raise OSError(f"the runner's MQTT client for {self.module} is not connected")
        info = client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # dropped, as the broker drops past QUEUE_LIMIT: the link is up
            self.dropped += 1
            if time.monotonic() >= self._next_drop_warning:
                self._next_drop_warning = time.monotonic() + DROP_WARNING_EVERY_S
                logger.warning("%s: its broker is not taking messages (%d waiting); dropping new ones (%d so far)",
                               self.module, TRANSIT_LIMIT, self.dropped)
            return
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise OSError(f"publishing to {self.module} failed: {mqtt.error_string(info.rc)}")
