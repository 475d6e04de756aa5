"""CameraCapture's stages: reading a file to its end, the newest-frame slot, the send rule, JPEG encoding."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from capture.pipeline import encode_jpeg
from capture.gate import SceneGate
from capture.images import list_images
from capture.policy import SendPolicy, top_prediction
from capture.source import FrameReader, LatestFrame, SourceError, capture_of, describe, is_file, kind, open_target
from conftest import FIXTURES, wait_for
from edgekit.messages import Prediction
from edgekit.workers import worker_errors


def _clip(path: Path, frames: int, fps: float = 20.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10 % 256, np.uint8))
    writer.release()
    return path


def test_video_path_forms() -> None:
    assert open_target("0") == 0 and open_target("/dev/video0") == "/dev/video0"
    assert is_file("clip.mp4") and not is_file("0") and not is_file("/dev/video1") and not is_file("rtsp://cam/stream")
    assert describe("rtsp://admin:secret@10.0.0.5:554/live") == "rtsp://admin:***@10.0.0.5:554/live"
    assert describe("http://cam.local/stream") == "http://cam.local/stream"
    assert describe("http://cam.local/stream?token=abc123") == "http://cam.local/stream?token=***"


def test_file_played_once_reaches_its_end_at_its_own_frame_rate(tmp_path: Path) -> None:
    latest = LatestFrame()
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 10, fps=20)), loop=False, latest=latest)
    started = time.monotonic()
    reader.start()
    assert reader.ended.wait(5)
    elapsed = time.monotonic() - started
    assert latest.read == 10 and 0.4 < elapsed < 3.0  # paced at 20 fps, not read as fast as possible
    assert latest.decoded == 1 and latest.dropped == 9  # nobody asked for the other nine: not decoded
    reader.close()


def test_looping_file_keeps_going(tmp_path: Path) -> None:
    latest = LatestFrame()
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 5, fps=50)), loop=True, latest=latest)
    reader.start()
    wait_for(lambda: latest.read > 10, 10)  # more than twice the clip's 5 frames: it went round at least twice
    assert not reader.ended.is_set() and reader.is_alive()
    reader.close()


def test_missing_file_is_retried_not_fatal(tmp_path: Path) -> None:
    """A file that is not there yet: the reader says why and keeps trying; once the file appears, it is played."""
    tmp_path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the logged path is cut after 80 characters
    latest = LatestFrame()
    reader = FrameReader(str(tmp_path / "later.mp4"), loop=False, latest=latest)
    reader.start()
    wait_for(lambda: reader.error, 10)  # it tried, failed, and says so
    assert "later.mp4" in reader.error and reader.is_alive() and not reader.ended.is_set() and latest.read == 0
    _clip(tmp_path / "making.mp4", 5).rename(tmp_path / "later.mp4")  # appears whole, at once
    assert reader.ended.wait(15), reader.error  # retried (backoff from 1 s): played to its end
    assert latest.read == 5 and reader.error == ""
    reader.close()
    assert not reader.is_alive()
    shutil.rmtree(tmp_path)


def test_latest_frame_keeps_only_the_newest() -> None:
    from capture.source import Frame
    from datetime import datetime, timezone

    slot = LatestFrame()
    assert slot.take(0.01) is None
    for n in range(3):
        slot.put(Frame(np.zeros((2, 2, 3), np.uint8), n, datetime.now(timezone.utc)))
    assert slot.take(0.01).number == 2 and slot.dropped == 2 and slot.take(0.01) is None


def _decide(policy: SendPolicy, tags: list, times: list[float], **settings) -> list:
    options = {"send_on": "change", "heartbeat_s": 0.0, "min_interval_s": 0.0, **settings}
    return [policy.decide(t, at, **options) for t, at in zip(tags, times, strict=True)]


def test_on_change_counts_an_empty_scene_as_a_state() -> None:
    tags = [None, "Apple", "Apple", None, "Apple", "Banana", "Banana"]
    assert _decide(SendPolicy(), tags, list(range(7))) == [None, "change", None, "change", "change", "change", None]


def test_every_sends_each_tagged_classification() -> None:
    assert _decide(SendPolicy(), ["Apple", "Apple", None, None], [0, 1, 2, 3], send_on="every") == [
        "every", "every", "change", None]


def test_heartbeat_resends_the_state_after_quiet_time() -> None:
    times = [0.0, 1.0, 5.0, 9.9, 10.1, 20.2]
    assert _decide(SendPolicy(), ["Apple"] * 6, times, heartbeat_s=5) == [
        "change", None, "heartbeat", None, "heartbeat", "heartbeat"]


def test_minimum_interval_defers_a_change_but_never_loses_the_last_state() -> None:
    tags = ["Apple", "Banana", None, "Lemon", "Lemon", "Lemon"]
    times = [0.0, 0.5, 1.0, 1.5, 2.1, 3.0]
    assert _decide(SendPolicy(), tags, times, min_interval_s=2) == [
        "change", None, None, None, "change", None]


def test_scene_gate_skips_frames_that_barely_changed() -> None:
    gate = SceneGate()
    grey = np.full((480, 640, 3), 100, np.uint8)
    assert gate.changed(grey, 8.0)  # the first frame is always classified
    noisy = np.clip(grey.astype(int) + np.random.default_rng(1).integers(-3, 4, grey.shape), 0, 255).astype(np.uint8)
    assert not gate.changed(noisy, 8.0)  # sensor noise: skipped
    bright = np.full_like(grey, 160)
    assert gate.changed(bright, 8.0) and gate.last_difference == 60.0
    assert gate.changed(bright, 0.0)  # threshold 0: gating off


def test_image_folder_is_a_slideshow_in_name_order(tmp_path: Path) -> None:
    for name, value in [("b.png", 20), ("a.jpg", 10), ("c.bmp", 30)]:
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    assert kind(str(tmp_path)) == "images" and kind(str(tmp_path / "*.png")) == "images"
    assert kind(str(tmp_path / "a.jpg")) == "images" and [p.name for p in list_images(str(tmp_path / "a.jpg"))] == ["a.jpg"]
    assert kind(str(tmp_path / "clip.mp4")) == "file"
    assert [p.name for p in list_images(str(tmp_path))] == ["a.jpg", "b.png", "c.bmp"]
    shown = []
    latest = LatestFrame()
    latest.observer = lambda frame: shown.append(int(frame.image.mean()))
    reader = FrameReader(str(tmp_path), loop=False, latest=latest, slideshow_interval_s=0.1)
    reader.start()
    assert reader.ended.wait(5)
    assert shown == [10, 20, 30]


def test_top_prediction_respects_the_threshold_inclusively() -> None:
    preds = [Prediction(tagName="Apple", probability=0.5), Prediction(tagName="Banana", probability=0.4)]
    assert top_prediction(preds, 0.5).tagName == "Apple"
    assert top_prediction(preds, 0.51) is None
    assert top_prediction([], 0.0) is None


def test_jpeg_is_resized_keeping_the_aspect_ratio() -> None:
    frame = cv2.imread(str(FIXTURES / "images" / "frame640x480.jpg"))
    small = cv2.imdecode(np.frombuffer(encode_jpeg(frame, 320, 80), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == (240, 320, 3)
    same = cv2.imdecode(np.frombuffer(encode_jpeg(frame, 0, 90), np.uint8), cv2.IMREAD_COLOR)
    assert same.shape == (480, 640, 3)


def test_frames_nobody_wants_are_grabbed_but_not_decoded(tmp_path: Path) -> None:
    """A 50 fps source sampled 4 times a second: OpenCV's buffer is drained, but only wanted frames are decoded."""
    latest = LatestFrame()
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 50, fps=50)), loop=True, latest=latest)
    reader.start()
    taken = []
    for _ in range(8):
        before = latest.read
        wait_for(lambda before=before: latest.read >= before + 10, 10)  # the source went on: 10 more frames grabbed meanwhile
        frame = latest.take(5)
        assert frame is not None
        taken.append(frame.number)
    reader.close()
    assert all(b - a >= 10 for a, b in zip(taken, taken[1:], strict=False)), taken  # each take: a newer frame
    assert latest.read >= 80  # every frame grabbed, none left to go stale
    # decoded: the first frame (wanted from the start), then one per take that found the slot empty (the 7 after it)
    assert latest.decoded == 8 == len(taken)
    assert latest.dropped == latest.read - 8  # every other frame grabbed and skipped


