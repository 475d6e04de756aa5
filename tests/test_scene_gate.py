"""Classify on change (issue 23 item 1): with the scene gate on (the default), CameraCapture looks at every
frame, classifies one when the scene changes, and never a still scene; a scene the classifier failed on
is classified again once it is back, even if nothing changed meanwhile."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from capture.gate import SceneGate
from capture.settings import CaptureSettings
from capture_harness import CameraHarness, ClassifierServer, serving
from classifier.export import load
from conftest import IMAGES, MODELS, wait_for


@pytest.fixture()
def classifier() -> Iterator[ClassifierServer]:
    with serving(load(MODELS / "apples-bananas")) as server:
        yield server


def _show(folder: Path, name: str) -> None:
    """Make ``name`` the folder's one image, replaced atomically as a camera's view changes."""
    staging = folder.parent / "staging.jpg"
    shutil.copy(IMAGES / f"{name}.jpg", staging)
    os.replace(staging, folder / "scene.jpg")


def test_the_gate_is_on_by_default() -> None:
    assert CaptureSettings().scene_change_threshold > 0


def test_a_still_scene_is_classified_once_and_a_change_at_once(tmp_path: Path, classifier: ClassifierServer) -> None:
    folder = tmp_path / "camera"
    folder.mkdir()
    _show(folder, "apple2")
    # the same picture 20 times a second, as a still camera delivers it
    harness = CameraHarness(tmp_path, {"VIDEO_PATH": str(folder), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.05",
                                       "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    try:
        wait_for(lambda: harness.tags() == ["Apple"], 20)
        counters = wait_for(lambda: (c := harness.pipeline.status()["counters"])["framesSkipped"] >= 30 and c, 20)
        assert counters["framesClassified"] == 1  # 30 and more still frames looked at, none classified
        _show(folder, "banana2")
        wait_for(lambda: harness.tags() == ["Apple", "Banana"], 20)
        wait_for(lambda: harness.pipeline.status()["counters"]["framesSkipped"] >= counters["framesSkipped"] + 30, 20)
        assert harness.pipeline.status()["counters"]["framesClassified"] == 2
    finally:
        harness.close()


def test_a_scene_the_classifier_failed_on_is_classified_once_it_is_back(tmp_path: Path) -> None:
    model = load(MODELS / "apples-bananas")
    folder = tmp_path / "camera"
    folder.mkdir()
    _show(folder, "apple2")
    with serving(model) as classifier:
        harness = CameraHarness(tmp_path, {"VIDEO_PATH": str(folder), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.05",
                                           "CLASSIFIER_TIMEOUT_S": "1", "IMAGE_PROCESSING_ENDPOINT": classifier.url})
        try:
            wait_for(lambda: harness.tags() == ["Apple"], 20)
            classifier.stop()
            _show(folder, "banana2")  # changes while the classifier is away, then stays still
            wait_for(lambda: harness.pipeline.status()["counters"]["errors"] >= 1, 20)
            classifier.start()
            wait_for(lambda: harness.tags() == ["Apple", "Banana"], 40)
        finally:
            harness.close()


def test_the_gate_passes_a_changed_frame_and_holds_a_still_one() -> None:
    gate = SceneGate()
    grey = np.full((48, 64, 3), 100, np.uint8)
    assert gate.changed(grey, 2.0)  # the first frame
    assert not gate.changed(grey + 1, 2.0)  # mean difference 1 grey level
    assert gate.changed(grey + 3, 2.0)  # 3 >= 2
    assert not gate.changed(grey + 3, 2.0)
    gate.forget()
    assert gate.changed(grey + 3, 2.0)
    assert gate.changed(cv2.flip(grey, 0), 0.0)  # threshold 0: always
