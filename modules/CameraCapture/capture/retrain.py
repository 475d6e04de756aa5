"""Captures for retraining: keep the frames the model was unsure of, in Blob Storage on IoT Edge.

The pipeline hands every classified frame to :meth:`Captures.offer` (on its own thread; it never
blocks: at most a grey thumbnail is computed and a bounded queue is tried). Whether a frame is kept
follows the live settings, in this order:

1. ``captureMode``: ``off`` (nothing; the default), ``uncertain`` (the best probability lies within
   ``captureBand`` of ``threshold``, both ends included), ``changes`` (the top tag at ``threshold``
   differs from the previous classified frame's; "no tag" counts as a tag) or ``sample`` (a random
   ``captureFraction`` of the frames);
2. ``captureMaxPerHour``: at most this many captures in any 60 minutes (a hard rate limit; counted
   ``droppedByRate``);
3. ``captureQuota``: at most this many captures per tag per UTC day (the tag: the most probable one,
   the label a reviewer is offered; the counts restart at 00:00 UTC; counted ``droppedByQuota``);
4. scene gating: a frame whose 64x48 grey thumbnail differs from the last captured frame's by less
   than ``captureSceneChange`` (mean absolute grey-level difference, 0-255; 0: off) is the same
   scene again and is not captured (counted ``skippedSameScene``);
5. the writer's queue (:data:`QUEUE_SIZE` captures): when it is full the capture is dropped
   (``droppedQueueFull``); classification never waits for storage.

A writer thread stores each capture as two blobs, the JPEG exactly as it was sent to the classifier
and its JSON sidecar (:class:`CaptureRecord`), in ONE container, ``CAPTURE_CONTAINER`` (default
``captures``: the container the Blob Storage on IoT Edge module's ``storageContainersForUpload``
names, so captures are uploaded to the cloud and then deleted on the device; that setting takes
exact container names, hence one fixed container). The blob names are ``<group>/<UTC time>-f<frame
number>``, the group being the UTC day (``captureGroupBy`` = ``day``, the default) or the tag
(``tag``: the tag in lowercase letters, digits and hyphens, ``none`` when no prediction at all):
``captures/20261130/20261130T081530.123456Z-f000000042.jpg`` and ``.json`` (sortable by time within
a group), or ``captures/apple/...``. The sidecar is written after the JPEG, so a sidecar always has
its image.

Where: with ``CAPTURE_STORAGE_CONNECTION_STRING``, Blob Storage (the Blob Storage on IoT Edge module
on a device, Azurite under the local runner) through the azure-storage-blob SDK; without it, files
under ``CAPTURE_DIR`` in the same layout (``<CAPTURE_DIR>/<container>/<group>/<name>.jpg``). When
storage fails, captures go to the spool folder (``CAPTURE_SPOOL_DIR``, default
``<CAPTURE_DIR>/.spool``; at most ``CAPTURE_SPOOL_MAX_MB``; it survives restarts) and are uploaded
oldest first when storage answers again, retried with capped exponential backoff; beyond the bound
new captures are dropped and counted (``droppedSpoolFull``).

Sidecars hold no personal data: predictions, threshold, reason, times, the frame number, the source
with credentials masked (edgekit.redact) and the model that answered (``X-Model-Sha256`` and
``X-Model-Flavour`` response headers of the classifier, when it sends them).
"""

from __future__ import annotations

import logging
import os
import queue
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContentSettings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from capture.gate import SceneGate
from capture.policy import top_prediction
from capture.settings import CONTAINER_PATTERN, CaptureSettings
from edgekit.messages import Prediction
from edgekit.redact import redact
from edgekit.workers import backoff, count_error

logger = logging.getLogger(__name__)

