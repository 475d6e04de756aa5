"""CameraCapture's stages: reading a file to its end, the newest-frame slot, the send rule, JPEG encoding."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from capture.pipeline import encode_jpeg
from capture.policy import OnChange, top_prediction
from capture.source import FrameReader, LatestFrame, describe, is_file, open_target
from conftest import FIXTURES
from edgekit.messages import Prediction


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


def test_file_played_once_reaches_its_end_at_its_own_frame_rate(tmp_path: Path) -> None:
    latest = LatestFrame()
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 10, fps=20)), loop=False, latest=latest)
    started = time.monotonic()
    reader.start()
    assert reader.ended.wait(5)
    elapsed = time.monotonic() - started
    assert latest.read == 10 and 0.4 < elapsed < 3.0  # paced at 20 fps, not read as fast as possible
    assert latest.take(0.1).number == 9 and latest.dropped == 9
    reader.close()


def test_looping_file_keeps_going(tmp_path: Path) -> None:
    latest = LatestFrame()
    reader = FrameReader(str(_clip(tmp_path / "c.mp4", 5, fps=50)), loop=True, latest=latest)
    reader.start()
    time.sleep(0.6)
    reader.close()
    assert latest.read > 10 and not reader.ended.is_set()


def test_missing_file_is_retried_not_fatal(tmp_path: Path) -> None:
    reader = FrameReader(str(tmp_path / "later.mp4"), loop=False, latest=LatestFrame())
    reader.start()
    time.sleep(0.3)
    assert reader.is_alive() and not reader.ended.is_set()
    reader.close()
    assert not reader.is_alive()


def test_latest_frame_keeps_only_the_newest() -> None:
    from capture.source import Frame
    from datetime import datetime, timezone

    slot = LatestFrame()
    assert slot.take(0.01) is None
    for n in range(3):
        slot.put(Frame(np.zeros((2, 2, 3), np.uint8), n, datetime.now(timezone.utc)))
    assert slot.take(0.01).number == 2 and slot.dropped == 2 and slot.take(0.01) is None


def test_send_rule_on_change_counts_an_empty_scene() -> None:
    rule = OnChange()
    decisions = [rule.should_send(t) for t in [None, "Apple", "Apple", None, "Apple", "Banana", "Banana"]]
    assert decisions == [False, True, False, True, True, True, False]


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
