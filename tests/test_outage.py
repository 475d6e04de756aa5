"""edgeHub outages: nothing sent is lost, connection errors are sorted, a module outlives no runner.

Real parts only: azure-iot-device's module client against a real mosquitto (tests/edgehub_standin.py)
that is stopped and restarted on the same address, and the local runner's real Bus.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, wait_for
from edgehub_standin import EdgeHubStandIn, make_certificates
from edgekit.azure_hub import AzureHub
from edgekit.hub import merge_patch
from localedge.runner.bus import Bus, UpstreamSink

# A module process: the real runtime frame; the body sends the numbers given in SEND and waits for SIGTERM.
MODULE = """
import os, sys
from edgekit.runtime import run_module
def body(hub, stop):
    for n in range(int(os.environ.get("SEND", "0"))):
        hub.send("numbers", {"n": n})
    hub.report({"up": True})
    stop.wait()
    return 0
sys.exit(run_module(body))
"""


@pytest.fixture()
def edgehub(tmp_path: Path) -> Iterator[EdgeHubStandIn]:
    standin = EdgeHubStandIn(tmp_path, "CameraCapture")
    yield standin
    standin.close()


def numbered(edgehub: EdgeHubStandIn) -> list[tuple[int, str]]:
    """The ``n`` and message id (``$.mid``, in the topic's property bag) of every message the stand-in has
    received so far (drained from its queue)."""
    got = []
    while not edgehub.events.empty():
        topic, payload = edgehub.events.get()
        got.append((json.loads(payload)["n"], urllib.parse.parse_qs(topic.rsplit("/", 1)[-1])["$.mid"][0]))
    return got


def numbers(edgehub: EdgeHubStandIn) -> list[int]:
    """The ``n`` of every message the stand-in has received so far (drained from its queue)."""
    return [n for n, _ in numbered(edgehub)]


def collect(edgehub: EdgeHubStandIn, received: list[tuple[int, str]], count: int, timeout_s: float) -> None:
    """Wait until ``received``, extended with every message arriving, holds at least ``count`` distinct ones."""

    def enough() -> bool:
        received.extend(numbered(edgehub))
        return len({mid for _, mid in received}) >= count

    wait_for(enough, timeout_s)


@pytest.mark.parametrize("outage_s", [5, 25])
def test_messages_and_reports_made_during_an_outage_arrive_after_it_once_and_in_order(
        edgehub: EdgeHubStandIn, outage_s: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    hub = AzureHub.from_connection_string(edgehub.connection_string, edgehub.ca.read_text())
    received: list[tuple[int, str]] = []
    try:
        for n in range(3):
            hub.send("numbers", {"n": n})
        collect(edgehub, received, 3, 10)
        # and acknowledged: a publish whose acknowledgement the outage cut off is sent again after it (QoS 1 is
        # at-least-once), which is not what this test is about
        wait_for(lambda: hub.outbox_status()["delivered"] == 3, 10)

        edgehub.stop_broker()
        during = 20
        for n in range(3, 3 + during):  # spread over the outage; each send returns at once
            hub.send("numbers", {"n": n})
            time.sleep(outage_s / during)
            if n == 5:
                hub.report({"outage": {"first": 1, "gone": "x"}})
            if n == 6:
                hub.report({"outage": {"second": 2, "gone": None}})
        assert hub.outbox_status()["delivered"] == 3
        edgehub.restart_broker()
        for n in range(3 + during, 6 + during):
            hub.send("numbers", {"n": n})

        total = 6 + during
        collect(edgehub, received, total, 40)
        assert hub.flush(10)
        hub.send("numbers", {"n": total})  # one more: a duplicate, had there been one, would have come before it
        collect(edgehub, received, total + 1, 10)
        # Every message, in order, once by its id. Both legs are MQTT QoS 1, at-least-once: a publish racing the
        # disconnect can come twice (paho keeps it for the reconnection while the SDK reports it failed, and the
        # outbox sends it again), and the stand-in's broker delivers again, after its restart, what its own
        # subscriber had not acknowledged when it stopped (seen: the 3 messages sent just before). A repeat carries
        # the same id, so a receiver can tell; it is never a new message, and no message comes more than twice.
        assert [n for n, _ in dict.fromkeys(received)] == list(range(total + 1))
        assert max(Counter(received).values()) <= 2, Counter(received).most_common(3)
        assert hub.flush(10) and hub.outbox_status() == {"queued": 0, "delivered": total + 1, "dropped": 0}
        # the two patches made during the outage arrive after it, merged into one
        assert edgehub.reported == [{"outage": {"first": 1, "gone": None, "second": 2}}]
    finally:
        hub.close()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("edgekit")]
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("edgekit") and r.levelno >= logging.WARNING]
    assert warnings == ["lost the connection to edgeHub; messages are held until it is back"]
    assert lines.count("connected to edgeHub") == 1
    assert lines.count("lost the connection to edgeHub; messages are held until it is back") == 1
    assert lines.count("reconnected to edgeHub") == 1


def _bytes_waiting_at_broker(edgehub: EdgeHubStandIn) -> int:
    """Bytes the kernel holds for the (frozen) broker on its module listener: what the module sent and it has not read."""
    address = "".join(f"{int(part):02X}" for part in reversed(edgehub.ip.split("."))) + ":22B3"  # :8883
    waiting = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == address and fields[3] == "01":  # an established connection to the listener
            waiting += int(fields[4].split(":")[1], 16)  # rx_queue
    return waiting


def test_a_message_in_flight_when_edgehub_dies_is_delivered_once_after_it(
        edgehub: EdgeHubStandIn, caplog: pytest.LogCaptureFixture) -> None:
    """The SDK keeps a publish that was not acknowledged and sends it again when it reconnects (by itself,
    10 s later); the outbox waits for that instead of sending it a second time."""
    caplog.set_level(logging.DEBUG, logger="azure.iot.device")
    hub = AzureHub.from_connection_string(edgehub.connection_string, edgehub.ca.read_text())
    try:
        edgehub.freeze_broker()
        for n in range(3):
            hub.send("numbers", {"n": n})  # 0 goes out and waits for an acknowledgement that never comes
        wait_for(lambda: _bytes_waiting_at_broker(edgehub) >= 100, 10)  # 0's publish reached the frozen broker
        edgehub.stop_broker(kill=True)
        # the SDK's immediate reconnection attempt failed: it reconnects by itself on its timer, 10 s later
        wait_for(lambda: "Reconnect failed. Starting reconnection timer" in caplog.text, 20)
        edgehub.restart_broker()
        assert hub.flush(40)
        hub.send("numbers", {"n": 3})  # one more: a duplicate, had there been one, would have come before it
        assert hub.flush(10)
    finally:
        hub.close()
    received: list[tuple[int, str]] = []
    collect(edgehub, received, 4, 10)
    assert [n for n, _ in received] == [0, 1, 2, 3]


def test_a_full_outbox_drops_the_oldest_waiting_messages_and_counts_them(edgehub: EdgeHubStandIn) -> None:
    hub = AzureHub.from_connection_string(edgehub.connection_string, edgehub.ca.read_text(), outbox_capacity=3)
    try:
        edgehub.stop_broker()
        for n in range(10):
            hub.send("numbers", {"n": n})
        status = hub.outbox_status()
        edgehub.restart_broker()
        assert hub.flush(30)
    finally:
        hub.close()
    # MQTT QoS 1 is at-least-once: a publish whose acknowledgement was lost as the broker came back may
    # arrive twice (edgeHub and IoT Hub allow it); what is counted here is each message that arrived
    # flushed: the broker acknowledged them; the test's own subscriber gets them a moment later
    arrived: list[int] = []
    wait_for(lambda: arrived.extend(numbers(edgehub)) or (arrived and arrived[-1] == 9), 10)
    received = list(dict.fromkeys(arrived))
    # 3 wait in the outbox, plus at most the one its worker holds while retrying; the older are dropped
    assert received[-3:] == [7, 8, 9] and received == sorted(received) and len(received) <= 4
    assert status["dropped"] == 10 - len(received) and status["queued"] == len(received)
    assert hub.outbox_status() == {"queued": 0, "delivered": len(received), "dropped": 10 - len(received)}


def test_merged_report_patches_keep_deletions_and_nested_keys() -> None:
    first = {"a": {"x": 1, "y": 2}, "b": 1, "c": None}
    assert merge_patch(first, {"a": {"y": None, "z": 3}, "b": None}) == {"a": {"x": 1, "y": None, "z": 3}, "b": None,
                                                                        "c": None}
    assert first == {"a": {"x": 1, "y": 2}, "b": 1, "c": None}  # not modified


def module_environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any hub variables, plus ``env``."""
    hub_variables = ("IOTEDGE_", "LOCALEDGE_", "EdgeHub", "EdgeModule")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(hub_variables)}, "PYTHONPATH": str(ROOT), **env}


