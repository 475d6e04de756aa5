"""The captures' writer: the policy on the pipeline's thread, a conflating bounded queue (a capture that finds it
full is dropped and counted; classification never waits for storage) and a writer thread that stores each
capture, or spools it while storage fails and uploads the spool oldest first when storage answers again
(capped exponential backoff); the counters it reports."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from capture.policy import top_prediction
from capture.retrain.metrics import CapturesCollector
from capture.retrain.policy import CapturePolicy
from capture.retrain.records import Capture, CaptureRecord, ModelInfo, blob_name
from capture.retrain.spool import SPOOL_FOLDER, Spool
from capture.retrain.storage import BlobStorage, FolderStorage, Storage, StorageError
from capture.settings import CaptureSettings
from edgekit.messages import Prediction
from edgekit.workers import backoff, count_error

logger = logging.getLogger("capture.retrain")

QUEUE_SIZE = 16  # captures waiting for the writer; a frame is at most a few hundred KB
RETRY_FIRST_S = 1.0  # first wait before storage is tried again after a failure, s
RETRY_MAX_S = 60.0  # longest wait between tries, s
COUNTER_NAMES = ("captured", "uploaded", "spooled", "droppedByRate", "droppedByQuota", "skippedSameScene",
                 "droppedQueueFull", "droppedSpoolFull", "failures")


@dataclass(frozen=True)
class Candidate:
    """What the pipeline offers: the frame's image (HxWx3 BGR), number and UTC time, the JPEG sent to the
    classifier, its predictions and the model that answered."""

    image: np.ndarray
    number: int
    captured_at: datetime
    jpeg: bytes
    predictions: list[Prediction]
    model: ModelInfo


class Captures:
    """The capture policy, the bounded queue and the writer thread; the counters it reports.

    settings: the module's settings at start (the start-up ones choose the storage and spool; the live
    ones are passed to each :meth:`offer`). Call :meth:`start`, then :meth:`offer` per classified frame,
    then :meth:`close`.
    """

    def __init__(self, settings: CaptureSettings, rng: random.Random | None = None) -> None:
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.policy = CapturePolicy(self.counters, rng)
        self.storage_error = ""
        connection = settings.capture_storage_connection_string.get_secret_value()
        root = Path(settings.capture_dir)
        self.storage: Storage | None = None if connection else FolderStorage(root)
        self.kind = "blob" if connection else "folder"
        # Blob Storage is opened (azure-storage-blob imported: 16 MB resident) only once captures are on or
        # a spool waits, not in a CameraCapture that never captures (CAPTURE_MODE=off, the default).
        self._connection = connection
        self.container = settings.capture_container
        spool_dir = Path(settings.capture_spool_dir) if settings.capture_spool_dir else root / SPOOL_FOLDER
        self.spool = Spool(spool_dir, settings.capture_spool_max_mb * 1024 * 1024)
        self._queue: queue.Queue[Capture] = queue.Queue(QUEUE_SIZE)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # counters written by both threads
        self._retry_at = 0.0
        self._delays = backoff(RETRY_FIRST_S, RETRY_MAX_S)
        self.mode = settings.capture_mode
        if settings.capture_mode != "off" or len(self.spool):
            self._open_blob()

    def _open_blob(self) -> None:
        """Open Blob Storage once (at start, or in the writer thread when the first capture comes); a
        connection string the SDK refuses leaves ``storage`` None and says why in ``storage_error``."""
        connection, self._connection = self._connection, ""
        if not connection:
            return
        try:
            self.storage = BlobStorage(connection)
        except StorageError as exc:
            self.storage_error = str(exc)
            logger.error("captures: %s; captures are spooled until the module is redeployed with a valid one", exc)

    # --- the pipeline's side ---------------------------------------------------------------------
    def offer(self, candidate: Candidate, settings: CaptureSettings, source: str) -> None:
        """Capture ``candidate`` if the policy says so; never blocks (a full queue drops and counts).

        source: VIDEO_PATH with credentials masked."""
        self.mode = settings.capture_mode
        if settings.capture_mode == "off":
            return
        reason = self.policy.reason(candidate.predictions, settings)
        if reason is None:
            return
        best = max(candidate.predictions, key=lambda p: p.probability, default=None)
        best_tag = best.tagName if best else None
        if not self.policy.admit(candidate.image, best_tag, candidate.captured_at, settings):
            return
        top = top_prediction(candidate.predictions, settings.threshold)
        per_tag = top.tagName if top else best_tag
        name = blob_name(settings.capture_group_by, per_tag, candidate.captured_at, candidate.number)
        record = CaptureRecord(
            capturedAt=candidate.captured_at.astimezone(timezone.utc), reason=reason,
            tagName=top.tagName if top else None, bestTag=best_tag, probability=best.probability if best else 0.0,
            threshold=settings.threshold, band=settings.capture_band, predictions=candidate.predictions,
            source=source, frameNumber=candidate.number, modelSha256=candidate.model.sha256,
            modelFlavour=candidate.model.flavour, image=f"{name}.jpg")
        try:
            self._queue.put_nowait(Capture(container=self.container, name=name, record=record, jpeg=candidate.jpeg))
        except queue.Full:
            with self._lock:
                self.counters["droppedQueueFull"] += 1
            return
        with self._lock:
            self.counters["captured"] += 1

    # --- the writer ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (it also uploads what an earlier run left in the spool)."""
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the writer: what is still queued is spooled (up to the bound), not lost."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until the queue is empty and nothing is spooled (tests, shutdown); False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks or len(self.spool):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _run(self) -> None:
        while True:
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the writer must outlive any one capture
                logger.exception("captures: the writer failed on a capture; going on")
                count_error("capture-writer")
                self._closing.wait(RETRY_FIRST_S)
            if self._closing.is_set():
                break
        while True:  # closing: keep what is queued
            try:
                capture = self._queue.get_nowait()
            except queue.Empty:
                return
            self._to_spool(capture)
            self._queue.task_done()

    def _step(self) -> None:
        if self._connection and len(self.spool):
            self._open_blob()
        draining = bool(len(self.spool)) and self.storage is not None and time.monotonic() >= self._retry_at
        wait = 0.0 if draining else min(1.0, max(0.05, self._retry_at - time.monotonic()))
        try:
            capture: Capture | None = self._queue.get(timeout=wait) if wait else self._queue.get_nowait()
        except queue.Empty:
            capture = None
        if capture is not None:
            if self._connection:  # the first capture since captures were turned on
                self._open_blob()
            try:
                if len(self.spool) or self.storage is None or time.monotonic() < self._retry_at:
                    self._to_spool(capture)  # behind what waits already: the order is kept
                elif not self._upload(capture):
                    self._to_spool(capture)
            finally:
                self._queue.task_done()
        elif draining:
            oldest = self.spool.oldest()
            if oldest is not None and self._upload(oldest):
                self.spool.remove_oldest()

    def _upload(self, capture: Capture) -> bool:
        assert self.storage is not None
        try:
            self.storage.put(capture)
        except StorageError as exc:
            delay = next(self._delays)
            self._retry_at = time.monotonic() + delay
            with self._lock:
                self.counters["failures"] += 1
            if str(exc) != self.storage_error:
                logger.warning("captures: storage failed (%s); spooling, retrying in %.1f s", exc, delay)
            self.storage_error = str(exc)
            return False
        if self.storage_error:
            logger.info("captures: storage answers again; uploading the spool (%d captures)", len(self.spool))
        self.storage_error = ""
        self._delays = backoff(RETRY_FIRST_S, RETRY_MAX_S)
        with self._lock:
            self.counters["uploaded"] += 1
        return True

    def _to_spool(self, capture: Capture) -> None:
        if self.spool.add(capture):
            with self._lock:
                self.counters["spooled"] += 1
        else:
            with self._lock:
                self.counters["droppedSpoolFull"] += 1

    # --- what is reported ------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """For reported properties (``capture.captures``): ``mode``, ``storage`` (``blob`` | ``folder``),
        ``target`` (endpoint or folder, credentials masked; "" until Blob Storage is opened, with the
        first capture), ``container`` (CAPTURE_CONTAINER),
        ``storageError`` ("" when it works), the
        counters (:data:`COUNTER_NAMES`), ``spoolFiles`` and ``spoolBytes`` (waiting now), ``queued``."""
        with self._lock:
            counters = dict(self.counters)
        return {"mode": self.mode, "storage": self.kind,
                "target": self.storage.target if self.storage is not None else "", "container": self.container,
                "storageError": self.storage_error or self.spool.error, **counters,
                "spoolFiles": len(self.spool), "spoolBytes": self.spool.bytes, "queued": self._queue.qsize()}

    def collector(self) -> CapturesCollector:
        """The Prometheus collector of :meth:`status`'s counters."""
        return CapturesCollector(self.status)

