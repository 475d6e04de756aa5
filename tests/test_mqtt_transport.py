"""``run --transport mqtt``: the runner's bus over mosquitto (TLS) to modules on the real azure-iot-device SDK.

A real :class:`Bus` and :class:`MqttEdgeHub` (real mosquitto, certificates made by openssl), the real
SenseHatDisplay process started with the hub's ``environment()`` (its unchanged ``IoTHubModuleClient``
from ``EdgeHubConnectionString``), and a second module, "Producer", that sends classifications through
edgekit's :class:`AzureHub` on the same SDK, as CameraCapture does. Routes: Producer's output to the
display's input and to ``$upstream``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from conftest import ROOT, read_jsonl, wait_for
from edgekit import wire
from edgekit.azure_hub import AzureHub
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.mqtt import MqttEdgeHub
from localedge.runner.routes import parse_route

DISPLAY = "SenseHatDisplay"
HUB_VARS = ("EdgeHubConnectionString", "EdgeModuleCACertificateFile")  # what MqttEdgeHub.environment() gives
HIDDEN_VARS = ("LOCALEDGE_", "IOTEDGE_", *HUB_VARS)  # not passed on from the test's own environment


def classification(tag: str) -> Classification:
    return Classification(tagName=tag, probability=0.9, predictions=[], captureTime=datetime.now(timezone.utc),
                          frameNumber=0, source="test")


@dataclass
class Solution:
    bus: Bus
    hub: MqttEdgeHub
    producer: AzureHub
    tmp: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_display(self) -> None:
        with (self.tmp / f"{DISPLAY}-{len(self.processes)}.log").open("wb") as log:
            self.processes.append(subprocess.Popen([sys.executable, "-u", str(ROOT / "modules" / DISPLAY / "main.py")],
                                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=self.env))

    @property
    def display(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def produce(self, tag: str) -> None:
        """Producer sends a classification of ``tag`` on its output, through the SDK and its broker."""
        message = classification(tag)
        self.producer.send(CLASSIFICATION_OUTPUT, json.loads(message.model_dump_json()), message.properties())

    def shown(self, tag: str) -> list[Path]:
        return sorted((self.tmp / "display").glob(f"*-{tag}.png"))

    def upstream_tags(self) -> list[str]:
        path = self.tmp / "upstream.jsonl"
        return [m["body"]["tagName"] for m in read_jsonl(path)] if path.exists() else []

    def reported(self) -> dict[str, Any]:
        return self.bus.twin(DISPLAY)[1]

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob(f"{DISPLAY}-*.log")))


@pytest.fixture()
def solution(tmp_path: Path) -> Iterator[Solution]:
    """Each test its own: brokers, bus (the display's brightness 0.6, desired version 1) and display process, which
    the tests change (a desired patch, SIGSTOP, terminate), so that none depends on another's run or order."""
    tmp = tmp_path
    routes = [parse_route("ToDisplay", "FROM /messages/modules/Producer/outputs/classification "
                                       f"INTO BrokeredEndpoint(\"/modules/{DISPLAY}/inputs/classification\")"),
              parse_route("ToUpstream", "FROM /messages/modules/Producer/outputs/classification INTO $upstream")]
    bus = Bus(routes, {DISPLAY: {"brightness": 0.6}}, UpstreamSink(tmp / "upstream.jsonl", io.StringIO()))
    hub = MqttEdgeHub(bus, tmp / "mqtt")
    display_env = hub.environment(DISPLAY)  # before start(), as the runner may ask
    hub.start()
    producer_env = hub.environment("Producer")  # after start(): its broker starts at once
    base = {k: v for k, v in os.environ.items() if not k.startswith(HIDDEN_VARS)}
    env = {**base, **display_env, "PYTHONPATH": str(ROOT), "METRICS_PORT": "0", "BACKEND": "virtual",
           "DISPLAY_SNAPSHOT_DIR": str(tmp / "display")}
    ca = Path(producer_env["EdgeModuleCACertificateFile"]).read_text()
    producer = AzureHub.from_connection_string(producer_env["EdgeHubConnectionString"], ca)
    solution = Solution(bus, hub, producer, tmp, env)
    try:
        solution.produce("Apple")  # before the display runs: the bus holds it until the display's SDK subscribed
        wait_for(lambda: solution.upstream_tags() == ["Apple"], 20)
        solution.start_display()
        wait_for(lambda: solution.shown("Apple"), 60)
        yield solution
    finally:
        producer.close(grace_s=1)
        for process in solution.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        hub.stop()
        bus.close()


def test_outputs_are_routed_and_an_input_sent_before_the_module_subscribed_is_delivered(solution: Solution) -> None:
    """Apple was sent before the display started: the bus held it and the display showed it (see the fixture)."""
    record = read_jsonl(solution.tmp / "upstream.jsonl")[0]
    assert record["module"] == "Producer" and record["output"] == CLASSIFICATION_OUTPUT
    assert record["properties"]["tagName"] == "Apple" and record["body"]["tagName"] == "Apple"
    assert solution.bus.connected(DISPLAY) and solution.hub.connected(DISPLAY)
    solution.produce("Banana")
    wait_for(lambda: solution.shown("Banana"), 20)
    wait_for(lambda: solution.reported().get("display", {}).get("tag") == "Banana", 20)  # reported over MQTT too


def test_twin_get_gives_the_desired_properties_and_reported_properties_reach_the_twin(solution: Solution) -> None:
    # the module reports its settings and its display in separate patches, each sent by the hub's report worker
    reported = wait_for(lambda: (r := solution.reported()).get("settings", {}).get("brightness") == 0.6
                        and "display" in r and r, 20)
    assert reported["desiredStatus"]["version"] == 1 and reported["$version"] > 1
    assert reported["display"]["backend"]


def test_a_desired_patch_is_applied_and_reported_back(solution: Solution) -> None:
    version = solution.bus.patch_desired(DISPLAY, {"brightness": 0.8})
    status = wait_for(lambda: (s := solution.reported().get("desiredStatus", {})).get("version") == version and s, 20)
    assert status["status"] == "applied" and solution.reported()["settings"]["brightness"] == 0.8

    version = solution.bus.patch_desired(DISPLAY, {"brightness": "high"})
    status = wait_for(lambda: (s := solution.reported().get("desiredStatus", {})).get("version") == version and s, 20)
    assert status["status"] == "refused" and "brightness" in status["refused"]
    assert solution.reported()["settings"]["brightness"] == 0.8


def test_direct_methods_round_trip_over_mqtt(solution: Solution) -> None:
    wait_for(lambda: solution.bus.invoke(DISPLAY, "show", {"tag": "Warmup"}, 10)[0] == 200, 30)
    status, payload = solution.bus.invoke(DISPLAY, "show", {"tag": "Kiwi"}, 10)
    assert status == 200 and payload["tag"] == "Kiwi", payload
    wait_for(lambda: solution.shown("Kiwi"), 20)

    status, payload = solution.bus.invoke(DISPLAY, "dance", None, 10)
    assert status == 404 and "dance" in payload["error"]
    status, payload = solution.bus.invoke(DISPLAY, "show", {"colour": "red"}, 10)
    assert status == 400 and payload["error"]
    status, payload = solution.bus.invoke(DISPLAY, "clear", None, 10)
    assert status == 200 and payload["state"] != "showing", payload

    status, payload = solution.bus.invoke("Producer", "show", {"tag": "Kiwi"}, 10)  # it set no method handler
    assert status == 404 and "direct methods" in payload["error"]


def test_malformed_mqtt_traffic_is_answered_or_dropped_and_routing_goes_on(solution: Solution) -> None:
    """A client on Producer's broker sends what no SDK would: the runner answers 400 where IoT Hub does,
    drops the rest, and keeps routing."""
    env = solution.hub.environment("Producer")
    gateway = dict(p.split("=", 1) for p in env["EdgeHubConnectionString"].split(";"))["GatewayHostName"]
    answers: queue.Queue[str] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(client_id="not-a-module", clean_session=True)
    client.tls_set(ca_certs=env["EdgeModuleCACertificateFile"])
    client.on_message = lambda _c, _u, message: answers.put(message.topic)
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(gateway, 8883)
    client.loop_start()
    unrouted = solution.bus.counters().unrouted
    try:
        client.subscribe("$iothub/twin/res/#", 1)
        assert subscribed.wait(10)
        for topic, payload in [("$iothub/twin/PATCH/properties/reported/?$rid=bad1", b"not json"),
                               ("$iothub/twin/GET/", b""), ("$iothub/methods/res/abc/?$rid=x", b"{"),
                               ("$iothub/methods/res/200/?$rid=999999", b"\xff"), ("$iothub/other", b""),
                               ("devices/local/modules/Producer/messages/events/%ZZ=%&&==", b"\x00" * 1000),
                               ("devices/local/modules/Producer/messages/events/$.on=junk", b"not json"),
                               ("$iothub/twin/PATCH/properties/reported/?$rid=bad2", b"[1, 2]")]:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
        assert answers.get(timeout=10) == "$iothub/twin/res/400/?$rid=bad1"
        assert answers.get(timeout=10) == "$iothub/twin/res/400/?$rid=bad2"
    finally:
        client.loop_stop()
        client.disconnect()
    wait_for(lambda: solution.bus.counters().unrouted == unrouted + 2, 10)  # no route takes them: dropped, counted
    solution.produce("Fig")
    wait_for(lambda: solution.shown("Fig"), 20)
    assert solution.upstream_tags()[-1] == "Fig"


def test_a_frozen_module_stalls_neither_the_runner_nor_other_routes(solution: Solution) -> None:
    """The display is stopped (SIGSTOP) while 2500 messages are routed to it: routing does not wait for it
    (every one reaches $upstream; the display's broker keeps at most 1000 for it and drops newer ones),
    and the display recovers: once it has taken those, new messages reach it again."""
    solution.display.send_signal(signal.SIGSTOP)
    try:
        before = len(solution.upstream_tags())
        message = classification("Flood")
        frame = {"op": "send", "output": CLASSIFICATION_OUTPUT, "properties": message.properties(),
                 "body": wire.encode_body(message.model_dump_json().encode()),
                 "contentType": "application/json", "contentEncoding": "utf-8"}
        for _ in range(2500):
            solution.bus.handle("Producer", frame)
        assert len(solution.upstream_tags()) == before + 2500
    finally:
        solution.display.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 60
    while not solution.shown("Cherry"):  # the broker drops new messages until the display has taken the 1000 held
        assert time.monotonic() < deadline and solution.display.poll() is None, solution.log()
        solution.produce("Cherry")
        time.sleep(0.5)
    assert solution.display.poll() is None, solution.log()


def test_a_restarted_module_gets_what_was_sent_while_it_was_down(solution: Solution) -> None:
    solution.display.terminate()
    assert solution.display.wait(20) == 0, solution.log()
    wait_for(lambda: not solution.bus.connected(DISPLAY), 20)
    status, payload = solution.bus.invoke(DISPLAY, "clear", None, 5)
    assert status == 404, payload

    solution.produce("Damson")
    wait_for(lambda: "Damson" in solution.upstream_tags(), 20)
    solution.start_display()
    wait_for(lambda: solution.shown("Damson"), 60)
    assert solution.bus.connected(DISPLAY)
    wait_for(lambda: solution.bus.invoke(DISPLAY, "show", {"tag": "Elder"}, 10)[0] == 200, 30)
    assert solution.hub.environment(DISPLAY) == {k: solution.env[k] for k in HUB_VARS}  # same identity


def test_environment_names_the_broker_and_keys_are_random_and_never_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bus = Bus([], {}, UpstreamSink(None, io.StringIO()))
    hub = MqttEdgeHub(bus, tmp_path / "mqtt")
    first, second = hub.environment("A"), hub.environment("B")
    hub.start()
    try:
        assert not any(k.startswith(("LOCALEDGE_", "IOTEDGE_")) for k in first)
        parts = [dict(p.split("=", 1) for p in env["EdgeHubConnectionString"].split(";")) for env in (first, second)]
        assert [p["ModuleId"] for p in parts] == ["A", "B"] and parts[0]["DeviceId"] == parts[1]["DeviceId"]
        assert parts[0]["SharedAccessKey"] != parts[1]["SharedAccessKey"]
        assert parts[0]["GatewayHostName"] != parts[1]["GatewayHostName"]
        assert Path(first["EdgeModuleCACertificateFile"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        client = AzureHub.from_connection_string(first["EdgeHubConnectionString"],
                                                 Path(first["EdgeModuleCACertificateFile"]).read_text())
        wait_for(lambda: bus.connected("A"), 10)
        client.close(grace_s=0)
        wait_for(lambda: not bus.connected("A"), 10)
    finally:
        hub.stop()
    assert not list((tmp_path / "mqtt").rglob("*.key"))  # the private keys are gone
    assert all(p["SharedAccessKey"] not in caplog.text for p in parts)


def test_without_mosquitto_start_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither mosquitto nor openssl on it
    hub = MqttEdgeHub(Bus([], {}, UpstreamSink(None, io.StringIO())), tmp_path / "mqtt")
    with pytest.raises(RuntimeError, match=r"needs mosquitto and openssl.*sudo apt-get install mosquitto openssl"):
        hub.start()


def test_a_broker_that_cannot_start_is_a_clear_error_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """Another program took the module's address:8883 between environment() and start()."""
    hub = MqttEdgeHub(Bus([], {}, UpstreamSink(None, io.StringIO())), tmp_path / "mqtt")
    env = hub.environment("A")
    gateway = dict(p.split("=", 1) for p in env["EdgeHubConnectionString"].split(";"))["GatewayHostName"]
    with socket.socket() as squatter:
        squatter.bind((gateway, 8883))
        squatter.listen()
        with pytest.raises(RuntimeError, match=r"mosquitto for A on .*:8883 exited: .*Address already in use"):
            hub.start()
    assert not list((tmp_path / "mqtt").rglob("*.key"))
    hub.stop()  # safe after a failed start


def test_brokers_take_addresses_only_from_the_range_given_and_a_bad_range_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """LOCALEDGE_BROKER_ADDRESSES keeps several runners side by side apart (each test worker has its own)."""
    monkeypatch.setenv("LOCALEDGE_BROKER_ADDRESSES", "127.0.0.241-127.0.0.243")
    hub = MqttEdgeHub(Bus([], {}, UpstreamSink(None, io.StringIO())), tmp_path / "mqtt")
    gateways = {dict(p.split("=", 1) for p in hub.environment(m)["EdgeHubConnectionString"].split(";"))["GatewayHostName"]
                for m in ("A", "B", "C")}
    assert gateways == {"127.0.0.241", "127.0.0.242", "127.0.0.243"}
    with pytest.raises(RuntimeError, match=r"no loopback address 127\.0\.0\.241-243 has port 8883 free"):
        hub.environment("D")  # three addresses, three modules: none left
    for bad in ("127.0.0.1-127.0.0.9", "127.0.0.9-127.0.0.5", "10.0.0.2-10.0.0.9", "2-9"):
        monkeypatch.setenv("LOCALEDGE_BROKER_ADDRESSES", bad)
        with pytest.raises(RuntimeError, match=r"LOCALEDGE_BROKER_ADDRESSES=.*write a range of loopback addresses"):
            MqttEdgeHub(Bus([], {}, UpstreamSink(None, io.StringIO())), tmp_path / "other").environment("A")
