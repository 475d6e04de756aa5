"""Reading frames with OpenCV: a reader thread that keeps only the newest frame.

Sources: a camera index ("0"), a device path (/dev/video0), a stream URL (rtsp://, http://)
or a video file. A file is played at its own frame rate, once or looped; at the end of a file
played once the reader stops and reports ``ended``. A camera or stream that fails is reopened
with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from edgekit.runtime import backoff

logger = logging.getLogger(__name__)

DEFAULT_FILE_FPS = 25.0


@dataclass(frozen=True)
class Frame:
    """image: HxWx3 uint8 BGR; number: 0-based index since the source opened; captured_at: UTC."""

    image: np.ndarray
    number: int
    captured_at: datetime


def open_target(video_path: str) -> int | str:
    """VIDEO_PATH -> what cv2.VideoCapture takes: an int camera index, else the path or URL."""
    return int(video_path) if video_path.isdigit() else video_path


def is_file(video_path: str) -> bool:
    """True for a video file (paced at its own frame rate), False for cameras and streams."""
    return not video_path.isdigit() and "://" not in video_path and not video_path.startswith("/dev/")


def describe(video_path: str) -> str:
    """VIDEO_PATH for messages and logs, without any password in a stream URL."""
    if "://" not in video_path:
        return video_path
    parts = urlsplit(video_path)
    if parts.password is None:
        return video_path
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class LatestFrame:
    """A one-slot buffer where the newest frame wins; ``dropped`` counts frames never taken."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self.dropped = 0
        self.read = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.read += 1
            self._cond.notify_all()

    def take(self, timeout_s: float) -> Frame | None:
        """The newest frame not taken yet, waiting up to ``timeout_s``; None when there is none."""
        with self._cond:
            if self._frame is None:
                self._cond.wait(timeout_s)
            frame, self._frame = self._frame, None
            return frame


class FrameReader(threading.Thread):
    """Reads ``video_path`` into ``latest`` until :meth:`close` or the end of a file played once."""

    def __init__(self, video_path: str, loop: bool, latest: LatestFrame) -> None:
        super().__init__(name="frame-reader", daemon=True)
        self.video_path = video_path
        self.loop = loop
        self.latest = latest
        self._closing = threading.Event()
        self.ended = threading.Event()
        self._count = 0

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop reading and wait up to ``timeout_s`` for the thread to release the source."""
        self._closing.set()
        if self.is_alive():
            self.join(timeout_s)

    def _open(self) -> cv2.VideoCapture | None:
        if is_file(self.video_path) and not Path(self.video_path).is_file():
            logger.error("video file %s does not exist", self.video_path)
            return None
        capture = cv2.VideoCapture(open_target(self.video_path))
        if not capture.isOpened():
            capture.release()
            return None
        return capture

    def run(self) -> None:
        delays = backoff(initial_s=1.0, maximum_s=30.0)
        while not self._closing.is_set():
            capture = self._open()
            if capture is None:
                delay = next(delays)
                logger.warning("cannot open video source %s; retrying in %.0f s", describe(self.video_path), delay)
                self._closing.wait(delay)
                continue
            delays = backoff(initial_s=1.0, maximum_s=30.0)
            logger.info("reading %s", describe(self.video_path))
            try:
                finished = self._read(capture)
            finally:
                capture.release()
            if finished:
                self.ended.set()
                logger.info("end of %s after %d frames; idle (LOOP_VIDEO is off)", self.video_path, self._count)
                return

    def _read(self, capture: cv2.VideoCapture) -> bool:
        """Read until failure; True when a file played once has ended."""
        paced = is_file(self.video_path)
        fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FILE_FPS
        interval = 1.0 / fps if 0 < fps < 1000 else 1.0 / DEFAULT_FILE_FPS
        started = time.monotonic()
        played = 0
        while not self._closing.is_set():
            ok, image = capture.read()
            if not ok or image is None:
                if not paced:
                    logger.warning("video source %s stopped delivering frames; reopening", describe(self.video_path))
                    return False
                if not self.loop:
                    return True
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            if paced:
                due = started + played * interval
                played += 1
                wait = due - time.monotonic()
                if wait > 0 and self._closing.wait(wait):
                    return False
            self.latest.put(Frame(image, self._count, datetime.now(timezone.utc)))
            self._count += 1
        return False
