"""The device-like commands against a real runner: list, logs, restart, twin get/set, monitor, invoke and
upstream offline/online, each run as a user runs it (``python -m localedge ...`` in a second process),
and the runner's control endpoint under clients that misbehave."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, read_jsonl, wait_for
from localedge.runner.control import MAX_CONNECTIONS, MAX_REQUEST_BYTES

MODULES = ["ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"]


@dataclass
class Runner:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    state: Path
    upstream: Path
    audio: Path
    log: Path


def _cli(env: dict[str, str], *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localedge", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _popen(env: dict[str, str], *args: str, limit_s: float = 90.0) -> subprocess.Popen[str]:
    """A following command (logs -f, monitor); killed after ``limit_s`` so that a test waiting on it cannot hang."""
    process = subprocess.Popen([sys.executable, "-m", "localedge", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,  # Ctrl-C as in a terminal, even when the suite
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # runs in the background
    timer = threading.Timer(limit_s, process.kill)
    timer.daemon = True
    timer.start()
    return process


def _listing(env: dict[str, str]) -> dict[str, Any]:
    done = _cli(env, "list", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _all_up(env: dict[str, str]) -> bool:
    done = _cli(env, "list", "--json")
    if done.returncode != 0:
        return False
    modules = json.loads(done.stdout)["modules"]
    return len(modules) == 4 and all(m["status"] == "running" and m["connected"] for m in modules)


def _printed(runner: Runner, module: str) -> list[str]:
    """``module``'s lines as the runner printed them so far (its log: ``<module> | <line>``)."""
    return [line.split(" | ", 1)[1] for line in runner.log.read_text().splitlines() if line.startswith(module + " ")]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = tmp_path_factory.mktemp("runner")
    state = Path(tempfile.mkdtemp(prefix="le-", dir="/tmp"))  # short: a Unix socket path has at most 107 bytes
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(state)}
    log = folder / "runner.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localedge", "run", "--duration", "300", "--upstream", str(folder / "upstream.jsonl"),
             "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4", "--set", "CameraCapture.LOOP_VIDEO=true",
             "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={folder / 'audio'}",
             "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={folder / 'display'}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _all_up(env), 90)
        yield Runner(process, env, state, folder / "upstream.jsonl", folder / "audio", log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(state, ignore_errors=True)


def test_each_command_says_in_one_line_that_no_runner_runs(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path)}
    for args in (["list"], ["logs", "CameraCapture"], ["restart", "CameraCapture"], ["twin", "get", "CameraCapture"],
                 ["twin", "set", "CameraCapture", '{"threshold": 0.9}'], ["monitor"], ["invoke", "TextToSpeech", "say"],
                 ["upstream", "offline"], ["list", "--runner", "12345"]):
        done = _cli(env, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        lines = [line for line in done.stdout.splitlines() if not line.startswith("Starting event monitor")]
        assert len(lines) == 1 and "no local runner" in lines[0] and "python -m localedge run" in lines[0], (args, done.stdout)
        assert "Traceback" not in done.stderr


def test_bad_arguments_get_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path)}
    done = _cli(env, "twin", "set", "CameraCapture", "{threshold: 0.9}")
    assert done.returncode == 2 and "not JSON" in done.stderr
    done = _cli(env, "invoke", "TextToSpeech", "say", "--timeout", "0")
    assert done.returncode == 2 and "above 0, at most 300" in done.stderr
    done = _cli(env, "logs", "CameraCapture", "--since", "soon")
    assert done.returncode == 2 and "like 30s, 5m" in done.stderr


def test_the_control_socket_is_private_to_its_user(runner: Runner) -> None:
    state = json.loads(next(runner.state.glob("runner-*.json")).read_text())
    sock = Path(state["control"])
    assert sock.parent == runner.state and stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and stat.S_IMODE(runner.state.stat().st_mode) == 0o700


