"""The solution as containers: ``python -m localedge run --images`` runs each module from its built image.

These tests need a Docker daemon and the amd64 images (``make images``); ``.ci/run`` starts the daemon and
builds them first. Without them the tests fail and say what to run; they do not skip.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from azure.iot.device.iothub.edge_hsm import IoTEdgeHsm, IoTEdgeError

from conftest import FIXTURES, IMAGES, ROOT, read_jsonl, run_localedge, wait_for
from images_harness import images_runner, module_images
from localedge.runner.containers import MODULE_UID, WorkloadApi

def _require_images() -> None:
    module_images("amd64")


def _owner(path: Path) -> int:
    return path.stat().st_uid


def test_workload_api_serves_the_sdk_its_trust_bundle_and_signatures(tmp_path: Path) -> None:
    """The real SDK's IoT Edge HSM client (what create_from_edge_environment uses) against the runner's
    workload API: the CA it trusts, an HMAC-SHA256 it can check, and a refusal for another module."""
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key = base64.b64encode(b"module-key-" * 3).decode()
    api = WorkloadApi(tmp_path / "workload.sock", "CameraCapture", key, ca)
    try:
        uri = f"unix://{tmp_path / 'workload.sock'}"
        hsm = IoTEdgeHsm("CameraCapture", api.generation_id, uri, "2019-01-30")
        assert hsm.get_certificate() == ca.read_text()
        expected = base64.b64encode(hmac.new(b"module-key-" * 3, b"localhost/devices/local", hashlib.sha256).digest())
        assert hsm.sign("localhost/devices/local") == expected.decode()
        with pytest.raises(IoTEdgeError):
            IoTEdgeHsm("TextToSpeech", api.generation_id, uri, "2019-01-30").sign("x")
        with pytest.raises(IoTEdgeError):
            IoTEdgeHsm("CameraCapture", "another-generation", uri, "2019-01-30").sign("x")
        assert (tmp_path / "workload.sock").stat().st_mode & 0o777 == 0o666
    finally:
        api.close()
    assert not (tmp_path / "workload.sock").exists()


def test_images_without_a_docker_daemon_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'no-daemon.sock'}"}
    done = subprocess.run([sys.executable, "-m", "localedge", "run", "--images", "--duration", "5"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if "Docker daemon" in line]
    assert len(errors) == 1 and "dockerd" in errors[0] and "Traceback" not in done.stdout + done.stderr, done.stdout


def test_a_missing_image_names_the_make_command(tmp_path: Path) -> None:
    _require_images()
    env = {**os.environ, "CONTAINER_REGISTRY_ADDRESS": "registry.invalid"}
    done = subprocess.run([sys.executable, "-m", "localedge", "run", "--images", "--duration", "5"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "registry.invalid/imageclassifierservice:" in done.stdout and "`make images PLATFORM=amd64`" in done.stdout
    assert not subprocess.run(["docker", "network", "ls", "--quiet", "--filter", "label=io.localedge.runner"],
                              capture_output=True, text=True, check=True).stdout.strip(), "a network was left behind"


def test_fruit_clip_through_the_module_containers(tmp_path: Path) -> None:
    """The same fruit-clip run as the process run (tests/test_end_to_end.py), each module in its amd64
    container: the same tags on $upstream, and the display's and speech's output written from inside the
    containers, as the images' user, into host folders bound by --set."""
    _require_images()
    upstream = tmp_path / "upstream.jsonl"
    model = FIXTURES / "models" / "apples-bananas"
    clip = FIXTURES / "video" / "fruit.mp4"
    done = run_localedge(
        "run", "--images", "--upstream", str(upstream), "--duration", "40",
        "--set", f"ImageClassifierService.MODEL_DIR={model}",
        "--set", f"CameraCapture.VIDEO_PATH={clip}", "--set", "CameraCapture.LOOP_VIDEO=false",
        "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={tmp_path / 'audio'}",
        "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={tmp_path / 'display'}",
        timeout=240)
    log = done.stdout
    assert done.returncode == 0, log[-6000:] + done.stderr
    assert log.count("edgekit.azure_hub: connected to edgeHub") == 4, log[-6000:]
    messages = read_jsonl(upstream)
    expected = ["Apple", "Banana", "Apple", "Banana", "Apple", "Banana"]
    assert [m["body"]["tagName"] for m in messages] == expected, log[-6000:]
    assert messages[0]["body"]["source"] == "/localedge/CameraCapture/VIDEO_PATH/fruit.mp4"

    audio = sorted((tmp_path / "audio").glob("*.wav"))
    display = sorted((tmp_path / "display").glob("*.png"))
    assert [p.stem.split("-", 1)[1] for p in audio] == expected
    assert [s for s in (p.stem.split("-", 1)[1] for p in display) if s != "cleared"] == expected
    assert {_owner(p) for p in [*audio, *display]} == {MODULE_UID}, "written by the images' user"
    assert not subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", "label=io.localedge.runner"],
                              capture_output=True, text=True, check=True).stdout.strip(), "a container was left behind"