def test_names_the_filesystem_or_opencv_refuse_are_source_errors_not_crashes(tmp_path: Path) -> None:
    """A 300-character file name crashed the reader (OSError: File name too long); a lone surrogate crashes OpenCV itself."""
    long_name = str(tmp_path / ("a" * 300 + ".mp4"))
    for path in (long_name, str(tmp_path / ("b" * 300)), "clip\0.mp4", "\ud800.mp4", "99999999999999999999", "²"):
        assert kind(path) in ("file", "camera", "images")  # never raises
        with pytest.raises(SourceError):
            capture_of(path)
    assert kind("²") == "file" and open_target("²") == "²"  # a Unicode digit is not a camera index
    errors_before = worker_errors().get("frame-reader", 0)
    reader = FrameReader(long_name, loop=False, latest=LatestFrame())
    reader.start()
    wait_for(lambda: "File name too long" in reader.error)
    assert reader.is_alive() and not reader.ended.is_set()
    assert reader.error.startswith("video file ") and "(3" in reader.error and len(reader.error) < 160  # cut, with its length
    assert worker_errors().get("frame-reader", 0) == errors_before  # an expected failure, not a bug
    reader.close()
    assert not reader.is_alive()


def test_a_reader_that_raises_is_restarted_and_counted(tmp_path: Path) -> None:
    """An exception on the reader thread (here from the live view's observer) is counted, and reading goes on."""
    latest = LatestFrame()
    seen: list[int] = []

    def observer(frame) -> None:
        seen.append(frame.number)
        if len(seen) == 1:
            raise RuntimeError("the observer failed once")

    latest.observer = observer
    before = worker_errors().get("frame-reader", 0)
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 5, fps=50)), loop=True, latest=latest)
    reader.start()
    try:
        wait_for(lambda: worker_errors().get("frame-reader", 0) == before + 1, 5)
        wait_for(lambda: latest.take(0.5) is not None and len(seen) >= 2, 10)  # restarted after backoff, frames again
        assert reader.is_alive() and reader.error == ""
    finally:
        reader.close()


