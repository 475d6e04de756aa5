"""Helpers for the tests that run the module images: the daemon and the images must be there (these tests
fail, they do not skip, when not: ``make test-images`` builds what they need), and a runner under ``--images``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import ROOT, run_localedge, wait_for
from localedge.deploy.manifest import load_manifest
from localedge.runner.containers import image_of

MODULES = ("ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay")
TEMPLATES = {"amd64": "deployment.template.json", "arm64v8": "deployment.template.json",
             "arm32v7": "deployment.arm32v7.template.json"}


def module_images(platform: str) -> dict[str, str]:
    """module -> the image ``make images PLATFORM=<platform>`` tags; asserts the daemon runs and each image is built."""
    done = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, f"these tests need a running Docker daemon: {done.stderr.strip()[-300:]}"
    manifest = load_manifest(ROOT / TEMPLATES[platform], {})
    images = {name: image_of(manifest.modules[name], platform, {}) for name in MODULES}
    for image in images.values():
        found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
        assert found.returncode == 0, f"image {image} is not built: run `make images PLATFORM={platform}` first"
    return images


def listing(pid: int) -> list[dict[str, Any]]:
    done = run_localedge("list", "--json", "--runner", str(pid))
    return list(json.loads(done.stdout)["modules"]) if done.returncode == 0 else []


def runner_state(state_dir: Path, pid: int) -> dict[str, Any]:
    return dict(json.loads((state_dir / f"runner-{pid}.json").read_text()))


@contextmanager
def images_runner(log: Path, *args: str, connect_timeout_s: float = 120.0) -> Iterator[subprocess.Popen[str]]:
    """``python -m localedge run --images <args>`` until the block ends (SIGTERM); yields once all four modules
    run and are connected to the hub (their SDK clients over MQTT), failing with the runner's log if not."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "localedge", "run", "--images", *args], cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, text=True)

    def connected() -> bool:
        assert process.poll() is None, "the runner stopped:\n" + log.read_text()[-5000:]
        modules = listing(process.pid)
        return len(modules) == 4 and all(m["status"] == "running" and m["connected"] for m in modules)

    try:
        try:
            wait_for(connected, connect_timeout_s)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-8000:]}") from None
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
