"""``--transport mqtt``: a module's edgeHub stand-in (its mosquitto) killed with SIGKILL comes back, as edgeHub
does, and the module's SDK delivers what it sent meanwhile (issue 22: the broker-SIGKILL case, where 97 of 401
messages were lost because the broker never came back)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, read_jsonl, wait_for
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.mqtt import MqttEdgeHub
from localedge.runner.routes import parse_route

COUNT = 300
# A module process on the real runtime frame and SDK: sends COUNT numbers, one every 20 ms, then waits for SIGTERM.
SENDER = f"""
import sys, time
from edgekit.runtime import run_module
def body(hub, stop):
    for n in range({COUNT}):
        hub.send("numbers", {{"n": n}})
        if stop.wait(0.02):
            break
    stop.wait()
    return 0
sys.exit(run_module(body))
"""


def test_a_killed_broker_is_started_again_and_nothing_sent_is_lost(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream.jsonl"
    bus = Bus([parse_route("Up", "FROM /messages/modules/Counter/outputs/numbers INTO $upstream")], {},
              UpstreamSink(upstream, io.StringIO()))
    hub = MqttEdgeHub(bus, tmp_path / "mqtt")
    hub.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALEDGE_", "IOTEDGE_", "EdgeHub"))}
    with (tmp_path / "counter.log").open("wb") as log:
        module = subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**env, **hub.environment("Counter"), "PYTHONPATH": str(ROOT)})

    def received() -> list[int]:
        return [m["body"]["n"] for m in read_jsonl(upstream)] if upstream.exists() else []

    try:
        wait_for(lambda: len(received()) >= 30, 60)
        broker = hub._modules["Counter"]._process
        assert broker is not None
        os.kill(broker.pid, signal.SIGKILL)  # edgeHub crashes while the module sends
        broker.wait(10)
        wait_for(lambda: hub.watch() == ["Counter"], 10)  # the runner's loop calls watch(): started again
        restarted = hub._modules["Counter"]._process
        assert restarted is not None and restarted.pid != broker.pid and restarted.poll() is None

        def all_arrived() -> bool:
            assert module.poll() is None, (tmp_path / "counter.log").read_text()[-3000:]
            return set(received()) == set(range(COUNT))

        wait_for(all_arrived, 90)  # the SDK reconnects (every 10 s) and its outbox delivers, in order
        got = received()
        assert sorted(set(got)) == list(range(COUNT))
        firsts = [got.index(n) for n in range(COUNT)]
        assert firsts == sorted(firsts), "delivered out of order"
    finally:
        module.terminate()
        module.wait(15)
        hub.stop()
        bus.close()
