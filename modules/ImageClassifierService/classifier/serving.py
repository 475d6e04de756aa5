"""The model being served, and replacing it live through the module twin.

``ModelSlot`` holds the active model; requests take a reference once, so a swap is atomic and an
answer is never computed by half of one model and half of another. Until the first model is in
the slot the service answers 503 (not ready).

``ModelUpdater`` follows the desired properties ``modelUrl`` (+ optional ``modelSha256``): it
downloads the export (a Custom Vision export zip, or a single model file), verifies its SHA-256,
loads it beside the running model, checks that it predicts on a probe image, then swaps. Reported
properties: ``model`` (the active model, see ``ModelInfo.reported``) and ``modelUpdate`` (the
outcome of the last update: ``status`` downloading|loading|applied|failed, ``url``, ``sha256`` (the
download's, as ``modelSha256`` names it; the model file's for a model from a folder),
``reason``, ``at``; a password or SAS signature in the URL masked). A failed update leaves the
previous model answering, and nothing of it in the cache folder; one that failed on the network
or a server error is retried with backoff.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image

from classifier.backends import BACKENDS
from classifier.export import load
from classifier.model import Model, ModelLoadError
from classifier.zipsafety import DEFAULT_LIMITS, UnpackLimits, unpack_zip
from classifier.fetch import AddressGuard, FetchError, fetch
from edgekit.inbox import Inbox
from edgekit.redact import redact, redact_url

logger = logging.getLogger(__name__)

MAX_RETRY_S = 900.0
DOWNLOAD_DEADLINE_S = 900.0  # longest a whole model download may take (every connect and read), s


class ModelSlot:
    """The active model (None until the first is loaded); ``swap`` replaces it atomically and
    calls each listener with the new model."""

    def __init__(self, model: Model | None = None) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Model], None]] = []

    @property
    def current(self) -> Model | None:
        return self._model

    def add_listener(self, listener: Callable[[Model], None]) -> None:
        self._listeners.append(listener)

    def swap(self, model: Model) -> Model | None:
        """Make ``model`` the active one; returns the one it replaced."""
        with self._lock:
            old, self._model = self._model, model
        for listener in self._listeners:
            listener(model)
        return old


class UpdateError(RuntimeError):
    """A model update failed; the message says why and what to do. ``transient``: the network
    or the server failed, so the same update is retried with backoff."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def probe_image() -> Image.Image:
    """A 320x240 RGB test card (colour bars) every image export can be run on."""
    bars = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
    image = Image.new("RGB", (320, 240))
    for i, colour in enumerate(bars):
        image.paste(colour, (i * 40, 0, (i + 1) * 40, 240))
    return image


def check_predicts(model: Model) -> None:
    """Raise UpdateError unless ``model`` answers the probe image with valid predictions."""
    try:
        predictions = model.classify(probe_image())
    except Exception as exc:  # noqa: BLE001 - any failure of a new model on the probe is a refusal
        raise UpdateError(f"the new model fails on a probe image ({exc.__class__.__name__}: {str(exc)[:200]})") from exc
    if model.info.task == "classification" and len(predictions) != len(model.labels):
        raise UpdateError(f"the new model gave {len(predictions)} scores for {len(model.labels)} tags on a probe image")
    for p in predictions:
        if not (math.isfinite(p.probability) and -1e-6 <= p.probability <= 1 + 1e-6):
            raise UpdateError(f"the new model gave probability {p.probability} for {p.tagName} on a probe image: "
                              "is labels.txt the one exported with it?")