def test_device_commands_work_on_the_containers(tmp_path: Path) -> None:
    """list, invoke, twin set/get and metrics against the modules in their containers, as on a process run."""
    _require_images()
    with images_runner(tmp_path / "runner.log", "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4",
                       "--set", "CameraCapture.LOOP_VIDEO=true") as runner:
        pid = str(runner.pid)
        answers: list[dict[str, Any]] = []

        def snapped() -> bool:  # connected comes before the first frame: until then snapshot answers 500 "no frame yet"
            answers.append(json.loads(run_localedge("invoke", "CameraCapture", "snapshot", "--runner", pid).stdout))
            assert answers[-1]["status"] == 200 or "no frame yet" in answers[-1]["payload"]["error"], answers[-1]
            return answers[-1]["status"] == 200

        wait_for(snapped, 60)
        assert base64.b64decode(answers[-1]["payload"]["image"])[:3] == b"\xff\xd8\xff"
        said = json.loads(run_localedge("invoke", "TextToSpeech", "say", '{"text": "hello"}', "--runner", pid).stdout)
        assert said["status"] == 200 and said["payload"]["text"] == "hello"

        done = run_localedge("twin", "set", "CameraCapture", '{"threshold": 0.9}', "--runner", pid, timeout=60)
        assert done.returncode == 0 and "applied" in done.stdout, done.stdout + done.stderr
        twin = json.loads(run_localedge("twin", "get", "CameraCapture", "--runner", pid).stdout)["properties"]
        assert twin["reported"]["settings"]["threshold"] == 0.9

        def scraped() -> subprocess.CompletedProcess[str] | None:  # modules report their metrics endpoint once up
            done = run_localedge("metrics", "ImageClassifierService", "--runner", pid)
            return done if done.returncode == 0 else None

        metrics = wait_for(scraped, 60)
        assert "# ImageClassifierService http://172.30." in metrics.stdout, metrics.stdout[:2000]
        assert "classifier_requests" in metrics.stdout, metrics.stdout[:2000]
        # docs/models.md's example on the device (Reach the classifier): the classifier's port published on the device's loopback only.
        request = urllib.request.Request("http://127.0.0.1:8080/image", data=(IMAGES / "apple1.jpg").read_bytes(),
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert json.loads(reply.read())["predictions"], "no predictions"
        published = subprocess.run(["docker", "port", f"localedge-{pid}-imageclassifierservice"], capture_output=True,
                                   text=True, check=True).stdout.split()
        assert published == ["80/tcp", "->", "127.0.0.1:8080"], published
        monitor = subprocess.Popen([sys.executable, "-m", "localedge", "monitor", "--compact", "--runner", pid], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,  # Ctrl-C as in a terminal
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        timer = threading.Timer(60, monitor.kill)  # a test waiting on it cannot hang
        timer.start()
        try:  # the camera's next classification, as IoT Hub would receive it
            assert monitor.stdout is not None
            assert monitor.stdout.readline().startswith("Starting event monitor")
            event = json.loads(monitor.stdout.readline())["event"]
            assert event["module"] == "CameraCapture" and event["payload"]["tagName"] in ("Red", "Yellow", "Green", "Blue")
        finally:
            timer.cancel()
            monitor.send_signal(signal.SIGINT)
            monitor.wait(15)
        logs = run_localedge("logs", "SenseHatDisplay", "--runner", pid)
        assert logs.returncode == 0 and "connected to edgeHub" in logs.stdout, logs.stdout[-2000:]