QUEUE_SIZE = 16  # captures waiting for the writer; a frame is at most a few hundred KB
SPOOL_FOLDER = ".spool"  # the spool's default folder under CAPTURE_DIR; no container name starts with a dot
# Blob Storage on IoT Edge is consistent with the 2019-07-07 Blob REST API; the SDK's newest default is refused there.
BLOB_API_VERSION = "2019-07-07"
STORAGE_TIMEOUT_S = 10.0  # connect / read timeout of one storage request, s
RETRY_FIRST_S = 1.0  # first wait before storage is tried again after a failure, s
RETRY_MAX_S = 60.0  # longest wait between tries, s
MAX_QUOTA_TAGS = 1024  # distinct tags counted per day; past it, further tags share one count
HOUR_S = 3600.0
MODEL_SHA256_HEADER = "X-Model-Sha256"
MODEL_FLAVOUR_HEADER = "X-Model-Flavour"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_FLAVOUR = re.compile(r"[\x20-\x7e]{1,64}")  # printable ASCII, e.g. "ONNX (tf2onnx)"
NAME_PATTERN = r"^(?:[a-z0-9-]{1,64}/)?[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-f[0-9]{9,}$"  # [group/]time-frame, no suffix

Reason = Literal["uncertain", "change", "sample"]


class ModelInfo(BaseModel):
    """The model that answered: its file's SHA-256 (64 hex digits) and flavour (e.g. ``onnx``); None when unknown."""

    model_config = ConfigDict(frozen=True)

    sha256: str | None = None
    flavour: str | None = None


def model_info(headers: Mapping[str, str]) -> ModelInfo:
    """The classifier's ``X-Model-Sha256`` / ``X-Model-Flavour`` response headers (case-insensitive names);
    a value that is not 64 hex digits / a short token is ignored (None), never trusted into a sidecar."""
    lowered = {k.lower(): v for k, v in headers.items()}
    sha = lowered.get(MODEL_SHA256_HEADER.lower(), "").strip()
    flavour = lowered.get(MODEL_FLAVOUR_HEADER.lower(), "").strip()
    return ModelInfo(sha256=sha.lower() if _SHA256.fullmatch(sha) else None,
                     flavour=flavour if _FLAVOUR.fullmatch(flavour) else None)


class CaptureRecord(BaseModel):
    """The JSON sidecar of one capture (written next to its JPEG as ``<name>.json``).

    capturedAt: when the frame was read (UTC); reason: ``uncertain``, ``change`` or ``sample``;
    tagName: the top tag at ``threshold`` (as sent on the output), null when none reached it;
    bestTag / probability: the most probable tag and its probability 0-1 (the label suggested for
    review; null / 0 when the classifier gave no prediction); threshold and band as applied (0-1);
    predictions: all of the classifier's, in its order; source: VIDEO_PATH with credentials masked;
    frameNumber: the frame's index since the source opened; modelSha256 / modelFlavour: the model
    that answered, null when the classifier did not say; image: the JPEG's blob name in its
    container, group included (``20261130/20261130T081530.123456Z-f000000042.jpg``).
    """

    model_config = ConfigDict(frozen=True)

    capturedAt: datetime
    reason: Reason
    tagName: str | None
    bestTag: str | None
    probability: float = Field(ge=0.0, le=1.0)
    threshold: float = Field(ge=0.0, le=1.0)
    band: float = Field(ge=0.0, le=1.0)
    predictions: list[Prediction]
    source: str
    frameNumber: int = Field(ge=0)
    modelSha256: str | None = None
    modelFlavour: str | None = None
    image: str


class Capture(BaseModel):
    """One capture on its way to storage: where it goes (container; blob name without suffix, group
    included: ``20261130/20261130T081530.123456Z-f000000042``), the sidecar and the JPEG bytes."""

    model_config = ConfigDict(frozen=True)

    container: str = Field(min_length=3, max_length=63, pattern=CONTAINER_PATTERN)
    name: str = Field(pattern=NAME_PATTERN)
    record: CaptureRecord
    jpeg: bytes = Field(exclude=True)

    @property
    def sidecar(self) -> bytes:
        """The sidecar as UTF-8 JSON."""
        return self.record.model_dump_json(indent=1).encode("utf-8")


# --- naming ---------------------------------------------------------------------------------------
def tag_slug(tag: str | None) -> str:
    """A tag as a blob-name group: lowercase ASCII letters, digits and single hyphens, at most 50
    characters (``Granny Smith`` -> ``granny-smith``); ``none`` for no tag, ``tag-<hex>`` when nothing is left."""
    if tag is None:
        return "none"
    slug = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")[:50].strip("-")
    return slug or f"tag-{tag.encode('utf-8').hex()[:16]}"


def group_for(group_by: str, tag: str | None, when: datetime) -> str:
    """The blob-name group: ``20261130`` (``group_by`` ``day``: the UTC day of ``when``) or the tag's
    :func:`tag_slug` (``tag``)."""
    return when.astimezone(timezone.utc).strftime("%Y%m%d") if group_by == "day" else tag_slug(tag)


