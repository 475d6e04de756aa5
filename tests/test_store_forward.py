"""The runner's bus as edgeHub: store and forward of $upstream messages (route priority and time-to-live),
unrouted messages dropped and counted, $outputName, twin change notifications, and direct methods with
their 404/504/429 answers. Real modules' hub clients (edgekit.local_hub.LocalHub) over the real wire."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import pytest

from conftest import read_jsonl, wait_for
from edgekit import wire
from edgekit.local_hub import LocalHub
from localedge.runner import bus as bus_module
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route


class Solution:
    """A bus with routes, and the modules' hubs connected to it."""

    def __init__(self, tmp_path: Path, routes: dict[str, Any], time_to_live_s: float = 7200.0) -> None:
        self.path = tmp_path / "upstream.jsonl"
        self.bus = Bus([parse_route(name, spec) for name, spec in routes.items()], {"A": {"threshold": 0.5}},
                       UpstreamSink(self.path, io.StringIO()), time_to_live_s=time_to_live_s)
        self.bus.start()
        self.hubs: list[LocalHub] = []

    def hub(self, module: str) -> LocalHub:
        hub = LocalHub.from_environment(self.bus.environment(module))
        self.hubs.append(hub)
        wait_for(lambda: self.bus.connected(module), 10)
        return hub

    def upstream(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path) if self.path.exists() else []

    def close(self) -> None:
        for hub in self.hubs:
            hub.close()
        self.bus.close()


@pytest.fixture
def solution(tmp_path: Path) -> Iterator[Any]:
    made: list[Solution] = []

    def make(routes: dict[str, Any], **kwargs: Any) -> Solution:
        made.append(Solution(tmp_path, routes, **kwargs))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_offline_upstream_keeps_messages_and_delivers_them_by_priority_then_in_order(solution) -> None:
    s = solution({"Low": {"route": "FROM /messages/modules/A/outputs/low INTO $upstream", "priority": 5},
                  "High": {"route": "FROM /messages/modules/A/outputs/high INTO $upstream", "priority": 0}})
    a = s.hub("A")
    s.bus.set_upstream_online(False)
    for n, output in enumerate(["low", "high", "low", "high"]):
        a.send(output, {"n": n})
    wait_for(lambda: s.bus.counters().upstream_queued == 4, 10)
    assert s.upstream() == []
    assert s.bus.set_upstream_online(True) == 4
    assert [(m["output"], m["body"]["n"]) for m in s.upstream()] == [("high", 1), ("high", 3), ("low", 0), ("low", 2)]
    a.send("low", {"n": 4})  # online again: straight through
    wait_for(lambda: len(s.upstream()) == 5, 10)
    counters = s.bus.counters()
    assert (counters.upstream_delivered, counters.upstream_queued, counters.upstream_expired) == (5, 0, 0)


def test_messages_older_than_their_time_to_live_expire_and_are_counted(solution) -> None:
    s = solution({"Short": {"route": "FROM /messages/modules/A/outputs/short INTO $upstream", "timeToLiveSecs": 1},
                  "Default": "FROM /messages/modules/A/outputs/default INTO $upstream"}, time_to_live_s=0.5)
    a = s.hub("A")
    s.bus.set_upstream_online(False)
    a.send("short", {"n": 1})
    a.send("default", {"n": 2})  # the manifest's storeAndForwardConfiguration.timeToLiveSecs (here 0.5 s)
    wait_for(lambda: s.bus.counters().upstream_expired == 2, 15)
    assert s.bus.set_upstream_online(True) == 0 and s.upstream() == []
    assert s.bus.counters().upstream_queued == 0


def test_the_offline_store_is_bounded(solution, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_module, "UPSTREAM_STORE_MAX", 3)
    s = solution({"Up": "FROM /messages/* INTO $upstream"})
    a = s.hub("A")
    s.bus.set_upstream_online(False)
    for n in range(5):
        a.send("out", {"n": n})
    wait_for(lambda: s.bus.counters().upstream_dropped == 2, 10)
    s.bus.set_upstream_online(True)
    assert [m["body"]["n"] for m in s.upstream()] == [2, 3, 4]  # the oldest were dropped


def test_a_message_no_route_takes_is_dropped_and_counted(solution) -> None:
    s = solution({"Alerts": "FROM /messages/* WHERE $outputName = 'alerts' INTO $upstream"})
    a = s.hub("A")
    a.send("alerts", {"n": 1})
    a.send("chatter", {"n": 2})
    wait_for(lambda: s.bus.counters().unrouted == 1 and s.bus.counters().routed == 1, 10)
    assert [(m["output"], m["body"]) for m in s.upstream()] == [("alerts", {"n": 1})]


def test_reported_property_changes_are_routed_from_twin_change_notifications(solution) -> None:
    s = solution({"Twin": "FROM /twinChangeNotifications INTO $upstream",
                  "Messages": "FROM /messages/modules/A/outputs/* INTO $upstream"})
    a = s.hub("A")
    a.report({"firmware": "1.2", "settings": {"threshold": 0.9}})
    wait_for(lambda: s.upstream(), 10)
    (change,) = s.upstream()
    assert change["module"] == "A" and change["body"] == {"firmware": "1.2", "settings": {"threshold": 0.9}}
    desired, reported = s.bus.twin("A")
    assert reported["firmware"] == "1.2" and reported["$version"] >= 2 and desired["$version"] == 1


def test_direct_methods_answer_as_iot_hub_does(solution, monkeypatch: pytest.MonkeyPatch) -> None:
    s = solution({})
    a = s.hub("A")
    a.set_method_handlers({"echo": lambda payload: {"got": payload}})
    assert s.bus.invoke("A", "echo", {"x": 1}, 10) == (200, {"got": {"x": 1}})
    status, payload = s.bus.invoke("A", "nope", None, 10)
    assert status == 404 and list(payload) == ["error"] and "nope" in payload["error"]
    assert s.bus.invoke("B", "echo", None, 10) == (404, {"error": "module B is not connected to the hub"})

    # A module that connects but never answers: the caller gets 504 when its timeout ends.
    env = s.bus.environment("Mute")
    host, _, port = env[wire.ADDRESS_ENV].rpartition(":")
    mute = Client((host, int(port)), authkey=bytes.fromhex(env[wire.AUTHKEY_ENV]))
    try:
        wire.write(mute, {"op": "hello", "module": "Mute"})
        wait_for(lambda: s.bus.connected("Mute"), 10)
        status, payload = s.bus.invoke("Mute", "ping", None, 0.3)
        assert status == 504 and list(payload) == ["error"]
        assert "did not answer method 'ping' within 0.3 s" in payload["error"]
        frame = wire.read(mute)  # what the module got: IoT Hub's method request
        assert (frame["op"], frame["name"], frame["payload"]) == ("method", "ping", None)

        # Pending invocations are bounded: past the limit a call is answered 429 at once.
        monkeypatch.setattr(bus_module, "MAX_PENDING_METHODS", 1)
        waiting = threading.Thread(target=s.bus.invoke, args=("Mute", "ping", None, 5.0), daemon=True)
        waiting.start()
        assert wire.read(mute)["name"] == "ping"  # that call is pending now
        status, payload = s.bus.invoke("A", "echo", None, 5.0)
        assert status == 429 and "already pending" in payload["error"]
    finally:
        mute.close()
    wait_for(lambda: not s.bus.connected("Mute"), 10)
    # every error answer is IoT Hub's JSON shape: an object with one "error" string (the 429 one checked here)
    assert list(payload) == ["error"] and isinstance(payload["error"], str)
    assert json.loads(json.dumps(payload)) == payload
