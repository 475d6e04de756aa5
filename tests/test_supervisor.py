"""The runner's supervisor restarts modules as edgeAgent does: restart policies, crash-loop backoff that
resets after a stable run, on-unhealthy driven by a readiness probe; tiny real scripts play the modules."""

from __future__ import annotations

import functools
import io
import itertools
import logging
import os
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localedge.runner.run import http_ready
from localedge.runner.supervisor import LOG_LINES, ModuleProcess, Supervisor, cool_off_s, restart_wanted
from conftest import free_port

CRASH = "print('started', flush=True)\nraise SystemExit(3)\n"
CLEAN_EXIT = "print('started', flush=True)\n"
RUN_FOREVER = "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(1)\n"
# Crashes on its first two starts (counted in a file), then runs.
CRASH_TWICE = textwrap.dedent("""
    import os, pathlib, time
    counter = pathlib.Path(os.environ["COUNTER"])
    starts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(starts))
    print(f"start {starts}", flush=True)
    if starts <= 2:
        raise SystemExit(1)
    while True:
        time.sleep(1)
""")
# Serves /health/ready on PORT with the status READY_STATUS, logging each probe.
PROBED = textwrap.dedent("""
    import os
    from http.server import BaseHTTPRequestHandler, HTTPServer
    status = int(os.environ["READY_STATUS"])
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            print(f"probe {self.path} -> {status}", flush=True)
            self.send_response(status)
            self.end_headers()
        def log_message(self, *args):
            pass
    print("started", flush=True)
    HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
""")