def blob_base(when: datetime, frame_number: int) -> str:
    """``20261130T081530.123456Z-f000000042``: UTC time, then the frame number; sorts by time."""
    return f"{when.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')}-f{frame_number:09d}"


def blob_name(group_by: str, tag: str | None, when: datetime, frame_number: int) -> str:
    """A capture's blob name without suffix: ``<group>/<time>-f<frame>``, e.g.
    ``20261130/20261130T081530.123456Z-f000000042`` (see :func:`group_for`, :func:`blob_base`)."""
    return f"{group_for(group_by, tag, when)}/{blob_base(when, frame_number)}"


# --- storage --------------------------------------------------------------------------------------
class StorageError(RuntimeError):
    """Storage did not take a capture (unreachable, refused, disk full); the message holds no secret."""


class Storage(Protocol):
    """Where captures go: Blob Storage or a folder."""

    target: str  # what to show: the blob endpoint or folder, credentials masked

    def put(self, capture: Capture) -> None:
        """Store the JPEG, then the sidecar; raises StorageError."""


class BlobStorage:
    """Blob Storage (the Blob Storage on IoT Edge module, Azurite, or a cloud account) via azure-storage-blob.

    connection_string: the account's (a secret; never shown). Raises StorageError for one the SDK cannot parse.
    """

    def __init__(self, connection_string: str) -> None:
        try:
            self._client = BlobServiceClient.from_connection_string(
                connection_string, api_version=BLOB_API_VERSION, retry_total=0,
                connection_timeout=STORAGE_TIMEOUT_S, read_timeout=STORAGE_TIMEOUT_S)
        except (ValueError, AzureError) as exc:
            raise StorageError("CAPTURE_STORAGE_CONNECTION_STRING is not a storage connection string "
                               f"({redact(str(exc))[:120]})") from None
        self.target = redact(self._client.url.rstrip("/"))
        self._containers: set[str] = set()

    def put(self, capture: Capture) -> None:
        try:
            if capture.container not in self._containers:
                try:
                    self._client.create_container(capture.container)
                except ResourceExistsError:
                    pass
                self._containers.add(capture.container)
            container = self._client.get_container_client(capture.container)
            container.upload_blob(f"{capture.name}.jpg", capture.jpeg, overwrite=True,
                                  content_settings=ContentSettings(content_type="image/jpeg"))
            container.upload_blob(f"{capture.name}.json", capture.sidecar, overwrite=True,
                                  content_settings=ContentSettings(content_type="application/json"))
        except (AzureError, ValueError) as exc:  # ValueError: a key that is not base64 fails when signing
            self._containers.discard(capture.container)
            raise StorageError(f"{self.target}: {type(exc).__name__}: {redact(str(exc).splitlines()[0] if str(exc) else '')[:160]}") from None


