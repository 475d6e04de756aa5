"""The arm32v7 classifier image (TensorFlow Lite only: no ONNX Runtime for 32-bit ARM), run under QEMU, serves an
Azure ML AutoML classifier converted by ``make convert-model`` (onnx2tf) and answers every fixture photo within
1e-4 of ONNX Runtime run here on the AutoML ``model.onnx``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifier.export import load
from classifier.preprocess import decode
from conftest import IMAGES, free_port, wait_for
from images_harness import module_images
from conftest import convert_model
from test_convert_onnx import automl_classifier

PHOTOS = sorted(IMAGES.glob("*.jpg"))


@pytest.fixture
def converted() -> Iterator[Path]:
    """The AutoML classifier and its model.tflite, in a folder the image's user (uid 10001) may read."""
    base = Path(tempfile.mkdtemp(prefix="automl-arm32v7-"))
    try:
        done = convert_model(f"EXPORT={automl_classifier(base / 'export')}", f"OUT={base / 'model'}")
        assert done.returncode == 0, done.stderr[-3000:]
        for path in [base, *base.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        yield base / "model"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _answers(base_url: str, photo: Path) -> dict[str, float]:
    request = urllib.request.Request(f"{base_url}/image", data=photo.read_bytes(),
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return {p["tagName"]: p["probability"] for p in json.loads(reply.read())["predictions"]}


def _ready(base: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as reply:
            return dict(json.loads(reply.read()))
    except OSError:
        return None


def test_arm32v7_image_serves_a_converted_automl_classifier_as_onnx_runtime_answers(converted: Path) -> None:
    onnx_model = load(converted)  # here: ONNX Runtime on model.onnx
    assert onnx_model.info.runtime == "ONNX Runtime"
    port = free_port()
    container = subprocess.run(
        ["docker", "run", "--detach", "--rm", "--platform", "linux/arm/v7", "--publish", f"127.0.0.1:{port}:80",
         "--volume", f"{converted}:/models/automl:ro", "--env", "MODEL_DIR=/models/automl",
         module_images("arm32v7")["ImageClassifierService"]], capture_output=True, text=True, check=True).stdout.strip()
    base = f"http://127.0.0.1:{port}"
    try:
        status = wait_for(lambda: _ready(base), 300)
        assert status["model"]["flavour"] == "automl-multiclass"
        assert status["model"]["sha256"] == hashlib.sha256((converted / "model.tflite").read_bytes()).hexdigest()
        for photo in PHOTOS:
            want = {p.tagName: p.probability for p in onnx_model.classify(decode(photo.read_bytes()))}
            got = _answers(base, photo)
            assert set(got) <= set(want)
            for tag, probability in want.items():
                assert got.get(tag, 0.0) == pytest.approx(probability, abs=1e-4), (photo.name, tag)
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True, check=False)
