"""Reading frames: a reader thread that keeps only the newest frame, so results never lag reality.

Sources (``kind``): "camera" (an index such as "0"), "device" (/dev/video0, /dev/v4l/by-id/...),
"stream" (rtsp://, http://, tcp://...), "file" (a video, played at its own frame rate, once or
looped) and "images" (a folder or glob: a slideshow, each image shown ``slideshow_interval_s``).
A camera, device or stream that fails or stops delivering is reopened with capped exponential
backoff; at the end of a file or slideshow played once the reader stops and sets ``ended``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from capture.images import is_image_set, list_images
from edgekit.redact import redact
from edgekit.runtime import backoff
from edgekit.workers import supervised_thread

logger = logging.getLogger(__name__)

DEFAULT_FILE_FPS = 25.0
SHOWN_CHARS = 80  # longest VIDEO_PATH shown in a source error


class SourceError(RuntimeError):
    """The source cannot be read now (no such file, a name the filesystem refuses, a camera not there)."""


@dataclass(frozen=True)
class Frame:
    """image: HxWx3 uint8 BGR; number: 0-based index since the source opened; captured_at: UTC."""

    image: np.ndarray
    number: int
    captured_at: datetime


def _is_index(video_path: str) -> bool:
    return video_path.isascii() and video_path.isdigit()


def open_target(video_path: str) -> int | str:
    """VIDEO_PATH -> what cv2.VideoCapture takes: an int camera index ("0"-"9..." ASCII digits), else the path or URL."""
    return int(video_path) if _is_index(video_path) else video_path


def kind(video_path: str) -> str:
    """"camera", "device", "stream", "images" or "file" (see the module docstring); never raises."""
    if _is_index(video_path):
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
    """VIDEO_PATH for messages, reports, logs and the live view: credentials masked (edgekit.redact)."""
    return redact(video_path)


def shown(video_path: str) -> str:
    """:func:`describe`, cut to 80 characters for errors (a 300-character name says its length instead)."""
    text = describe(video_path)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS - 3]}... ({len(text)} characters)"


def capture_of(video_path: str) -> cv2.VideoCapture:
    """An opened cv2.VideoCapture of ``video_path``; raises SourceError saying why it cannot be opened.

    Checks first what OpenCV would crash or hang on: a name that is not valid UTF-8 text
    (OpenCV's conversion crashes the process), a NUL, a video file that is not there.
    """
    try:
        video_path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SourceError(f"{shown(video_path)}: not a valid file name, device or URL (not UTF-8 text)") from exc
    if "\0" in video_path:
        raise SourceError(f"{shown(video_path)}: not a valid file name, device or URL (contains a NUL)")
    if is_file(video_path):
        try:
            os.stat(video_path)
        except OSError as exc:
            raise SourceError(f"video file {shown(video_path)}: {exc.strerror or exc}") from exc
    try:
        capture = cv2.VideoCapture(open_target(video_path))
    except (cv2.error, ValueError, OverflowError) as exc:
        raise SourceError(f"{shown(video_path)}: OpenCV cannot open it ({exc.__class__.__name__})") from exc
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open video source {shown(video_path)}")
    return capture


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


class FrameReader:
    """Reads ``video_path`` into ``latest`` on its own thread until :meth:`close` or the end of a file played once.

    A source that cannot be opened is retried with capped exponential backoff, and ``error`` says
    why meanwhile ("" while frames arrive). An unexpected exception restarts the reader
    (edgekit.workers: logged, counted as "frame-reader").
    """

    def __init__(self, video_path: str, loop: bool, latest: LatestFrame, slideshow_interval_s: float = 2.0) -> None:
        self.video_path = video_path
        self.loop = loop
        self.slideshow_interval_s = slideshow_interval_s
        self.latest = latest
        self._closing = threading.Event()
        self.ended = threading.Event()
        self.error = ""
        self._count = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = supervised_thread(self._run, "frame-reader", self._closing)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop reading and wait up to ``timeout_s`` for the thread to release the source."""
        self._closing.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout_s)

    def _failed(self, why: str, delay: float) -> None:
        if why != self.error:
            logger.warning("%s; retrying with backoff", why)
        self.error = why
        self._closing.wait(delay)

    def _run(self) -> None:
        try:
            if kind(self.video_path) == "images":
                self._slideshow()
            else:
                self._capture()
        except Exception as exc:
            self.error = f"reading {shown(self.video_path)} failed: {exc.__class__.__name__}"
            raise

    def _publish(self, image: np.ndarray) -> None:
        self.latest.put(Frame(image, self._count, datetime.now(timezone.utc)))
        self._count += 1

    def _slideshow(self) -> None:
        delays = backoff(initial_s=1.0, maximum_s=30.0)
        while not self._closing.is_set():
            try:
                images = list_images(self.video_path)
            except OSError as exc:
                self._failed(f"cannot list {shown(self.video_path)}: {exc.strerror or exc}", next(delays))
                continue
            if not images:
                self._failed(f"no images in {shown(self.video_path)}", next(delays))
                continue
            self.error = ""
            for path in images:
                image = _read_image(path)
                if image is None:
                    logger.warning("skipping %s: not a readable image", shown(str(path)))
                    continue
                self._publish(image)
                if self._closing.wait(self.slideshow_interval_s):
                    return
            if not self.loop:
                self.ended.set()
                logger.info("end of the %d images of %s; idle (LOOP_VIDEO is off)", len(images), shown(self.video_path))
                return

    def _capture(self) -> None:
        delays = backoff(initial_s=1.0, maximum_s=30.0)
        while not self._closing.is_set():
            try:
                capture = capture_of(self.video_path)
            except SourceError as exc:
                self._failed(str(exc), next(delays))
                continue
            delays = backoff(initial_s=1.0, maximum_s=30.0)
            self.error = ""
            logger.info("reading %s", shown(self.video_path))
            try:
                finished = self._read(capture)
            finally:
                capture.release()
            if finished:
                self.ended.set()
                logger.info("end of %s after %d frames; idle (LOOP_VIDEO is off)", shown(self.video_path), self._count)
                return
            self.error = f"{shown(self.video_path)} stopped delivering frames"

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
                    logger.warning("video source %s stopped delivering frames; reopening", shown(self.video_path))
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


def _read_image(path: Path) -> np.ndarray | None:
    """HxWx3 uint8 BGR, or None when unreadable (OpenCV is never given a name that is not UTF-8 text)."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return cv2.imread(name, cv2.IMREAD_COLOR)