def run_module_process(env: dict[str, str], timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", MODULE], env=module_environment(env), capture_output=True, text=True,
                          timeout=timeout_s)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "cannot start: " in errors[0] and expected in errors[0], result.stderr
    assert "SharedAccessKey=" not in result.stderr or "SharedAccessKey=***" in result.stderr


@pytest.mark.parametrize(("env", "expected"), [
    ({"EdgeHubConnectionString": "HostName=localhost;this is not a connection string",
      "EdgeModuleCACertificateFile": __file__}, "EdgeHubConnectionString needs"),
    ({"EdgeHubConnectionString": "HostName=localhost;DeviceId=dev1;SharedAccessKey=c2VjcmV0",
      "EdgeModuleCACertificateFile": __file__}, "EdgeHubConnectionString needs"),
    ({"IOTEDGE_WORKLOADURI": "unix:///var/run/iotedge/workload.sock"}, "IOTEDGE_"),
    ({"EdgeHubConnectionString": "HostName=localhost;DeviceId=dev1;ModuleId=m;SharedAccessKey=c2VjcmV0;GatewayHostName=x",
      "EdgeModuleCACertificateFile": "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"),
], ids=["malformed", "no-module-id", "missing-iotedge-variables", "no-ca-file"])
def test_a_configuration_error_stops_the_module_with_one_line_and_exit_code_2(env: dict[str, str], expected: str) -> None:
    assert_one_clear_line(run_module_process(env), expected)


def test_refused_credentials_stop_the_module_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    edgehub = EdgeHubStandIn(tmp_path, "CameraCapture", refuse_credentials=True)
    try:
        result = run_module_process({"EdgeHubConnectionString": edgehub.connection_string,
                                     "EdgeModuleCACertificateFile": str(edgehub.ca)})
    finally:
        edgehub.close()
    assert_one_clear_line(result, "refused this module's credentials")


def test_an_untrusted_edgehub_certificate_stops_the_module_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other_ca, _, _ = make_certificates(tmp_path / "other", "127.0.0.1")
    edgehub = EdgeHubStandIn(tmp_path, "CameraCapture")
    try:
        result = run_module_process({"EdgeHubConnectionString": edgehub.connection_string,
                                     "EdgeModuleCACertificateFile": str(other_ca)})
    finally:
        edgehub.close()
    assert_one_clear_line(result, "TLS certificate is not trusted")


def test_an_unreachable_edgehub_is_retried_and_logged_once(tmp_path: Path) -> None:
    edgehub = EdgeHubStandIn(tmp_path, "CameraCapture")
    edgehub.stop_broker()
    env = module_environment({"SEND": "3", "EdgeHubConnectionString": edgehub.connection_string,
                              "EdgeModuleCACertificateFile": str(edgehub.ca), "LOG_LEVEL": "DEBUG"})
    log = tmp_path / "module.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-c", MODULE], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        # three attempts (after about 0.5 and 1.5 s of backoff) failed before edgeHub is back
        wait_for(lambda: log.read_text().count("edgeHub does not answer yet") >= 3, 30)
        edgehub.restart_broker()
        wait_for(lambda: edgehub.reported, 40)
        received: list[tuple[int, str]] = []
        collect(edgehub, received, 3, 10)
    finally:
        process.terminate()
        process.wait(timeout=20)
        output = log.read_text()
        edgehub.close()
    assert process.returncode == 0, output
    assert [n for n, _ in received] == [0, 1, 2]
    attempts = [line for line in output.splitlines() if "edgeHub does not answer yet" in line]
    assert len(attempts) >= 2 and " WARNING " in attempts[0], output  # retried, said once
    assert all(" DEBUG " in line for line in attempts[1:]), output
    assert output.count(": connected to edgeHub") == 1 and "Traceback" not in output, output


def test_a_module_whose_local_runner_bus_closes_gets_sigterm_and_stops(tmp_path: Path) -> None:
    bus = Bus([], {"M": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    env = module_environment(bus.environment("M"))
    process = subprocess.Popen([sys.executable, "-c", MODULE], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: bus.reported["M"].get("up"), 20)
        bus.close()  # as when the runner is killed: the module's connection reaches EOF
        output = process.communicate(timeout=20)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "the local runner is gone" in output and "received SIGTERM, stopping" in output, output
    assert "Traceback" not in output, output
