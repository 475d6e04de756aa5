"""The local runner: overrides, module name resolution, clean refusals, and message holding."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, ask_runner, run_localedge, wait_for
from edgekit.local_hub import LocalHub
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.commands import format_list
from localedge.runner.run import RunnerError, apply_sets, module_environments, parse_sets
from localedge.deploy.manifest import load_manifest
from localedge.runner.routes import parse_route


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(ROOT / "deployment.template.json", {})


def test_set_overrides_are_checked(manifest) -> None:
    assert parse_sets(["CameraCapture.VIDEO_PATH=a=b.mp4"], manifest.modules) == {"CameraCapture": {"VIDEO_PATH": "a=b.mp4"}}
    with pytest.raises(RunnerError, match="no module 'Camera' in the manifest"):
        parse_sets(["Camera.VIDEO_PATH=x"], manifest.modules)
    with pytest.raises(RunnerError, match="write it as <Module>.<VAR>=<value>"):
        parse_sets(["VIDEO_PATH=x"], manifest.modules)
    with pytest.raises(RunnerError, match="expected a float, like the manifest's 4.0"):
        apply_sets(load_manifest(ROOT / "deployment.template.json", {}), {"CameraCapture": {"FRAME_RATE": "fast"}})


def test_module_names_in_urls_resolve_to_the_local_port() -> None:
    manifest = load_manifest(ROOT / "deployment.template.json", {})
    sets = apply_sets(manifest, {"CameraCapture": {"THRESHOLD": "0.8", "EXTRA": "x"}})
    envs = module_environments(manifest, sets, {"IOTEDGE_MODULEID": "leak", "HOME": "/h"})
    port = envs["ImageClassifierService"]["PORT"]
    assert port != "80" and int(port) > 1024
    camera = manifest.modules["CameraCapture"].desired
    assert camera["imageProcessingEndpoint"] == f"http://127.0.0.1:{port}/image"
    assert camera["threshold"] == 0.8 and envs["CameraCapture"]["EXTRA"] == "x"  # twin settings go to desired
    assert "IOTEDGE_MODULEID" not in envs["CameraCapture"] and envs["CameraCapture"]["HOME"] == "/h"
    assert envs["TextToSpeech"]["SPEECH_KEY"] == ""  # $SPEECH_KEY unset: empty, so espeak-ng is used


def test_a_set_port_that_is_not_a_port_is_refused(manifest) -> None:
    with pytest.raises(RunnerError, match="--set ImageClassifierService.PORT=80a: write a TCP port, a number from 1 to 65535"):
        module_environments(manifest, {"ImageClassifierService": {"PORT": "80a"}}, {})


def test_runner_timing_settings_are_checked() -> None:
    done = subprocess.run([sys.executable, "-m", "localedge", "run", "--duration", "1"], cwd=ROOT,
                          env={**os.environ, "LOCALEDGE_COOL_OFF_S": "soon"}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2 and "LOCALEDGE_COOL_OFF_S=soon: write a number of seconds, 0 or more" in done.stdout


def test_route_to_a_missing_module_is_refused_with_the_fix(tmp_path: Path) -> None:
    document = json.loads((ROOT / "deployment.template.json").read_text())
    routes = document["modulesContent"]["$edgeHub"]["properties.desired"]["routes"]
    routes["Typo"] = 'FROM /messages/modules/CameraCapture/outputs/classification INTO BrokeredEndpoint("/modules/SenseHat/inputs/classification")'
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    done = run_localedge("run", "--manifest", str(bad), "--duration", "1", timeout=30)
    assert done.returncode == 2
    assert "route 'Typo' names module 'SenseHat', which is not in $edgeAgent.modules" in done.stdout


def test_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    done = run_localedge("run", "--manifest", str(tmp_path / "none.json"), timeout=30)
    assert done.returncode == 2 and "cannot read the deployment template" in done.stdout


def test_messages_for_a_module_not_yet_connected_are_held_then_delivered(tmp_path: Path) -> None:
    route = parse_route("r", 'FROM /messages/modules/A/outputs/out INTO BrokeredEndpoint("/modules/B/inputs/in")')
    upstream = parse_route("u", "FROM /messages/modules/A/outputs/out WHERE IS_DEFINED(tagName) INTO $upstream")
    printed = io.StringIO()
    bus = Bus([route, upstream], {}, UpstreamSink(tmp_path / "up.jsonl", printed))
    bus.start()
    sender = LocalHub.from_environment(bus.environment("A"))
    sender.send("out", {"tagName": "Apple", "n": 1}, {"tagName": "Apple"})
    sender.send("out", {"tagName": None, "n": 2})
    wait_for(lambda: bus.counters().routed == 2, 10)  # both routed, while B is not there: held for it
    received = []
    receiver = LocalHub.from_environment(bus.environment("B"))
    wait_for(lambda: bus.connected("B"), 10)
    # connected, but no input handler yet: nothing may be delivered (and lost). A twin request answered on the same
    # connection: anything the bus sent B on connecting would have come before its answer.
    receiver.get_desired()
    receiver.set_input_handler(received.append)
    wait_for(lambda: len(received) >= 2, 10)
    assert [(m.input_name, m.json()["n"], dict(m.properties)) for m in received] == [
        ("in", 1, {"tagName": "Apple"}), ("in", 2, {})]
    lines = [json.loads(line) for line in (tmp_path / "up.jsonl").read_text().splitlines()]
    assert lines == [{"module": "A", "output": "out", "properties": {"tagName": "Apple"}, "body": {"tagName": "Apple", "n": 1}}]
    assert "$upstream <- A/out: tagName=Apple n=1" in printed.getvalue()
    for hub in (sender, receiver):
        hub.close()
    bus.close()


def test_a_module_that_cannot_start_says_why_and_is_restarted_with_backoff(tmp_path: Path) -> None:
    # edgeAgent's cool-off (10 s, doubling) shortened to 1 s through the runner's LOCALEDGE_COOL_OFF_S
    env = {**os.environ, "LOCALEDGE_COOL_OFF_S": "1", "LOCALEDGE_STATE_DIR": tempfile.mkdtemp(prefix="le-", dir="/tmp")}
    log = tmp_path / "runner.log"
    with log.open("w") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "localedge", "run",
             "--set", "ImageClassifierService.MODEL_DIR=/nonexistent/export"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def listed() -> str:  # what `python -m localedge list` prints, asked in-process
        answer = ask_runner("list", Path(env["LOCALEDGE_STATE_DIR"]))
        return format_list(answer) if answer else ""

    try:
        table = wait_for(lambda: (text := listed()) and "ImageClassifierService  backoff" in text and text, 30)
        row = next(line for line in table.splitlines() if line.startswith("ImageClassifierService"))
        assert row.split()[1:3] == ["backoff", "-"] and "exited with code 2; restarting in" in row
        wait_for(lambda: "restarting in 2 s" in log.read_text(), 30)  # the second cool-off: then Ctrl-C
        runner.send_signal(signal.SIGINT)
        assert runner.wait(60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
        shutil.rmtree(env["LOCALEDGE_STATE_DIR"], ignore_errors=True)
    stdout = log.read_text()
    refusals = stdout.count("cannot start: model location /nonexistent/export does not exist: set MODEL_DIR")
    assert refusals >= 2, stdout  # started, refused, restarted per restartPolicy "always"
    assert "ImageClassifierService exited with code 2; restarting in 1 s" in stdout
    assert "ImageClassifierService exited with code 2; restarting in 2 s" in stdout  # the cool-off doubles
    assert "waiting for the classifier" in stdout  # the camera waits instead of failing
    assert "Traceback" not in stdout