class FolderStorage:
    """Files under ``root`` in the blobs' layout: ``<root>/<container>/<group>/<time>-f<frame>.jpg`` and
    ``.json`` (each written whole, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.target = str(root)

    def put(self, capture: Capture) -> None:
        base = self.root / capture.container / capture.name  # both checked: no "..", no absolute path
        folder = base.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_whole(base.with_name(f"{base.name}.jpg"), capture.jpeg)
            _write_whole(base.with_name(f"{base.name}.json"), capture.sidecar)
        except OSError as exc:
            raise StorageError(f"{folder}: {exc.strerror or exc}") from None


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name and rename it over ``path``: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# --- the spool ------------------------------------------------------------------------------------
class SpoolEntry(BaseModel):
    """``<seq>.json`` in the spool: the capture's destination (container; blob name without suffix, group
    included) and sidecar (the JPEG is ``<seq>.jpg``)."""

    container: str = Field(min_length=3, max_length=63, pattern=CONTAINER_PATTERN)
    name: str = Field(pattern=NAME_PATTERN)
    record: CaptureRecord


class Spool:
    """A bounded folder of captures waiting for storage, oldest first; survives restarts.

    Each capture is ``<seq>.jpg`` and then ``<seq>.json`` (its destination and sidecar), so an entry
    is complete once its ``.json`` exists; incomplete leftovers of a crash are removed at start.
    max_bytes: the bound on both files of every entry together.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._entries: deque[tuple[int, int]] = deque()  # (seq, bytes), oldest first
        self.bytes = 0
        self.error = ""
        try:
            if folder.is_dir():  # created when first needed: capture off never touches the disk
                self._load()
        except OSError as exc:
            self.error = f"spool {folder}: {exc.strerror or exc}"
            logger.error("captures: %s", self.error)
        self._next = (self._entries[-1][0] + 1) if self._entries else 1

    def _load(self) -> None:
        complete: list[tuple[int, int]] = []
        for path in self.folder.iterdir():
            stem, suffix = path.stem, path.suffix
            if suffix == ".json" and stem.isdigit() and (self.folder / f"{stem}.jpg").exists():
                size = path.stat().st_size + (self.folder / f"{stem}.jpg").stat().st_size
                complete.append((int(stem), size))
        kept = {seq for seq, _ in complete}
        for path in self.folder.iterdir():  # a .jpg without its .json, a temporary file: a crash mid-write
            if not (path.stem.isdigit() and int(path.stem) in kept) and not path.is_dir():
                path.unlink(missing_ok=True)
        for seq, size in sorted(complete):
            self._entries.append((seq, size))
            self.bytes += size

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, capture: Capture) -> bool:
        """Spool ``capture``; False when it would pass the bound (nothing written) or cannot be written."""
        sidecar = SpoolEntry(container=capture.container, name=capture.name,
                             record=capture.record).model_dump_json().encode("utf-8")
        size = len(capture.jpeg) + len(sidecar)
        if self.bytes + size > self.max_bytes:
            return False
        seq = self._next
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_whole(self.folder / f"{seq:012d}.jpg", capture.jpeg)
            _write_whole(self.folder / f"{seq:012d}.json", sidecar)
        except OSError as exc:
            self.error = f"spool {self.folder}: {exc.strerror or exc}"
            logger.error("captures: %s", self.error)
            (self.folder / f"{seq:012d}.jpg").unlink(missing_ok=True)
            return False
        self.error = ""
        self._next += 1
        self._entries.append((seq, size))
        self.bytes += size
        return True

    def oldest(self) -> Capture | None:
        """The oldest spooled capture (None when empty); an unreadable entry is removed and skipped."""
        while self._entries:
            seq = self._entries[0][0]
            try:
                entry = SpoolEntry.model_validate_json((self.folder / f"{seq:012d}.json").read_bytes())
                jpeg = (self.folder / f"{seq:012d}.jpg").read_bytes()
                return Capture(container=entry.container, name=entry.name, record=entry.record, jpeg=jpeg)
            except (OSError, ValidationError, ValueError) as exc:
                logger.error("captures: spooled capture %d unreadable, removed: %s", seq, exc)
                self.remove_oldest()
        return None

    def remove_oldest(self) -> None:
        """Delete the oldest entry's files."""
        seq, size = self._entries.popleft()
        self.bytes -= size
        for suffix in (".json", ".jpg"):
            (self.folder / f"{seq:012d}{suffix}").unlink(missing_ok=True)


