"""The arm32v7 and arm64v8 images, run under QEMU: each module container starts as its user, imports what it
needs and connects to edgeHub with the real SDK; on arm32v7 the classifier loads its model (TensorFlow Lite) and
answers the fixture photos with the same tags as the amd64 image.

On arm64v8 the classifier's inference is not run here: ONNX Runtime's and LiteRT's aarch64 wheels crash QEMU's
user emulation (``qemu: uncaught target signal 11`` while loading a model, with Debian 12's QEMU 7.2 and
bookworm-backports' 10.0), so that step needs a real arm64 device; the container's start, user, imports and
hub connection are checked as for the others."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import IMAGES, free_port, wait_for
from images_harness import TEMPLATES, images_runner, module_images, runner_state
from localedge.runner.containers import MODULE_UID
from localedge.runner.discovery import state_dir

PHOTOS = ["apple1.jpg", "banana1.jpg", "backpod.jpg", "frame640x480.jpg"]


def _top_tags(base_url: str) -> dict[str, str]:
    tags = {}
    for photo in PHOTOS:
        request = urllib.request.Request(f"{base_url}/image", data=(IMAGES / photo).read_bytes(),
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            predictions = json.loads(reply.read())["predictions"]
        tags[photo] = max(predictions, key=lambda p: p["probability"])["tagName"]
    return tags


@pytest.fixture(scope="module")
def amd64_tags() -> Iterator[dict[str, str]]:
    """The embedded model's top tag per photo, from the amd64 classifier image run on its own."""
    image = module_images("amd64")["ImageClassifierService"]
    port = free_port()
    container = subprocess.run(["docker", "run", "--detach", "--rm", "--publish", f"127.0.0.1:{port}:80", image],
                               capture_output=True, text=True, check=True).stdout.strip()
    try:
        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as reply:
                    return bool(reply.status == 200)
            except OSError:
                return False

        wait_for(ready, 60)
        yield _top_tags(f"http://127.0.0.1:{port}")
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True, check=False)


@pytest.mark.parametrize("platform", ["arm32v7", "arm64v8"])
def test_arm_module_containers_start_connect_and_classify(platform: str, amd64_tags: dict[str, str],
                                                         tmp_path: Path) -> None:
    images = module_images(platform)
    with images_runner(tmp_path / "runner.log", "--platform", platform, "--manifest", TEMPLATES[platform],
                       "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4", connect_timeout_s=420) as runner:
        containers = runner_state(state_dir(), runner.pid)["containers"]
        for module, image in images.items():  # each runs its platform's image, as the images' user
            name = f"localedge-{runner.pid}-{module}".lower()
            inspected = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True, text=True,
                                                  check=True).stdout)[0]
            assert inspected["Config"]["Image"] == image
            uid = subprocess.run(["docker", "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
            assert uid.stdout.strip() == str(MODULE_UID), module
            machine = subprocess.run(["docker", "exec", name, "uname", "-m"], capture_output=True, text=True, check=True)
            assert machine.stdout.strip() == {"arm32v7": "armv7l", "arm64v8": "aarch64"}[platform]
        if platform == "arm32v7":  # see the module docstring for arm64v8
            base = f"http://{containers['ImageClassifierService']}:80"
            wait_for(lambda: _ready(base), 300)
            assert _top_tags(base) == amd64_tags
        log = (tmp_path / "runner.log").read_text()
        assert log.count("edgekit.azure_hub: connected to edgeHub") >= 4, log[-5000:]


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False