class ModelUpdater:
    """Applies model updates one at a time on a worker thread; the newest request wins.

    slot: where the model is swapped in; report(patch): reported-properties sink;
    fallback: where the model comes from when ``modelUrl`` is cleared (MODEL_DIR or the bundled
    model); cache_dir: downloads live here, one folder per SHA-256, only the serving one kept;
    threads: inference threads; timeout_s: per-network-operation timeout in s; max_bytes: download
    cap in bytes; limits: caps on unpacking an export zip; retry_s: first delay before retrying an
    update that failed on the network or a server error (doubling up to ``MAX_RETRY_S``); guard: the
    download targets allowed (default: public addresses only, as /url; main.py lists MODEL_URL_ALLOWED_HOSTS).
    Any exception of an update is logged and reported as ``failed``; the previous model keeps answering.
    """

    def __init__(self, slot: ModelSlot, report: Callable[[dict[str, Any]], None], fallback: str | Path,
                 cache_dir: Path | None = None, threads: int = 0, timeout_s: float = 30.0,
                 max_bytes: int = DEFAULT_LIMITS.total_bytes, limits: UnpackLimits = DEFAULT_LIMITS,
                 retry_s: float = 30.0, guard: AddressGuard | None = None) -> None:
        self.slot = slot
        self._report = report
        self._fallback = str(fallback)
        self.cache_dir = cache_dir or Path(tempfile.gettempdir()) / "classifier-models"
        self._threads = threads
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._limits = limits
        self._retry_s = retry_s
        self._guard = guard if guard is not None else AddressGuard(setting="MODEL_URL_ALLOWED_HOSTS")
        self._active: tuple[str, str] = ("", "")
        self._serving: Path | None = None  # the cache folder of the model serving, None for the fallback
        self._delay: float | None = None  # the last retry delay of the failing request
        self._retry: threading.Timer | None = None
        self._lock = threading.Lock()
        self._requested: tuple[str, str] = ("", "")  # the newest request: what reload() loads again
        self._applying = threading.Lock()  # one update or reload at a time
        self._reloading = False  # a reload started by start_reload is waiting or running
        self.last: dict[str, Any] = {}
        # One update at a time on the inbox's worker; only the newest waiting request is kept.
        self._inbox: Inbox[tuple[str, str]] = Inbox(self._consume, capacity=1, name="model-updater")

    def request(self, url: str, sha256: str = "") -> None:
        """Ask for the model at ``url`` (empty: back to the fallback model); returns at once."""
        with self._lock:
            self._cancel_retry()
            self._delay = None
            self._requested = (url, sha256.lower())
        self._inbox.put((url, sha256.lower()))

    @property
    def reloading(self) -> bool:
        """True while a reload from :meth:`start_reload` waits for an update or runs."""
        return self._reloading

    def start_reload(self) -> bool:
        """:meth:`reload` on a thread of its own, so that a caller (a direct method) is answered at once
        however long the download takes; its outcome is reported in ``modelUpdate``. False, and nothing
        started, while one is already waiting or running."""
        with self._lock:
            if self._reloading:
                return False
            self._reloading = True
        threading.Thread(target=self._reload_in_background, name="model-reload", daemon=True).start()
        return True

    def _reload_in_background(self) -> None:
        try:
            self.reload()
        except UpdateError as exc:  # logged and reported (modelUpdate: failed) by reload itself
            logger.debug("the reload failed: %s", exc)
        finally:
            with self._lock:
                self._reloading = False

    def reload(self) -> Model:
        """Load the configured model again now (``modelUrl`` when set, downloaded and verified again,
        else the fallback), check it and swap it in, after any update in progress; returns the model
        now serving. Raises UpdateError with the reason when it fails (the previous model keeps
        answering; reported ``modelUpdate`` says ``failed``)."""
        with self._applying:
            with self._lock:
                url, sha256 = self._requested
                self._cancel_retry()
                self._delay = None
            try:
                self._apply(url, sha256)
            except Exception as exc:  # noqa: BLE001 - reported and answered like a failed update
                logger.exception("model reload from %s failed unexpectedly", redact_url(url) or self._fallback)
                reason = f"unexpected error: {exc.__class__.__name__}: {str(exc)[:200]}"
                self._status("failed", url, sha256, reason)
                raise UpdateError(reason) from exc
            finally:
                self._prune()
            if self.last.get("status") != "applied":
                raise UpdateError(str(self.last.get("reason") or "the reload failed"))
            model = self.slot.current
            assert model is not None
            return model

    def close(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            self._cancel_retry()
        self._inbox.close(timeout_s)

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no update is pending or running (for tests and start-up); False on timeout."""
        return self._inbox.wait_idle(timeout_s)

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _consume(self, wanted: tuple[str, str]) -> None:
        with self._applying:
            if wanted == self._active:
                return
            try:
                self._apply(*wanted)
            except Exception as exc:  # noqa: BLE001 - the updater must outlive any one failed update
                logger.exception("model update from %s failed unexpectedly", redact_url(wanted[0]))
                self._status("failed", wanted[0], wanted[1], f"unexpected error: {exc.__class__.__name__}: {str(exc)[:200]}")
                self._active = wanted
            finally:
                self._prune()

    def _status(self, status: str, url: str, sha256: str = "", reason: str = "") -> None:
        """Report the outcome, credentials in ``url`` and ``reason`` masked."""
        self.last = {"status": status, "url": redact_url(url), "sha256": sha256, "reason": redact(reason),
                     "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self._report({"modelUpdate": dict(self.last)})

    def _apply(self, url: str, sha256: str) -> None:
        location: str | Path
        try:
            if url:
                self._status("downloading", url, sha256)
                location, digest = self._download(url, sha256)
            else:
                location, digest = self._fallback, ""
            self._status("loading", url, digest)
            try:
                model = load(location, threads=self._threads, limits=self._limits)
            except ModelLoadError as exc:
                raise UpdateError(str(exc)) from exc
            check_predicts(model)
        except UpdateError as exc:
            reason = str(exc)
            if exc.transient:  # retried with backoff until it works or the desired properties change
                with self._lock:
                    delay = self._retry_s if self._delay is None else min(MAX_RETRY_S, self._delay * 2)
                    self._delay = delay
                    self._retry = threading.Timer(delay, self._inbox.put, args=[(url, sha256)])
                    self._retry.daemon = True
                    self._retry.start()
                reason += f"; retrying in {delay:g} s"
            else:  # not retried until the desired properties change
                self._active, self._delay = (url, sha256), None
            logger.error("model update from %s failed, the previous model keeps answering: %s",
                         redact_url(url) or self._fallback, redact(reason))
            self._status("failed", url, sha256, reason)
            return
        self._delay = None
        if url:  # the download's hash, the model's identity to the operator (desired modelSha256), reported beside the file's
            model.info = dataclasses.replace(model.info, export_sha256=digest)
        old = self.slot.swap(model)
        self._active, self._serving = (url, sha256), Path(location) if url else None
        logger.info("model updated: now serving %s (%s), replacing %s", model.info.source, model.info.flavour,
                    old.info.source if old else "nothing")
        self._report({"model": model.info.reported()})
        self._status("applied", url, digest or model.info.sha256)  # what modelSha256 names; the file's from a folder

    def _prune(self) -> None:
        """Remove everything in the cache but the export now serving: the other downloads, and
        what a failed update unpacked (a device's disk is small)."""
        if not self.cache_dir.is_dir():
            return
        for entry in self.cache_dir.iterdir():
            if entry == self._serving:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def _download(self, url: str, sha256: str) -> tuple[Path, str]:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkstemp(prefix="download-", dir=self.cache_dir)[1])
        digest = hashlib.sha256()
        try:
            with partial.open("wb") as out:
                def write(chunk: bytes) -> None:
                    digest.update(chunk)
                    out.write(chunk)

                try:
                    fetch(url, self._timeout_s, self._max_bytes, write, deadline_s=DOWNLOAD_DEADLINE_S, guard=self._guard)
                except FetchError as exc:
                    hint = "is modelUrl a model export?" if exc.too_large else "check the URL (and its SAS token) and the network"
                    raise UpdateError(f"could not download modelUrl: {exc}; {hint}", transient=exc.transient) from exc
            got = digest.hexdigest()
            if sha256 and got != sha256:
                raise UpdateError(f"the download's SHA-256 is {got}, not modelSha256 {sha256}: the file changed or the URL is wrong")
            return self._unpack(partial, url, got), got
        finally:
            partial.unlink(missing_ok=True)

    def _unpack(self, download: Path, url: str, digest: str) -> Path:
        target = self.cache_dir / digest
        if target.is_dir():
            return target
        staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=self.cache_dir))
        try:
            if zipfile.is_zipfile(download):
                unpack_zip(download, staging, self._limits)
            else:
                name = url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
                suffixes = [s for s in BACKENDS if name.endswith(s)]
                if not suffixes:
                    raise UpdateError("modelUrl is neither an export zip nor a .onnx, .tflite or .pb model file")
                shutil.copy(download, staging / f"model{suffixes[0]}")  # the name the loader looks for
            staging.rename(target)
        except ModelLoadError as exc:
            raise UpdateError(str(exc)) from exc
        except OSError as exc:
            raise UpdateError(f"the download could not be unpacked ({exc.__class__.__name__}): "
                              "is there room in the cache folder?") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target
