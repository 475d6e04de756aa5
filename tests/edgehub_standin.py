"""A stand-in for edgeHub built from a real MQTT broker, for exercising azure-iot-device here.

contract: docs/iotedge.md "Exercising the real SDK without Azure". One mosquitto per module
with a TLS listener on 127.0.0.<n>:8883 (the SDK always uses 8883) and a plain loopback listener
for the test's own paho client, which plays edgeHub: it reads module outputs, publishes inputs,
answers twin GET / reported PATCH, publishes desired patches and invokes direct methods. For outages the broker can be
stopped (SIGTERM or SIGKILL), frozen (SIGSTOP) and restarted on the same addresses; the test's
client keeps a persistent session, so nothing the module publishes meanwhile is missed.
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import os
import itertools
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import paho.mqtt.client as mqtt
from conftest import free_port, loopback_address, worker_addresses

DEVICE = "dev1"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@functools.cache
def session_certificates() -> tuple[Path, Path, Path]:
    """One CA and server certificate per test process (xdist worker), valid for every address of the
    worker's block (:func:`conftest.worker_addresses`) and localhost; returns (ca, cert, key)."""
    folder = Path(tempfile.mkdtemp(prefix="le-ca-", dir="/tmp"))
    atexit.register(shutil.rmtree, folder, True)
    low, high = worker_addresses()
    return make_certificates(folder, *(f"127.0.0.{n}" for n in range(low, high + 1)))


