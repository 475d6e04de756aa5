"""The capture loop: newest frame -> scene gate -> JPEG -> classifier -> send policy -> output.

Runs for months: every setting is read afresh each cycle, at least once a second (the module twin
can change any of them), the source and the live view are restarted when their settings change, a
failing classifier, source or live-view port is retried with backoff while the rest goes on, an
unexpected exception restarts the loop (edgekit.workers), and rates, counters and what is failing
go to reported properties and, through :meth:`CapturePipeline.collector`, to Prometheus metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np

from capture.classifier_client import ClassifierClient, ClassifierError
from capture.gate import SceneGate
from capture.metrics import CaptureCollector, latency_histogram
from capture.policy import SendPolicy
from capture.retrain import Candidate, Captures, ModelInfo, model_info
from capture.settings import CaptureSettings
from capture.source import Frame, FrameReader, LatestFrame, describe, kind
from edgekit.hub import Hub
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification, Prediction, in_view
from edgekit.runtime import backoff
from edgekit.settings import SettingsStore
from edgekit.workers import run_supervised

# imported when the live view is first shown: Flask, Jinja2 and Werkzeug are 7-8 MB resident in a module that never shows it
if TYPE_CHECKING:
    from capture.liveview import LiveView

logger = logging.getLogger(__name__)

PREPARE_POLL_S = 0.005  # while a request is in flight, how often to look for the frame to send next, s
SETTINGS_POLL_S = 1.0  # longest wait before the settings are read again, s
MAX_PERIOD_S = 86400.0  # longest time between samples, s (a tiny frameRate is a day, not an overflow)


def period_s(frame_rate: float) -> float:
    """Seconds between samples at ``frame_rate`` (frames per s, > 0), at most a day."""
    return min(MAX_PERIOD_S, 1.0 / frame_rate)


def encode_jpeg(image: np.ndarray, width: int, quality: int) -> bytes:
    """HxWx3 uint8 BGR -> JPEG bytes, scaled to ``width`` px (aspect kept; 0 = unchanged)."""
    if width and image.shape[1] != width:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


class Answer(NamedTuple):
    """A classifier answer: the predictions, the JPEG they are for, and the model that answered."""

    predictions: list[Prediction]
    jpeg: bytes
    model: ModelInfo


class CapturePipeline:
    """Samples the newest frame at ``frameRate``, classifies it, and sends what the send policy says."""

    def __init__(self, store: SettingsStore[CaptureSettings], hub: Hub, stop: threading.Event) -> None:
        # Per-frame OpenCV work here is small; its worker pool would only take CPU from the
        # classifier sharing the device (on a 2-core machine, measurably so).
        cv2.setNumThreads(1)
        self.store = store
        self.hub = hub
        self.stop = stop
        self.latest = LatestFrame()
        self.policy = SendPolicy()
        self.gate = SceneGate()
        self.captures = Captures(store.current)  # frames kept for retraining (captureMode)
        self.counters = {"framesRead": 0, "framesDropped": 0, "framesClassified": 0, "framesSkipped": 0,
                         "messagesSent": 0, "errors": 0}
        self.rates = {"captureFps": 0.0, "classifyFps": 0.0}  # over the last reporting interval
        self.latency = latency_histogram()  # successful classifier requests, s
        self.last_tag: str | None = None
        self._classified_at = time.monotonic()  # when the last answer was handled (heartbeats, gate on)
        self.newest: Frame | None = None  # the newest frame sampled (direct method snapshot)
        self.last_result: tuple[Frame, list[Prediction]] | None = None  # the last frame classified, its predictions
        self.live: LiveView | None = None
        self._reader: FrameReader | None = None
        self._read_before = 0  # frames read by earlier readers (the source was changed)
        self._rate_mark = (time.monotonic(), 0, 0)
        self._reported_at = time.monotonic()
        self._reported_errors = ("", "")  # (sourceError, liveViewError) last reported
        self.live_view_error = ""
        self._live_retry: tuple[int, float] | None = None  # (port, monotonic time) of the next bind attempt
        self._live_delays = backoff(initial_s=1.0, maximum_s=60.0)

    # --- the parts that follow the settings -------------------------------------------------
    def _start_reader(self, settings: CaptureSettings) -> None:
        if self._reader is not None:
            self._reader.close()
            self._read_before += self.latest.read
            self.counters["framesDropped"] += self.latest.dropped
        self.latest = LatestFrame()
        if self.live is not None:
            self.latest.observer, self.latest.observer_wants = self.live.offer, self.live.wants
        self._reader = FrameReader(settings.video_path, settings.loop_video, self.latest, settings.slideshow_interval_s)
        self._reader.start()

    def _follow_live_view(self, settings: CaptureSettings) -> None:
        wanted = settings.live_view_port if settings.show_video else None
        current = self.live.port if self.live is not None else None
        if wanted == current:
            return
        if self.live is not None:
            self.live.close()
            self.live = None
            self.latest.observer = self.latest.observer_wants = None
        self.live_view_error = ""
        if wanted is not None:
            retry = self._live_retry
            if retry is not None and retry[0] == wanted and time.monotonic() < retry[1]:
                return
            from capture.liveview import LiveView  # only now: see the TYPE_CHECKING import

            try:
                self.live = LiveView(wanted, self.status, settings.bind_address, settings.live_view_token.get_secret_value())
            except OSError as exc:
                delay = next(self._live_delays) if retry is not None and retry[0] == wanted else 1.0
                self._live_retry = (wanted, time.monotonic() + delay)
                self.live_view_error = f"cannot listen on port {wanted}: {exc.strerror or exc}"
                logger.error("live view %s; retrying in %.0f s", self.live_view_error, delay)
                return
            self._live_retry, self._live_delays = None, backoff(initial_s=1.0, maximum_s=60.0)
            self.live.start()
            self.latest.observer, self.latest.observer_wants = self.live.offer, self.live.wants

    def collector(self) -> CaptureCollector:
        """The Prometheus collector of this pipeline's counters, rates, classifier latency and outbox."""
        return CaptureCollector(self.status, lambda: dict(self.rates), self.hub.outbox_status, self.latency)

    def _classify(self, client: ClassifierClient, jpeg: bytes) -> Answer:
        """``client.classify(jpeg)``, its time observed in :attr:`latency` when it succeeds; the model
        that answered from the client's last response headers (one request at a time: they are this one's)."""
        started = time.perf_counter()
        predictions = client.classify(jpeg)
        self.latency.observe(time.perf_counter() - started)
        return Answer(predictions, jpeg, model_info(client.model_headers))

    def _is_current(self, client: ClassifierClient) -> bool:
        settings = self.store.current
        return (client.endpoint, client.timeout_s) == (settings.image_processing_endpoint, settings.classifier_timeout_s)

    def _client(self, client: ClassifierClient | None) -> ClassifierClient:
        """``client`` while it matches the current endpoint and timeout, else a new one for them."""
        if client is not None and self._is_current(client):
            return client
        settings = self.store.current
        return ClassifierClient(settings.image_processing_endpoint, settings.classifier_timeout_s,
                                settings.prediction_key.get_secret_value())

    def _source_changed(self, settings: CaptureSettings) -> bool:
        reader = self._reader
        return reader is None or (reader.video_path, reader.loop, reader.slideshow_interval_s) != (
            settings.video_path, settings.loop_video, settings.slideshow_interval_s)

    # --- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        """Wait for the classifier, then capture until ``stop`` is set."""
        self._follow_live_view(self.store.current)
        self.captures.start()
        try:
            client = self._client(None)
            while not client.wait_until_ready(self.stop, partial(self._is_current, client)):
                if self.stop.is_set():
                    return
                client = self._client(client)
            run_supervised(lambda: self._loop(client), "capture-loop", self.stop)
        finally:
            if self._reader is not None:
                self._reader.close()
            if self.live is not None:
                self.live.close()
            self.captures.close()
            self._report()

    def _loop(self, client: ClassifierClient) -> None:
        """Sample, classify and send until stopped.

        One request is in flight at a time, and one starts at most every 1 / ``frameRate`` s.
        With the scene gate on (``sceneChangeThreshold`` > 0, the default) every frame the source
        delivers is compared with the last one classified (about 0.2 ms at 640x480), and a frame
        that differs is classified as soon as the request before it has been answered (a frame
        that changes meanwhile is encoded meanwhile); a still scene is not classified at all,
        except once every ``heartbeatS`` when heartbeats are on. With the gate off, the newest
        frame is sampled every 1 / ``frameRate`` s; when the next sample falls due while a request
        is in flight, the first frame to arrive is taken and encoded meanwhile and sent the moment
        the answer comes, so the classifier never waits for the camera.
        """
        classify_calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify")
        in_flight: tuple[Frame, Future[Answer]] | None = None
        held: tuple[Frame, bytes] | None = None  # gate on: a changed frame, encoded, waiting for its turn
        next_due = time.monotonic()  # the next request starts no earlier
        errors = backoff(initial_s=0.5, maximum_s=30.0)
        idle_logged = False
        rate = self.store.current.frame_rate
        try:
            while not self.stop.is_set():
                settings = self.store.current
                if self._source_changed(settings):
                    self._start_reader(settings)
                    idle_logged = False
                self._follow_live_view(settings)
                client = self._client(client)
                if (time.monotonic() - self._reported_at >= settings.report_interval_s
                        or self._errors() != self._reported_errors):
                    self._report()
                period = period_s(settings.frame_rate)
                if settings.frame_rate != rate:  # a new rate applies at once, not after the old period
                    rate, next_due = settings.frame_rate, min(next_due, time.monotonic() + period)
                watching = settings.scene_change_threshold > 0
                prepared: tuple[Frame, bytes] | None = None
                if in_flight is None and watching:
                    held = self._watch(settings, held, next_due)
                    if held is None or time.monotonic() < next_due:
                        if held is None and self._ended() and not idle_logged:
                            logger.info("source finished; staying up and idle until stopped or reconfigured")
                            idle_logged = True
                        continue
                    prepared, held, next_due = held, None, time.monotonic() + period
                elif in_flight is None:
                    held = None
                    wait = next_due - time.monotonic()
                    if wait > 0:  # wait in slices, so changed settings are followed meanwhile
                        if self.stop.wait(min(wait, SETTINGS_POLL_S)):
                            break
                        continue
                    next_due = max(next_due + period, time.monotonic())
                    prepared = self._sample(settings, wait_s=min(period, SETTINGS_POLL_S))
                    if prepared is None:
                        if self._ended() and not idle_logged:
                            logger.info("source finished; staying up and idle until stopped or reconfigured")
                            idle_logged = True
                        continue
                elif watching:
                    held = self._watch_meanwhile(in_flight[1], settings, held)
                    if held is not None and time.monotonic() >= next_due:
                        prepared, held, next_due = held, None, time.monotonic() + period
                else:
                    prepared, next_due = self._prepare_meanwhile(in_flight[1], settings, next_due)
                if in_flight is not None:
                    frame, result = in_flight
                    in_flight = None
                    try:
                        answer = result.result()
                    except ClassifierError as exc:
                        self.counters["errors"] += 1
                        delay = next(errors)
                        logger.warning("classification failed (%s); retrying in %.1f s, capture goes on", exc, delay)
                        next_due, prepared, held = time.monotonic() + delay, None, None
                        self.gate.forget()  # the scene it failed on is classified again after the delay
                    else:
                        errors = backoff(initial_s=0.5, maximum_s=30.0)
                        if prepared is not None:  # keep the classifier busy while this answer is handled
                            in_flight = (prepared[0], classify_calls.submit(self._classify, client, prepared[1]))
                            prepared = None
                        self._handle(frame, answer.predictions, settings)
                        self.captures.offer(Candidate(frame.image, frame.number, frame.captured_at, answer.jpeg,
                                                      answer.predictions, answer.model),
                                            settings, describe(settings.video_path))
                if prepared is not None:
                    in_flight = (prepared[0], classify_calls.submit(self._classify, client, prepared[1]))
        finally:
            classify_calls.shutdown(wait=False, cancel_futures=True)

    def _ended(self) -> bool:
        return self._reader is not None and self._reader.ended.is_set()

    def _heartbeat_due(self, settings: CaptureSettings) -> bool:
        """Gate on: True when a still scene is to be classified again for a heartbeat (``heartbeatS`` > 0)."""
        return settings.heartbeat_s > 0 and time.monotonic() - self._classified_at >= settings.heartbeat_s

    def _watch(self, settings: CaptureSettings, held: tuple[Frame, bytes] | None,
               not_before: float) -> tuple[Frame, bytes] | None:
        """Gate on, nothing in flight: look at every frame until one has changed and ``not_before``
        (monotonic s) has passed, or for at most SETTINGS_POLL_S; returns the newest changed frame
        (``held`` if none came), encoded, or None."""
        deadline = time.monotonic() + SETTINGS_POLL_S
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= deadline or (held is not None and now >= not_before):
                break
            until = min(deadline, not_before) if held is not None else deadline
            changed = self._sample(settings, wait_s=until - now, force=self._heartbeat_due(settings))
            if changed is not None:
                held = changed
        return held

    def _watch_meanwhile(self, answer: Future[Answer], settings: CaptureSettings,
                         held: tuple[Frame, bytes] | None) -> tuple[Frame, bytes] | None:
        """Gate on, a request in flight: look at every frame until the answer comes; returns the
        newest changed frame (``held`` if none came), encoded, to send next, or None."""
        while not answer.done() and not self.stop.is_set():
            changed = self._sample(settings, wait_s=PREPARE_POLL_S)
            if changed is not None:
                held = changed
        return held

    def _prepare_meanwhile(self, answer: Future[Answer], settings: CaptureSettings,
                           next_due: float) -> tuple[tuple[Frame, bytes] | None, float]:
        """Gate off, while a request is in flight: once the next sample is due, take and encode the
        first frame that arrives, so it is ready to send the moment the answer comes. Returns the
        prepared frame (None if the answer came first) and the next due time."""
        while not answer.done() and not self.stop.is_set():
            now = time.monotonic()
            if now < next_due:
                futures_wait([answer], timeout=next_due - now)
                continue
            prepared = self._sample(settings, wait_s=PREPARE_POLL_S)
            if prepared is not None:
                return prepared, max(next_due + period_s(settings.frame_rate), time.monotonic())
        return None, next_due

    def _sample(self, settings: CaptureSettings, wait_s: float, force: bool = False) -> tuple[Frame, bytes] | None:
        """The newest frame and its JPEG, or None (no new frame, or too little changed to classify;
        ``force``: classified however little changed)."""
        frame = self.latest.take(timeout_s=wait_s)
        if frame is None:
            return None
        self.newest = frame
        if not self.gate.changed(frame.image, 0.0 if force else settings.scene_change_threshold):
            self.counters["framesSkipped"] += 1
            return None
        return frame, encode_jpeg(frame.image, settings.resize_width, settings.jpeg_quality)

    def _handle(self, frame: Frame, predictions: list[Prediction], settings: CaptureSettings) -> None:
        self.counters["framesClassified"] += 1
        self._classified_at = time.monotonic()
        self.last_result = (frame, predictions)
        state, best = in_view(predictions, settings.threshold, settings.not_sure_floor)  # decided here, once
        top = best if state == "tag" else None
        tag = top.tagName if top else None
        reason = self.policy.decide(tag, time.monotonic(), send_on=settings.send_on,
                                    heartbeat_s=settings.heartbeat_s, min_interval_s=settings.min_interval_s,
                                    state=state)
        if reason is None:
            return
        message = Classification(
            tagName=tag, probability=top.probability if top else 0.0, state=state, reason=reason, predictions=predictions,
            captureTime=frame.captured_at, frameNumber=frame.number, source=describe(settings.video_path),
        )
        self.last_tag = tag
        if self.live is not None:
            self.live.record(tag, message.probability, frame.captured_at)
        try:  # queued in the hub's outbox: delivered in order, also after an edgeHub outage
            self.hub.send(CLASSIFICATION_OUTPUT, message.model_dump(mode="json"), message.properties())
        except ValueError as exc:  # over IoT Hub's message size (a model with very many tags)
            self.counters["errors"] += 1
            logger.warning("message for frame %d not sent: %s", frame.number, exc)
            return
        self.counters["messagesSent"] += 1
        logger.info("frame %d: %s (%.2f) sent on %s [%s]", frame.number, tag or "no tag", message.probability,
                    CLASSIFICATION_OUTPUT, reason)

    # --- what the module reports ----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counters, rates (frames per s) and the last tag, as reported and shown in the live view."""
        read = self._read_before + self.latest.read
        counters = {**self.counters, "framesRead": read,
                    "framesDropped": self.counters["framesDropped"] + self.latest.dropped}
        settings = self.store.current
        source_error, live_view_error = self._errors()
        return {"source": describe(settings.video_path), "sourceKind": kind(settings.video_path),
                "sourceError": source_error, "liveViewError": live_view_error,
                "lastTag": self.last_tag, "counters": counters, "captures": self.captures.status()}

    def _errors(self) -> tuple[str, str]:
        """(why the source cannot be read, why the live view cannot listen); "" for each that works."""
        reader = self._reader
        return (reader.error if reader is not None else ""), self.live_view_error

    def _report(self) -> None:
        now = time.monotonic()
        status = self.status()
        then, read_then, classified_then = self._rate_mark
        elapsed = max(now - then, 1e-6)
        counters = status["counters"]
        rates = {"captureFps": round((counters["framesRead"] - read_then) / elapsed, 2),
                 "classifyFps": round((counters["framesClassified"] - classified_then) / elapsed, 2)}
        self._rate_mark = (now, counters["framesRead"], counters["framesClassified"])
        self.rates = rates
        self._reported_at = now
        self._reported_errors = (status["sourceError"], status["liveViewError"])
        self.store.report(capture={**status, **rates})  # credentials masked, size bounded there
