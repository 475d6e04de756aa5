"""Reading frames: a reader thread that keeps only the newest frame, so results never lag reality.

Sources (``kind``): "camera" (an index such as "0"), "device" (/dev/video0, /dev/v4l/by-id/...),
"stream" (rtsp://, http://, tcp://...), "file" (a video, played at its own frame rate, once or
looped) and "images" (a folder or glob: a slideshow, each image shown ``slideshow_interval_s``).
A camera, device or stream that fails or stops delivering is reopened with capped exponential
backoff; at the end of a file or slideshow played once the reader stops and sets ``ended``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from capture.images import is_image_set, list_images
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


def kind(video_path: str) -> str:
    """"camera", "device", "stream", "images" or "file" (see the module docstring)."""
    if video_path.isdigit():
        return "camera"
    if video_path.startswith("/dev/"):
        return "device"
    if "://" in video_path:
        return "stream"
    return "images" if is_image_set(video_path) else "file"


def is_file(video_path: str) -> bool:
    """True for a video file (paced at its own frame rate)."""
    return kind(video_path) == "file"


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
    """A one-slot buffer where the newest frame wins.

    ``read`` counts frames the source delivered, ``dropped`` those never classified (overwritten,
    or not even decoded because nobody wanted them). A camera reader decodes a frame only when it
    is ``wanted``: by a ``take`` that found the slot empty, or by the observer (the live view).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._demand = True
        self.dropped = 0
        self.read = 0
        self.decoded = 0
        self.observer: Callable[[Frame], None] | None = None  # e.g. the live view, called on the reader thread
        self.observer_wants: Callable[[], bool] | None = None

    def wanted(self) -> bool:
        """True when the next frame the source delivers should be decoded and put here."""
        wants = self.observer_wants
        return self._demand or (wants is not None and wants())

    def skip(self) -> None:
        """The source delivered a frame that nobody wanted: count it, do not decode it."""
        with self._cond:
            self.read += 1
            self.dropped += 1

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._demand = False
            self.read += 1
            self.decoded += 1
            self._cond.notify_all()
        observer = self.observer
        if observer is not None:
            observer(frame)

    def take(self, timeout_s: float) -> Frame | None:
        """The newest frame not taken yet, waiting up to ``timeout_s``; None when there is none."""
        with self._cond:
            if self._frame is None:
                self._demand = True
                self._cond.wait(timeout_s)
            frame, self._frame = self._frame, None
            return frame


class FrameReader(threading.Thread):
    """Reads ``video_path`` into ``latest`` until :meth:`close` or the end of a file played once."""

    def __init__(self, video_path: str, loop: bool, latest: LatestFrame, slideshow_interval_s: float = 2.0) -> None:
        super().__init__(name="frame-reader", daemon=True)
        self.video_path = video_path
        self.loop = loop
        self.slideshow_interval_s = slideshow_interval_s
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
        if kind(self.video_path) == "images":
            self._slideshow()
        else:
            self._capture()

    def _publish(self, image: np.ndarray) -> None:
        self.latest.put(Frame(image, self._count, datetime.now(timezone.utc)))
        self._count += 1

    def _slideshow(self) -> None:
        delays = backoff(initial_s=1.0, maximum_s=30.0)
        while not self._closing.is_set():
            images = list_images(self.video_path)
            if not images:
                delay = next(delays)
                logger.warning("no images in %s; looking again in %.0f s", self.video_path, delay)
                self._closing.wait(delay)
                continue
            for path in images:
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is None:
                    logger.warning("skipping %s: not a readable image", path)
                    continue
                self._publish(image)
                if self._closing.wait(self.slideshow_interval_s):
                    return
            if not self.loop:
                self.ended.set()
                logger.info("end of the %d images of %s; idle (LOOP_VIDEO is off)", len(images), self.video_path)
                return

    def _capture(self) -> None:
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
            ok = capture.grab()  # always: OpenCV's buffer must never hold stale frames
            if not ok:
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
            if not self.latest.wanted():
                self.latest.skip()
                self._count += 1
                continue
            ok, image = capture.retrieve()  # decode only frames someone will use
            if ok and image is not None:
                self._publish(image)
            else:
                self.latest.skip()
                self._count += 1
        return False