def test_list_shows_every_module_running_with_its_version_and_the_counters(runner: Runner) -> None:
    done = _cli(runner.env, "list")
    assert done.returncode == 0, done.stdout
    table = done.stdout.splitlines()
    assert table[0].split()[:5] == ["NAME", "STATUS", "UPTIME", "RESTARTS", "VERSION"]
    for name in MODULES:
        version = json.loads((ROOT / "modules" / name / "module.json").read_text())["image"]["tag"]["version"]
        row = next(line.split() for line in table if line.startswith(name + " "))
        assert row[1] == "running" and row[4] == version, row
    assert any(line.startswith("messages: ") and "unrouted (dropped)" in line for line in table)
    assert any(line.startswith("$upstream (online): ") and "queued" in line and "expired" in line for line in table)
    listing = _listing(runner.env)
    assert [m["name"] for m in listing["modules"]] == MODULES
    assert all(m["restarts"] == 0 and m["restart_policy"] == "always" for m in listing["modules"])


def test_logs_prints_a_modules_last_lines_and_follows_new_ones(runner: Runner) -> None:
    wait_for(lambda: _cli(runner.env, "logs", "CameraCapture").stdout.count("\n") >= 5, 30)
    done = _cli(runner.env, "logs", "CameraCapture", "--tail", "5")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    printed = _printed(runner, "CameraCapture")
    assert len(lines) == 5 and all(line in printed for line in lines)  # the camera's own lines, as the runner printed them
    everything = _cli(runner.env, "logs", "CameraCapture", "--since", "1h").stdout.splitlines()
    # the runner started minutes ago: --since 1h is every line the camera printed so far, in order, from its first
    # (the tail above among them, as one run); more lines may have come since, so `everything` is a prefix of them
    now = wait_for(lambda: (p := _printed(runner, "CameraCapture"))[:len(everything)] == everything and p, 10)
    assert len(now) >= len(everything) >= 5 and everything[0] == now[0]
    assert any(everything[i:i + 5] == lines for i in range(len(everything) - 4)), (lines, everything)
    assert _cli(runner.env, "logs", "CameraCapture", "--since", "0s").stdout == ""
    stamped = _cli(runner.env, "logs", "CameraCapture", "--tail", "1", "-t").stdout
    assert stamped[:4].isdigit() and "Z " in stamped
    follower = _popen(runner.env, "logs", "CameraCapture", "-f", "--tail", "0")
    try:
        assert follower.stdout is not None
        line = follower.stdout.readline()  # a new line, logged after the command started
        assert "CameraCapture" not in line and line.strip()
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(15) == 0
    missing = _cli(runner.env, "logs", "Camera")
    assert missing.returncode == 1 and "no module 'Camera' runs here (modules: ImageClassifierService, CameraCapture" in missing.stdout


def _monitor(env: dict[str, str], count: int, *args: str) -> list[dict[str, Any]]:
    monitor = _popen(env, "monitor", "--compact", *args)
    events = []
    try:
        assert monitor.stdout is not None
        assert monitor.stdout.readline().startswith("Starting event monitor")
        while len(events) < count:
            events.append(json.loads(monitor.stdout.readline())["event"])
    finally:
        monitor.send_signal(signal.SIGINT)
        assert monitor.wait(15) == 0
    return events


def test_monitor_prints_upstream_messages_as_they_come(runner: Runner) -> None:
    events = _monitor(runner.env, 2, "--properties")
    for event in events:
        assert event["module"] == "CameraCapture" and event["output"] == "classification"
        assert event["properties"]["application"]["tagName"] == event["payload"]["tagName"]
        assert event["payload"]["schemaVersion"] == 2
    assert "properties" not in _monitor(runner.env, 1)[0]
    sent = [m["body"]["captureTime"] for m in read_jsonl(runner.upstream)]
    assert [e["payload"]["captureTime"] for e in events] == sent[sent.index(events[0]["payload"]["captureTime"]):][:2]