def make_certificates(folder: Path, *ips: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``ips`` (and localhost); returns (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
             "-days", "2", "-subj", "/CN=edgehub-standin-ca")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost," + ",".join(f"IP:{ip}" for ip in ips) + "\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", str(cert), "-days", "2", "-extfile", str(ext))
    key.chmod(0o644)  # mosquitto may drop to its own user
    return ca, cert, key


class EdgeHubStandIn:
    """mosquitto + a paho client acting as edgeHub for one module."""

    def __init__(self, folder: Path, module: str, *, refuse_credentials: bool = False) -> None:
        """refuse_credentials: the TLS listener refuses every client (``allow_anonymous false`` and an
        empty password file), as edgeHub does with a wrong key; the test's own listener stays open."""
        if shutil.which("mosquitto") is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto); .ci/run installs it")
        self.module = module
        self.ip = loopback_address()
        self.ca, cert, key = session_certificates()
        self.plain_port = free_port()
        passwords = folder / "passwords"
        passwords.write_text("")
        # per-listener settings: the TLS listener (the module's) may refuse clients while the plain one
        # (the test's) admits them. persistence (saved on every change) keeps sessions and queued QoS 1
        # messages over a restart, even after SIGKILL.
        module_auth = f"allow_anonymous false\npassword_file {passwords}\n" if refuse_credentials else "allow_anonymous true\n"
        self.config = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.config.write_text(
            f"per_listener_settings true\nset_tcp_nodelay true\nuser root\n"
            f"persistence true\npersistence_location {folder}/\nautosave_on_changes true\nautosave_interval 1\n"
            f"listener 8883 {self.ip}\n{module_auth}cafile {self.ca}\ncertfile {cert}\nkeyfile {key}\n"
            f"listener {self.plain_port} 127.0.0.1\nallow_anonymous true\n"
        )
        self.broker: subprocess.Popen[bytes] | None = None
        self.start_broker()
        self.events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.desired: dict[str, Any] = {"$version": 1}
        self.reported: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self._rids = itertools.count(1)
        self._method_answers: dict[str, queue.Queue[tuple[int, Any]]] = {}
        # A persistent session (clean_session False): mosquitto keeps its subscriptions and queues what
        # the module publishes while this client reconnects after a broker restart.
        self.client = mqtt.Client(client_id=f"edgehub-standin-{self.plain_port}", clean_session=False)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        for _ in range(50):
            try:
                self.client.connect("127.0.0.1", self.plain_port)
                break
            except OSError:
                time.sleep(0.1)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("the stand-in could not subscribe on its own broker")

    def start_broker(self) -> None:
        """Start mosquitto (again) on the same addresses and ports; returns once it accepts connections."""
        with self.log.open("ab") as log:  # a file, not a pipe nobody reads (a full pipe would stall mosquitto)
            self.broker = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.plain_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop_broker(self, *, kill: bool = False) -> None:
        """Stop mosquitto, as an edgeHub restart does: SIGTERM (it closes every connection and saves its
        sessions) or, with ``kill``, SIGKILL (sessions and anything unacknowledged are lost)."""
        assert self.broker is not None
        self.subscribed.clear()
        if kill:
            self.broker.kill()
        else:
            self.broker.terminate()
        self.broker.wait(10)

    def freeze_broker(self) -> None:
        """Suspend mosquitto (SIGSTOP): connections stay open but nothing is answered; stop_broker(kill=True) ends it."""
        assert self.broker is not None
        os.kill(self.broker.pid, signal.SIGSTOP)

    def restart_broker(self) -> None:
        """Start the broker again and wait until the test's own client is back and subscribed."""
        self.start_broker()
        if not self.subscribed.wait(15):
            raise RuntimeError("the stand-in did not reconnect to its restarted broker")

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, rc: int) -> None:
        if rc != 0:
            return
        base = f"devices/{DEVICE}/modules/{self.module}"
        client.subscribe([(f"{base}/messages/events/#", 1), ("$iothub/twin/GET/#", 1),
                          ("$iothub/twin/PATCH/properties/reported/#", 1), ("$iothub/methods/res/#", 1)])

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int, _granted: Any) -> None:
        self.subscribed.set()

    @property
    def connection_string(self) -> str:
        unused_key = base64.b64encode(b"not checked by the stand-in").decode()  # the broker allows anonymous clients
        return (f"HostName=localhost;DeviceId={DEVICE};ModuleId={self.module};"
                f"SharedAccessKey={unused_key};GatewayHostName={self.ip}")

    def _on_message(self, _client: Any, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        if topic.startswith("$iothub/twin/GET/"):
            rid = dict(parse_qsl(topic.split("?", 1)[1]))["$rid"]
            body = json.dumps({"desired": self.desired, "reported": {"$version": 1}})
            self.client.publish(f"$iothub/twin/res/200/?$rid={rid}", body, qos=1)
        elif topic.startswith("$iothub/twin/PATCH/properties/reported/"):
            rid = dict(parse_qsl(topic.split("?", 1)[1]))["$rid"]
            self.reported.append(json.loads(msg.payload))
            self.client.publish(f"$iothub/twin/res/204/?$rid={rid}&$version={len(self.reported) + 1}", b"", qos=1)
        elif topic.startswith("$iothub/methods/res/"):
            status, query = topic[len("$iothub/methods/res/"):].split("/?", 1)
            answers = self._method_answers.get(dict(parse_qsl(query))["$rid"])
            if answers is not None:
                answers.put((int(status), json.loads(msg.payload or b"null")))
        else:
            self.events.put((topic, msg.payload))

    def invoke(self, method: str, payload: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
        """Invoke a direct method on the module as edgeHub does (``$iothub/methods/POST/{method}/?$rid=``);
        returns (status, payload) of its answer (``$iothub/methods/res/{status}/?$rid=``); TimeoutError
        when none comes within ``timeout`` seconds."""
        rid = f"{next(self._rids):x}"
        answers: queue.Queue[tuple[int, Any]] = queue.Queue()
        self._method_answers[rid] = answers
        try:
            self.client.publish(f"$iothub/methods/POST/{method}/?$rid={rid}", json.dumps(payload), qos=0)
            try:
                return answers.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no answer to direct method {method} within {timeout} s") from None
        finally:
            self._method_answers.pop(rid, None)

    def send_input(self, input_name: str, body: Any, properties: dict[str, str] | None = None) -> None:
        props = "&".join(f"{quote(k)}={quote(v)}" for k, v in (properties or {}).items())
        topic = f"devices/{DEVICE}/modules/{self.module}/inputs/{input_name}/{props}"
        self.client.publish(topic, json.dumps(body), qos=1)

    def patch_desired(self, patch: dict[str, Any]) -> None:
        version = int(self.desired["$version"]) + 1
        self.desired.update(patch)
        self.desired["$version"] = version
        self.client.publish(f"$iothub/twin/PATCH/properties/desired/?$version={version}",
                            json.dumps({**patch, "$version": version}), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        if self.broker is not None and self.broker.poll() is None:
            self.broker.kill()  # frozen or not
            self.broker.wait(5)