# --- the policy -----------------------------------------------------------------------------------
class CapturePolicy:
    """Mode, rate limit, per-tag daily quota and scene gating (see the module docstring).

    ``reason`` and ``admit`` run on the pipeline's thread; ``rng`` draws the ``sample`` fraction.
    """

    def __init__(self, counters: dict[str, int], rng: random.Random | None = None) -> None:
        self.counters = counters
        self.rng = rng or random.Random()
        self.scene = SceneGate()
        self._last_tag: object = None  # the start is an empty scene
        self._recent: deque[float] = deque()  # monotonic times of the captures in the last hour
        self._day = ""
        self._per_tag: dict[str, int] = {}

    def reason(self, predictions: list[Prediction], settings: CaptureSettings) -> Reason | None:
        """Why this classification would be captured by ``captureMode`` alone, or None."""
        top = top_prediction(predictions, settings.threshold)
        tag = top.tagName if top else None
        changed, self._last_tag = tag != self._last_tag, tag
        mode = settings.capture_mode
        if mode == "uncertain":
            best = max((p.probability for p in predictions), default=0.0)
            return "uncertain" if abs(best - settings.threshold) <= settings.capture_band + 1e-9 else None
        if mode == "changes":
            return "change" if changed else None
        if mode == "sample":
            return "sample" if self.rng.random() < settings.capture_fraction else None
        return None

    def admit(self, image: np.ndarray, best_tag: str | None, when: datetime, settings: CaptureSettings) -> bool:
        """Rate limit, quota and scene gate for a frame ``reason`` chose; True: capture it (counted as taken)."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= HOUR_S:
            self._recent.popleft()
        if len(self._recent) >= settings.capture_max_per_hour:
            self.counters["droppedByRate"] += 1
            return False
        day = when.astimezone(timezone.utc).strftime("%Y%m%d")
        if day != self._day:
            self._day, self._per_tag = day, {}
        key = best_tag if best_tag is not None else "\x00none"
        if key not in self._per_tag and len(self._per_tag) >= MAX_QUOTA_TAGS:
            key = "\x00other"
        if self._per_tag.get(key, 0) >= settings.capture_quota:
            self.counters["droppedByQuota"] += 1
            return False
        if not self.scene.changed(image, settings.capture_scene_change):
            self.counters["skippedSameScene"] += 1
            return False
        self._recent.append(now)
        self._per_tag[key] = self._per_tag.get(key, 0) + 1
        return True


# --- the whole ------------------------------------------------------------------------------------
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
        self.storage: Storage | None
        if connection:
            try:
                self.storage = BlobStorage(connection)
            except StorageError as exc:
                self.storage, self.storage_error = None, str(exc)
                logger.error("captures: %s; captures are spooled until the module is redeployed with a valid one", exc)
        else:
            self.storage = FolderStorage(root)
        self.kind = "blob" if connection else "folder"
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
        draining = bool(len(self.spool)) and self.storage is not None and time.monotonic() >= self._retry_at
        wait = 0.0 if draining else min(1.0, max(0.05, self._retry_at - time.monotonic()))
        try:
            capture: Capture | None = self._queue.get(timeout=wait) if wait else self._queue.get_nowait()
        except queue.Empty:
            capture = None
        if capture is not None:
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
        ``target`` (endpoint or folder, credentials masked), ``container`` (CAPTURE_CONTAINER),
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


METRICS = {  # status key -> (metric name without prefix and _total, help)
    "captured": ("captures_taken", "Frames captured for retraining (queued for storage)"),
    "uploaded": ("captures_uploaded", "Captures written to storage (Blob Storage or CAPTURE_DIR)"),
    "spooled": ("captures_spooled", "Captures written to the spool while storage failed"),
    "failures": ("captures_storage_failures", "Storage writes that failed"),
    "skippedSameScene": ("captures_skipped_same_scene", "Captures skipped: the same scene as the last capture"),
}
DROPPED = {"droppedByRate": "rate", "droppedByQuota": "quota", "droppedQueueFull": "queue_full",
           "droppedSpoolFull": "spool_full"}


class CapturesCollector(Collector):
    """``cameracapture_captures_taken_total``, ``_captures_uploaded_total``, ``_captures_spooled_total``,
    ``_captures_storage_failures_total``, ``_captures_skipped_same_scene_total``, ``_captures_dropped_total``
    (label ``reason``: ``rate``, ``quota``, ``queue_full``, ``spool_full``): counters;
    ``cameracapture_captures_spool_files`` / ``_spool_bytes``: gauges. Read from ``status`` at each scrape."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def collect(self) -> Iterable[Metric]:
        status = self._status()
        for key, (name, text) in METRICS.items():
            yield CounterMetricFamily(f"cameracapture_{name}", text, value=status[key])
        dropped = CounterMetricFamily("cameracapture_captures_dropped", "Captures dropped, by reason", labels=["reason"])
        for key, label in DROPPED.items():
            dropped.add_metric([label], status[key])
        yield dropped
        yield GaugeMetricFamily("cameracapture_captures_spool_files", "Captures waiting in the spool",
                                value=status["spoolFiles"])
        yield GaugeMetricFamily("cameracapture_captures_spool_bytes", "Bytes waiting in the spool", value=status["spoolBytes"])


def read_sidecar(data: bytes) -> CaptureRecord:
    """A sidecar's bytes as a :class:`CaptureRecord`; raises pydantic.ValidationError."""
    return CaptureRecord.model_validate_json(data)