def test_twin_set_changes_a_live_setting_and_twin_get_shows_it_reported(runner: Runner) -> None:
    done = _cli(runner.env, "twin", "set", "CameraCapture", '{"threshold": 0.9}')
    assert done.returncode == 0, done.stdout
    assert "desired properties version" in done.stdout and "applied" in done.stdout
    assert 'reported settings: {"threshold": 0.9}' in done.stdout
    twin = json.loads(_cli(runner.env, "twin", "get", "CameraCapture").stdout)["properties"]
    assert twin["desired"]["threshold"] == 0.9 and twin["reported"]["settings"]["threshold"] == 0.9
    assert twin["reported"]["desiredStatus"]["version"] == twin["desired"]["$version"] >= 2
    assert isinstance(twin["reported"]["$version"], int)
    assert all(e["payload"]["probability"] >= 0.9 for e in _monitor(runner.env, 2))  # what is sent changed
    refused = _cli(runner.env, "twin", "set", "CameraCapture", '{"threshold": "high", "frameRate": 2}')
    assert refused.returncode == 1 and "refused" in refused.stdout and "threshold" in refused.stdout, refused.stdout
    startup = _cli(runner.env, "twin", "set", "ImageClassifierService", '{"port": 81}')
    assert startup.returncode == 1 and "refused" in startup.stdout
    back = _cli(runner.env, "twin", "set", "CameraCapture", '{"threshold": 0.5}')
    assert back.returncode == 0 and "applied" in back.stdout


def test_invoke_calls_a_modules_direct_method(runner: Runner) -> None:
    done = _cli(runner.env, "invoke", "TextToSpeech", "say", '{"text": "hello"}')
    assert done.returncode == 0, done.stdout
    answer = json.loads(done.stdout)
    assert answer["status"] == 200 and answer["payload"]["text"] == "hello"
    assert Path(answer["payload"]["file"]).is_file() and Path(answer["payload"]["file"]).parent == runner.audio
    snapshot = json.loads(_cli(runner.env, "invoke", "CameraCapture", "snapshot").stdout)
    assert snapshot["status"] == 200 and base64.b64decode(snapshot["payload"]["image"])[:3] == b"\xff\xd8\xff"  # a JPEG
    unknown = _cli(runner.env, "invoke", "CameraCapture", "selfDestruct")
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["status"] == 404
    bad = _cli(runner.env, "invoke", "TextToSpeech", "say", '{"words": 1}')
    assert bad.returncode == 1 and json.loads(bad.stdout)["status"] == 400
    absent = _cli(runner.env, "invoke", "Nobody", "ping")
    assert absent.returncode == 1
    assert absent.stdout == f"localedge | no module 'Nobody' runs here (modules: {', '.join(MODULES)})\n"  # as other commands


def test_upstream_offline_stores_messages_and_online_delivers_them_in_order(runner: Runner) -> None:
    assert "$upstream offline" in _cli(runner.env, "upstream", "offline").stdout
    before = len(read_jsonl(runner.upstream))
    wait_for(lambda: _listing(runner.env)["counters"]["upstream_queued"] >= 2, 60)
    assert len(read_jsonl(runner.upstream)) == before  # nothing went upstream meanwhile
    assert "$upstream (offline)" in _cli(runner.env, "list").stdout
    online = _cli(runner.env, "upstream", "online")
    assert online.returncode == 0 and "stored message(s) delivered" in online.stdout
    counters = _listing(runner.env)["counters"]
    assert counters["upstream_online"] and counters["upstream_queued"] == 0 and counters["upstream_expired"] == 0
    sent = read_jsonl(runner.upstream)[before:]
    times = [m["body"]["captureTime"] for m in sent]
    assert len(sent) >= 2 and times == sorted(times)