@pytest.mark.parametrize(("best", "threshold", "floor", "state"), [
    (0.5, 0.5, 0.3, "tag"), (0.49, 0.5, 0.3, "notSure"), (0.3, 0.5, 0.3, "notSure"), (0.29, 0.5, 0.3, "empty"),
    (0.45, 0.5, 0.5, "empty"), (0.45, 0.5, 0.9, "empty"), (0.95, 0.9, 0.95, "tag"), (0.2, 0.0, 0.0, "tag"),
])
def test_what_is_in_view_is_decided_by_the_best_prediction_threshold_and_floor(
        best: float, threshold: float, floor: float, state: str) -> None:
    """The documented rule: tag at or above threshold, notSure at or above the floor below it, else empty."""
    from edgekit.messages import Prediction, in_view

    predictions = [Prediction(tagName="Other", probability=best / 2), Prediction(tagName="Best", probability=best)]
    decided, chosen = in_view(predictions, threshold, floor)
    assert decided == state and chosen is not None and chosen.tagName == "Best"
    assert in_view([], threshold, floor) == ("empty", None)


def test_a_change_of_what_is_in_view_is_a_change_also_without_a_tag() -> None:
    """tag -> not sure -> empty -> not sure: each is sent (the display follows); the same state again is not."""
    policy = SendPolicy()
    seen = [("Apple", "tag"), (None, "notSure"), (None, "notSure"), (None, "empty"), (None, "notSure"), ("Apple", "tag")]
    reasons = [policy.decide(tag, float(n), send_on="change", heartbeat_s=0.0, min_interval_s=0.0, state=state)
               for n, (tag, state) in enumerate(seen)]
    assert reasons == ["change", "change", None, "change", "change", "change"]
