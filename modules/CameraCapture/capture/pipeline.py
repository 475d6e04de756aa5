"""The capture loop: newest frame -> JPEG -> classifier -> on change, a message on the output."""

from __future__ import annotations

import logging
import threading
import time

import cv2
import numpy as np

from capture.classifier_client import ClassifierClient, ClassifierError
from capture.policy import OnChange, top_prediction
from capture.settings import CaptureSettings
from capture.source import Frame, FrameReader, LatestFrame, describe
from edgekit.hub import Hub, HubSendError
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification
from edgekit.runtime import backoff
from edgekit.settings import SettingsStore

logger = logging.getLogger(__name__)


def encode_jpeg(image: np.ndarray, width: int, quality: int) -> bytes:
    """HxWx3 uint8 BGR -> JPEG bytes, scaled to ``width`` px (aspect kept; 0 = unchanged)."""
    if width and image.shape[1] != width:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


class CapturePipeline:
    """Samples the newest frame at ``frameRate``, classifies it, and sends tag changes to the hub."""

    def __init__(self, store: SettingsStore[CaptureSettings], hub: Hub, stop: threading.Event) -> None:
        self.store = store
        self.hub = hub
        self.stop = stop
        self.latest = LatestFrame()
        self.policy = OnChange()
        self.counters = {"framesClassified": 0, "messagesSent": 0, "errors": 0}
        self._reader: FrameReader | None = None
        self._restart = threading.Event()
        store.add_listener(self._on_settings)

    def _on_settings(self, old: CaptureSettings, new: CaptureSettings) -> None:
        if (old.video_path, old.loop_video) != (new.video_path, new.loop_video):
            self._restart.set()

    def _start_reader(self, settings: CaptureSettings) -> None:
        if self._reader is not None:
            self._reader.close()
        self.latest = LatestFrame()
        self._reader = FrameReader(settings.video_path, settings.loop_video, self.latest)
        self._reader.start()

    def run(self) -> None:
        """Wait for the classifier, then capture until ``stop`` is set."""
        settings = self.store.current
        client = ClassifierClient(settings.image_processing_endpoint, settings.classifier_timeout_s)
        if not client.wait_until_ready(self.stop):
            return
        self._start_reader(settings)
        next_due = time.monotonic()
        errors = backoff(initial_s=0.5, maximum_s=30.0)
        idle_logged = False
        while not self.stop.is_set():
            settings = self.store.current
            if self._restart.is_set():
                self._restart.clear()
                self._start_reader(settings)
                idle_logged = False
            if settings.image_processing_endpoint != client.endpoint or settings.classifier_timeout_s != client.timeout_s:
                client = ClassifierClient(settings.image_processing_endpoint, settings.classifier_timeout_s)
            if self.stop.wait(max(0.0, next_due - time.monotonic())):
                break
            next_due = max(next_due + 1.0 / settings.frame_rate, time.monotonic())
            frame = self.latest.take(timeout_s=1.0 / settings.frame_rate)
            if frame is None:
                if self._reader is not None and self._reader.ended.is_set() and not idle_logged:
                    logger.info("source finished; staying up and idle until stopped or reconfigured")
                    idle_logged = True
                continue
            try:
                self._classify(frame, client, settings)
                errors = backoff(initial_s=0.5, maximum_s=30.0)
            except ClassifierError as exc:
                self.counters["errors"] += 1
                delay = next(errors)
                logger.warning("classification failed (%s); retrying in %.1f s", exc, delay)
                next_due = time.monotonic() + delay
        if self._reader is not None:
            self._reader.close()

    def _classify(self, frame: Frame, client: ClassifierClient, settings: CaptureSettings) -> None:
        predictions = client.classify(encode_jpeg(frame.image, settings.resize_width, settings.jpeg_quality))
        self.counters["framesClassified"] += 1
        top = top_prediction(predictions, settings.threshold)
        tag = top.tagName if top else None
        if not self.policy.should_send(tag):
            return
        message = Classification(
            tagName=tag,
            probability=top.probability if top else 0.0,
            predictions=predictions,
            captureTime=frame.captured_at,
            frameNumber=frame.number,
            source=describe(settings.video_path),
        )
        try:
            self.hub.send(CLASSIFICATION_OUTPUT, message.model_dump(mode="json"), message.properties())
            self.counters["messagesSent"] += 1
            logger.info("frame %d: %s (%.2f) sent on %s", frame.number, tag or "no tag", message.probability, CLASSIFICATION_OUTPUT)
        except HubSendError as exc:
            self.counters["errors"] += 1
            logger.warning("message for frame %d not sent: %s", frame.number, exc)