def test_a_broken_client_cannot_stall_the_runner(runner: Runner) -> None:
    path = json.loads(next(runner.state.glob("runner-*.json")).read_text())["control"]
    silent = []
    try:
        for _ in range(MAX_CONNECTIONS):  # connections that never finish their request
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            sock.sendall(b'{"command": "li')
            silent.append(sock)
        refused = _cli(runner.env, "list")
        assert refused.returncode == 1 and "serving 16 commands already" in refused.stdout
        wait_for(lambda: _cli(runner.env, "list").returncode == 0, 30)  # the silent ones timed out
    finally:
        for sock in silent:
            sock.close()
    with socket.socket(socket.AF_UNIX) as big:
        big.connect(path)
        big.settimeout(20)
        big.sendall(b"x" * (MAX_REQUEST_BYTES + 10))
        answer = json.loads(big.makefile().readline())
        assert answer["kind"] == "error" and f"at most {MAX_REQUEST_BYTES} bytes" in answer["error"]
    with socket.socket(socket.AF_UNIX) as bad:
        bad.connect(path)
        bad.settimeout(20)
        bad.sendall(b'{"command": "format disk"}\n')
        answer = json.loads(bad.makefile().readline())
        assert answer["kind"] == "error" and answer["error"].startswith("bad request: command")
    with socket.socket(socket.AF_UNIX) as lazy:  # follows $upstream and never reads
        lazy.connect(path)
        lazy.sendall(b'{"command": "monitor"}\n')
        time.sleep(0.5)
        assert _cli(runner.env, "list").returncode == 0


def test_restart_restarts_a_module_now(runner: Runner) -> None:
    before = {m["name"]: m for m in _listing(runner.env)["modules"]}
    done = _cli(runner.env, "restart", "TextToSpeech")
    assert done.returncode == 0 and done.stdout.startswith("TextToSpeech: ")

    def restarted() -> bool:
        now = {m["name"]: m for m in _listing(runner.env)["modules"]}["TextToSpeech"]
        return now["status"] == "running" and now["connected"] and now["uptime_s"] < before["TextToSpeech"]["uptime_s"]

    wait_for(restarted, 60)
    assert runner.log.read_text().count("TextToSpeech exited") == 0  # stopped by request, not a crash
    missing = _cli(runner.env, "restart", "Speech")
    assert missing.returncode == 1 and "no module 'Speech' runs here" in missing.stdout


def test_runner_chooses_one_of_several_runners(runner: Runner, tmp_path: Path) -> None:
    document = json.loads((ROOT / "deployment.template.json").read_text())
    content = document["modulesContent"]
    modules = content["$edgeAgent"]["properties.desired"]["modules"]
    for name in [n for n in modules if n != "SenseHatDisplay"]:
        del modules[name]
    content["$edgeHub"]["properties.desired"]["routes"] = {}
    manifest = tmp_path / "display-only.json"
    manifest.write_text(json.dumps(document))
    second = subprocess.Popen([sys.executable, "-m", "localedge", "run", "--manifest", str(manifest), "--duration", "120",
                               "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={tmp_path / 'display'}"],
                              cwd=ROOT, env=runner.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(list(runner.state.glob("runner-*.json"))) == 2, 60)
        both = _cli(runner.env, "list")
        assert both.returncode == 1
        assert f"2 local runners are running (pids {runner.process.pid}, {second.pid}): choose one with --runner PID" in both.stdout \
            or f"2 local runners are running (pids {second.pid}, {runner.process.pid})" in both.stdout
        chosen = _cli(runner.env, "list", "--json", "--runner", str(second.pid))
        assert chosen.returncode == 0 and [m["name"] for m in json.loads(chosen.stdout)["modules"]] == ["SenseHatDisplay"]
        first = _cli(runner.env, "twin", "get", "CameraCapture", "--runner", str(runner.process.pid))
        assert first.returncode == 0 and json.loads(first.stdout)["moduleId"] == "CameraCapture"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(40)
    wait_for(lambda: len(list(runner.state.glob("runner-*"))) == 2, 10)  # its state file and socket are gone
