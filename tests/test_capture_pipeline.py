"""CameraCapture's pipeline for real: slideshow and stream sources, a classifier that goes away, live twin tuning."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import cv2
import pytest

from capture.liveview import LiveView
from capture.source import Frame
from capture_harness import CameraHarness, ClassifierProcess, ClassifierServer, free_port, serving
from classifier.export import CustomVisionModel, load
from conftest import IMAGES, MODELS, read_jsonl, wait_for


@pytest.fixture(scope="module")
def model() -> CustomVisionModel:
    return load(MODELS / "apples-bananas")


@pytest.fixture()
def classifier(model: CustomVisionModel) -> Iterator[ClassifierServer]:
    with serving(model) as server:
        yield server


def _folder(tmp: Path, *names: str) -> Path:
    folder = tmp / "shots"
    folder.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        shutil.copy(IMAGES / f"{name}.jpg", folder / f"{i:02d}-{name}.jpg")
    return folder


@pytest.fixture()
def harness_factory(tmp_path: Path) -> Iterator:
    made: list[CameraHarness] = []

    def make(env: dict[str, str]) -> CameraHarness:
        made.append(CameraHarness(tmp_path, env))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


def test_slideshow_tags_are_sent_and_counters_reported(tmp_path: Path, classifier: ClassifierServer, harness_factory) -> None:
    folder = _folder(tmp_path, "apple1", "banana1", "backpod")
    harness = harness_factory({"VIDEO_PATH": str(folder), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.6",
                               "FRAME_RATE": "10", "REPORT_INTERVAL_S": "1", "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    wait_for(lambda: len(harness.tags()) >= 4, 20)
    assert harness.tags()[:4] == ["Apple", "Banana", None, "Apple"]
    capture = wait_for(lambda: harness.reported("capture").get("counters", {}).get("messagesSent", 0) >= 3 and harness.reported("capture"), 10)
    assert capture["sourceKind"] == "images" and capture["captureFps"] > 0
    counters = capture["counters"]
    assert counters["framesRead"] >= 3 and counters["framesClassified"] >= 3 and counters["errors"] == 0
    assert harness.reported("settings")["slideshowIntervalS"] == 0.6


def test_classifier_outage_is_retried_with_backoff_while_capture_goes_on(tmp_path: Path, harness_factory) -> None:
    classifier = ClassifierProcess(MODELS / "apples-bananas")
    classifier.start()
    folder = _folder(tmp_path, "apple1", "banana1")
    harness = harness_factory({"VIDEO_PATH": str(folder), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.05",
                               "FRAME_RATE": "10", "CLASSIFIER_TIMEOUT_S": "1", "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    try:
        wait_for(lambda: len(harness.tags()) >= 2, 20)
    finally:
        classifier.stop()
    sent = len(harness.tags())
    read_before = harness.pipeline.status()["counters"]["framesRead"]
    # The first failure can come while the classifier is stopping (a request is nearly always in flight: the
    # scene changes every 0.05 s), so the backoff is timed from the first failure seen.
    wait_for(lambda: harness.pipeline.status()["counters"]["errors"] >= 1, 20)
    first = time.monotonic()
    wait_for(lambda: harness.pipeline.status()["counters"]["errors"] >= 4, 20)
    # Backoff: retries after 0.5, 1 and 2 s (each +-20 %), so a fourth failure comes 2.8 s after the first at the
    # earliest (2.7 s after it was seen, polled every 0.02 s); with a new frame every 0.05 s, without backoff it
    # would come within 0.5 s.
    assert time.monotonic() - first >= 2.7, harness.pipeline.status()["counters"]
    wait_for(lambda: harness.pipeline.status()["counters"]["framesRead"] > read_before, 10)  # capture goes on
    assert len(harness.tags()) == sent  # nothing sent while the classifier was away
    classifier.start()
    try:
        wait_for(lambda: len(harness.tags()) >= sent + 2, 40)  # back in business without a restart
    finally:
        classifier.stop()
    assert harness.thread.is_alive()


def test_twin_changes_apply_live_and_bad_values_are_refused(tmp_path: Path, classifier: ClassifierServer,
                                                            harness_factory) -> None:
    apples = _folder(tmp_path, "apple2")
    bananas = tmp_path / "bananas"
    bananas.mkdir()
    shutil.copy(IMAGES / "banana2.jpg", bananas / "b.jpg")
    harness = harness_factory({"VIDEO_PATH": str(apples), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.3",
                               "FRAME_RATE": "5", "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    wait_for(lambda: harness.tags() == ["Apple"], 20)
    harness.bus.patch_desired("CameraCapture", {"threshold": 1.5, "frameRate": 0})
    status = wait_for(lambda: harness.reported("desiredStatus").get("version") == 2 and harness.reported("desiredStatus"))
    assert status["status"] == "refused" and "threshold" in status["refused"] and "frameRate" in status["refused"]
    assert harness.store.current.frame_rate == 5 and harness.pipeline.stop.is_set() is False
    harness.bus.patch_desired("CameraCapture", {"videoPath": str(bananas), "heartbeatS": 1})
    wait_for(lambda: harness.tags()[-1:] == ["Banana"], 20)  # the new source, without a restart
    wait_for(lambda: len(harness.tags()) >= 3, 10)  # then heartbeats of the same state
    reasons = [m["body"]["reason"] for m in read_jsonl(harness.upstream)]
    assert reasons[:2] == ["change", "change"] and reasons[2] == "heartbeat"


def test_a_dropped_stream_is_reopened(tmp_path: Path, classifier: ClassifierServer, harness_factory) -> None:
    """An MJPEG stream over HTTP (the camera's own live view, as another camera would serve it) goes away and comes back."""
    port = free_port()
    status = lambda: {"source": "", "counters": {}}  # noqa: E731
    feeding = threading.Event()
    current = {"image": cv2.imread(str(IMAGES / "apple1.jpg"))}

    def feed(view: LiveView) -> None:
        while not feeding.is_set():
            view.offer(Frame(current["image"], 0, datetime.now(timezone.utc)))
            time.sleep(0.05)  # the fake camera's 20 fps

    def serve() -> tuple[LiveView, threading.Thread]:
        view = LiveView(port, status)
        view.start()
        feeder = threading.Thread(target=feed, args=(view,), daemon=True)
        feeder.start()
        return view, feeder

    camera, feeder = serve()
    harness = harness_factory({"VIDEO_PATH": f"http://127.0.0.1:{port}/stream.mjpg", "FRAME_RATE": "5",
                               "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    wait_for(lambda: harness.tags() == ["Apple"], 20)
    assert harness.pipeline.status()["sourceKind"] == "stream" and harness.pipeline.status()["sourceError"] == ""
    camera.close()
    feeding.set()
    feeder.join(5)
    wait_for(lambda: harness.pipeline.status()["sourceError"], 15)  # the camera noticed the stream is gone
    feeding.clear()
    current["image"] = cv2.imread(str(IMAGES / "banana1.jpg"))
    camera, feeder = serve()
    try:
        wait_for(lambda: harness.tags()[-1:] == ["Banana"], 30)
        wait_for(lambda: harness.pipeline.status()["sourceError"] == "", 10)
    finally:
        feeding.set()
        camera.close()


def test_sigterm_stops_the_module_within_seconds_even_while_waiting(tmp_path: Path) -> None:
    """IoT Edge stops modules with SIGTERM; CameraCapture, waiting for a classifier that is not there, exits cleanly."""
    import io
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT
    from localedge.runner.bus import Bus, UpstreamSink

    bus = Bus([], {}, UpstreamSink(None, io.StringIO()))
    bus.start()
    env = {**os.environ, **bus.environment("CameraCapture"), "PYTHONPATH": str(ROOT), "VIDEO_PATH": str(IMAGES),
           "IMAGE_PROCESSING_ENDPOINT": f"http://127.0.0.1:{free_port()}/image", "METRICS_PORT": "0"}
    log = tmp_path / "camera.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "CameraCapture" / "main.py")], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "waiting for the classifier" in log.read_text(errors="replace"), 30)  # it is waiting now
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        output = log.read_text(errors="replace")
        assert time.monotonic() - started < 3.0
        assert process.returncode == 0 and "received SIGTERM, stopping" in output and "Traceback" not in output
    finally:
        if process.poll() is None:
            process.kill()
        bus.close()


def test_a_source_that_cannot_be_opened_is_reported_and_the_next_good_one_taken(
        tmp_path: Path, classifier: ClassifierServer, harness_factory) -> None:
    """A 300-character videoPath passed validation and crash-looped the module; now it is a reported source error."""
    apples = _folder(tmp_path, "apple1")
    bananas = tmp_path / "bananas"
    bananas.mkdir()
    shutil.copy(IMAGES / "banana1.jpg", bananas / "b.jpg")
    harness = harness_factory({"VIDEO_PATH": str(apples), "LOOP_VIDEO": "true", "SLIDESHOW_INTERVAL_S": "0.3",
                               "FRAME_RATE": "5", "IMAGE_PROCESSING_ENDPOINT": classifier.url})
    wait_for(lambda: harness.tags() == ["Apple"], 20)
    long_name = str(tmp_path / ("a" * 300 + ".mp4"))
    harness.bus.patch_desired("CameraCapture", {"videoPath": long_name, "frameRate": 0.001})  # the slowest rate allowed
    capture = wait_for(lambda: "File name too long" in (c := harness.reported("capture")).get("sourceError", "") and c, 10)
    assert harness.reported("desiredStatus")["status"] == "applied"  # valid, and now it is also honest
    assert capture["sourceKind"] == "file" and len(capture["sourceError"]) < 160
    assert harness.thread.is_alive()

    secret = "rtsp://admin:hunter2@127.0.0.1:1/live"
    harness.bus.patch_desired("CameraCapture", {"videoPath": secret})
    capture = wait_for(lambda: (c := harness.reported("capture")).get("source", "").startswith("rtsp") and c.get("sourceError") and c, 20)
    reported = str(harness.bus.reported["CameraCapture"])
    assert "hunter2" not in reported and "rtsp://admin:***@127.0.0.1:1/live" in capture["sourceError"]

    # The next good source, at a normal rate again: taken at once (not after the slow rate's 1000 s wait).
    harness.bus.patch_desired("CameraCapture", {"videoPath": str(bananas), "frameRate": 5})
    wait_for(lambda: harness.tags()[-1:] == ["Banana"], 20)
    wait_for(lambda: harness.reported("capture").get("sourceError") == "", 10)
    assert harness.thread.is_alive()