def _script(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    made: list[Supervisor] = []

    def make(**timing: float) -> Supervisor:
        sup = Supervisor(io.StringIO(), tmp_path, **{"cool_off_s": 0.05, "max_cool_off_s": 0.2, "stable_s": 600.0,
                                                     "health_grace_s": 0.2, "health_interval_s": 0.1, **timing})
        made.append(sup)
        return sup

    yield make
    for sup in made:
        sup.stop_all()


def _drive(sup: Supervisor, condition: Callable[[], Any], timeout_s: float = 30.0) -> None:
    """Call watch() as the runner's main loop does until ``condition`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, [(m.name, m.status, m.restarts, m.exit_codes) for m in sup.modules]
        sup.watch()
        time.sleep(0.02)


def _starts(module: ModuleProcess) -> int:
    return sum(1 for line in module.log.lines() if line.text.startswith("start"))


def test_edge_agents_policy_order_decides_what_is_restarted() -> None:
    assert [p for p in ("never", "on-failure", "on-unhealthy", "always") if restart_wanted(p, "failure")] == [
        "on-failure", "on-unhealthy", "always"]
    assert [p for p in ("never", "on-failure", "on-unhealthy", "always") if restart_wanted(p, "unhealthy")] == [
        "on-unhealthy", "always"]
    assert [p for p in ("never", "on-failure", "on-unhealthy", "always") if restart_wanted(p, "exit")] == ["always"]


def test_a_crashed_module_is_restarted_under_on_failure_on_unhealthy_and_always(tmp_path: Path, supervisor) -> None:
    sup = supervisor()
    script = _script(tmp_path, "crash", CRASH)
    modules = {policy: sup.add(policy, script, dict(os.environ), policy) for policy in ("never", "on-failure", "on-unhealthy", "always")}
    sup.start_all()
    _drive(sup, lambda: all(modules[p].restarts >= 2 and _starts(modules[p]) >= 3 for p in ("on-failure", "on-unhealthy", "always"))
           and modules["never"].status == "failed" and _starts(modules["never"]) == 1)
    assert modules["never"].exit_codes == [3] and modules["never"].restarts == 0


def test_a_module_that_exits_cleanly_is_restarted_only_under_always(tmp_path: Path, supervisor) -> None:
    sup = supervisor()
    script = _script(tmp_path, "done", CLEAN_EXIT)
    modules = {policy: sup.add(policy, script, dict(os.environ), policy) for policy in ("never", "on-failure", "on-unhealthy", "always")}
    sup.start_all()
    _drive(sup, lambda: modules["always"].restarts >= 2 and all(
        modules[p].status == "stopped" and _starts(modules[p]) == 1 for p in ("never", "on-failure", "on-unhealthy")))
    assert [modules[p].restarts for p in ("never", "on-failure", "on-unhealthy")] == [0, 0, 0]


def test_crash_loop_backoff_doubles_up_to_its_cap(tmp_path: Path, supervisor, caplog: pytest.LogCaptureFixture) -> None:
    assert [cool_off_s(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]  # edgeAgent's: 10 s doubling to 5 min
    caplog.set_level(logging.INFO, "localedge.runner.supervisor")
    sup = supervisor(cool_off_s=0.05, max_cool_off_s=0.2)
    module = sup.add("Crasher", _script(tmp_path, "crash", CRASH), dict(os.environ), "always")
    sup.start_all()
    _drive(sup, lambda: module.restarts >= 5)
    delays = [r.getMessage().rsplit("restarting in ", 1)[1] for r in caplog.records if "restarting in" in r.getMessage()]
    assert delays[:5] == ["0.05 s", "0.1 s", "0.2 s", "0.2 s", "0.2 s"]


def test_the_restart_count_resets_once_a_module_has_run_stably(tmp_path: Path, supervisor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "localedge.runner.supervisor")
    sup = supervisor(stable_s=0.5)
    module = sup.add("Flaky", _script(tmp_path, "flaky", CRASH_TWICE), {**os.environ, "COUNTER": str(tmp_path / "n")}, "on-failure")
    sup.start_all()
    _drive(sup, lambda: module.restarts == 2 and module.status == "running")
    _drive(sup, lambda: module.restarts == 0)
    assert module.status == "running" and _starts(module) == 3
    assert any("has run stably" in r.getMessage() for r in caplog.records)


def test_on_unhealthy_restarts_a_running_module_whose_readiness_probe_fails(tmp_path: Path, supervisor,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "localedge.runner.supervisor")
    sup = supervisor()
    script = _script(tmp_path, "probed", PROBED)
    modules = {}
    for name, status, policy in (("Sick", 503, "on-unhealthy"), ("SickButOnFailure", 503, "on-failure"), ("Well", 200, "on-unhealthy")):
        port = free_port()
        health = functools.partial(http_ready, f"http://127.0.0.1:{port}/health/ready")
        modules[name] = sup.add(name, script, {**os.environ, "PORT": str(port), "READY_STATUS": str(status)}, policy, health=health)
    sup.start_all()
    first = modules["Sick"].process
    assert first is not None
    _drive(sup, lambda: modules["Sick"].restarts >= 1 and modules["Sick"].status == "running")
    assert modules["Sick"].process is not first and first.poll() is not None
    assert any("Sick is unhealthy" in r.getMessage() for r in caplog.records)
    probes = lambda m: sum(1 for line in m.log.lines() if line.text.startswith("probe /health/ready"))  # noqa: E731
    _drive(sup, lambda: probes(modules["Well"]) >= 5)  # a healthy module was probed again and again ...
    assert modules["Well"].restarts == 0 and _starts(modules["Well"]) == 1  # ... and left running
    assert modules["SickButOnFailure"].restarts == 0 and probes(modules["SickButOnFailure"]) == 0  # not its policy


def test_restart_starts_a_module_again_at_once_without_counting_a_crash(tmp_path: Path, supervisor) -> None:
    sup = supervisor(cool_off_s=60.0)
    running = sup.add("Runner", _script(tmp_path, "forever", RUN_FOREVER), dict(os.environ), "always")
    failed = sup.add("Failed", _script(tmp_path, "crash", CRASH), dict(os.environ), "never")
    sup.start_all()
    _drive(sup, lambda: failed.status == "failed" and _starts(running) == 1)
    first = running.process
    assert sup.restart("Runner") == "stopping and starting again"
    assert sup.restart("Failed") == "starting"
    _drive(sup, lambda: running.process is not first and _starts(running) == 2 and _starts(failed) == 2)
    assert running.restarts == 0 and _starts(running) == 2  # a 60 s cool-off would apply to a crash, not here
    with pytest.raises(KeyError):
        sup.restart("Nope")


def test_each_module_keeps_only_its_newest_log_lines(tmp_path: Path, supervisor) -> None:
    sup = supervisor()
    chatty = _script(tmp_path, "chatty", f"for i in range({LOG_LINES + 500}):\n    print(f'line {{i}}')\n" + RUN_FOREVER)
    module = sup.add("Chatty", chatty, dict(os.environ), "always")
    sup.start_all()
    _drive(sup, lambda: any(line.text == "started" for line in module.log.lines()))
    lines = module.log.lines()
    assert len(lines) == LOG_LINES and lines[-1].text == "started" and lines[0].text == "line 501"
    assert all(a.seq < b.seq and a.time <= b.time for a, b in itertools.pairwise(lines))
