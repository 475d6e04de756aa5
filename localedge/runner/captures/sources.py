"""Where captures are read from: a storage account (azure-storage-blob) or a folder; each capture's sidecar, and
the counts ``captures list`` prints. The layout is described in :mod:`localedge.runner.captures`."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from localedge.runner.captures import CapturesError

SIDECAR_MAX_BYTES = 64 * 1024  # a sidecar is a few hundred bytes; a larger .json is not one
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")  # the formats CreateImagesFromData takes
DEFAULT_MAX = 100_000  # captures read by one command at most


# ---- the sidecar CameraCapture writes beside each frame ------------------------------------------------------------

class SidecarPrediction(BaseModel):
    """One prediction as the classifier answered it (Custom Vision's shape; other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")
    tagName: str = Field(max_length=256)
    probability: float = Field(ge=0.0, le=1.0)


class Sidecar(BaseModel):
    """``<name>.json`` beside ``<name>.jpg``, as CameraCapture writes it (capture.retrain.records.CaptureRecord):
    ``capturedAt`` (ISO 8601, UTC), ``reason`` (uncertain, change, sample), ``tagName`` (the top tag at the
    threshold, or null), ``bestTag`` / ``probability`` (the most probable tag, the label offered for review),
    ``threshold``, ``band``, ``predictions`` (Custom Vision's shape), ``source`` (credentials masked),
    ``frameNumber``, ``modelSha256`` / ``modelFlavour`` (the model that answered), ``image`` (the JPEG's name).
    Only what this command reads is checked; other fields are kept as they are."""

    model_config = ConfigDict(extra="allow")
    predictions: list[SidecarPrediction] = Field(default_factory=list, max_length=1000)
    reason: str = Field(default="unknown", max_length=64)
    capturedAt: datetime | None = None
    bestTag: str | None = Field(default=None, max_length=256)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    threshold: float | None = None
    frameNumber: int | None = None
    modelSha256: str | None = Field(default=None, max_length=64)
    modelFlavour: str | None = Field(default=None, max_length=64)

    @property
    def best(self) -> SidecarPrediction | None:
        """The label suggested for review: ``bestTag`` with its ``probability`` when the sidecar names it, else
        the most probable prediction; None when there is none."""
        if "bestTag" in self.model_fields_set:
            return SidecarPrediction(tagName=self.bestTag, probability=self.probability or 0.0) if self.bestTag else None
        return max(self.predictions, key=lambda p: p.probability, default=None)

    @property
    def tag_at_threshold(self) -> str | None:
        """The tag the model gave at its threshold: ``tagName`` when the sidecar names it (null: none reached the
        threshold), else the most probable prediction when it is at or above ``threshold``; None otherwise (and
        when the sidecar has no threshold). Only this tag names a review folder."""
        if "tagName" in self.model_fields_set:
            name = getattr(self, "tagName", None)
            return name if isinstance(name, str) and name else None
        best = max(self.predictions, key=lambda p: p.probability, default=None)
        if best is None or self.threshold is None or best.probability < self.threshold:
            return None
        return best.tagName

    @property
    def day(self) -> str:
        """``YYYY-MM-DD`` of ``capturedAt`` in UTC; ``unknown`` without it."""
        if self.capturedAt is None:
            return "unknown"
        moment = self.capturedAt if self.capturedAt.tzinfo else self.capturedAt.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).date().isoformat()


@dataclass(frozen=True)
class Capture:
    """One capture: ``key`` says where it is (``<container>/<name>`` or the path under ``--dir``, no suffix);
    ``group`` is its container ("" in a folder), ``image`` the image's blob name or path."""

    key: str
    group: str
    image: str  # the image's blob name or path
    sidecar: Sidecar
    sidecar_text: bytes

    @property
    def tag(self) -> str | None:
        """The most probable tag (what ``list`` counts and ``--tag`` filters by)."""
        best = self.sidecar.best
        return best.tagName if best is not None else None

    @property
    def label(self) -> str | None:
        """The tag at the threshold (:attr:`Sidecar.tag_at_threshold`): the review folder it is exported to."""
        return self.sidecar.tag_at_threshold


@dataclass
class Scan:
    """What a source held: the captures read and how many blobs or files were skipped, and why."""

    captures: list[Capture] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: bool = False

# ---- sources: a storage account (azure-storage-blob) or a folder ---------------------------------------------------

class Source(Protocol):
    description: str

    def entries(self) -> Iterator[tuple[str, str, int]]:
        """(group, name, size) of every blob or file, sorted by name within each group."""
        ...

    def read(self, group: str, name: str, limit: int) -> bytes:
        """The content of one blob or file (at most ``limit`` bytes, else CapturesError)."""
        ...


class BlobSource:
    """A storage account (Blob Storage on IoT Edge, Azurite, or the cloud account captures are uploaded to)."""

    def __init__(self, connection_string: str, containers: Sequence[str], api_version: str | None = None) -> None:
        from azure.core.exceptions import AzureError
        from azure.storage.blob import BlobServiceClient

        logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK logs every request at INFO
        options: dict[str, Any] = {"api_version": api_version} if api_version else {}
        try:
            self.client = BlobServiceClient.from_connection_string(
                connection_string, connection_timeout=10, read_timeout=60, retry_total=2, initial_backoff=1, increment_base=2,
                **options)
        except (ValueError, AzureError) as exc:
            raise CapturesError(f"the storage connection string cannot be used: {type(exc).__name__}") from None
        self.containers = list(containers)
        self.description = f"storage account {self.client.account_name} at {self.client.url.split('?')[0]}"

    def _names(self) -> list[str]:
        if self.containers:
            return self.containers
        return [c.name for c in self.client.list_containers()]

    def entries(self) -> Iterator[tuple[str, str, int]]:
        for container in self._names():
            for blob in self.client.get_container_client(container).list_blobs():
                yield container, str(blob.name), int(blob.size or 0)

    def read(self, group: str, name: str, limit: int) -> bytes:
        data = self.client.get_blob_client(group, name).download_blob(max_concurrency=1).readall()
        if len(data) > limit:
            raise CapturesError(f"{group}/{name}: larger than {limit} bytes")
        return bytes(data)


class FolderSource:
    """A folder holding ``<name>.jpg`` + ``<name>.json`` pairs, in any subfolders (CameraCapture's local captures);
    hidden files and folders (a name starting with ``.``: the spool, half-written temporaries) are left out."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise CapturesError(f"{folder}: no such folder (--dir names the folder captures were written to)")
        self.folder = folder
        self.description = f"folder {folder}"

    def entries(self) -> Iterator[tuple[str, str, int]]:
        paths = sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.is_symlink()
                       and not any(part.startswith(".") for part in p.relative_to(self.folder).parts))
        for path in paths:
            yield "", path.relative_to(self.folder).as_posix(), path.stat().st_size

    def read(self, group: str, name: str, limit: int) -> bytes:
        path = self.folder / name
        with path.open("rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise CapturesError(f"{name}: larger than {limit} bytes")
        return data


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name.rsplit("/", 1)[-1] else name


def scan(source: Source, limit: int = DEFAULT_MAX) -> Scan:
    """Every capture in ``source`` (an image with its sidecar), at most ``limit``. A sidecar without its image, or
    one that is not valid JSON in the sidecar's shape, is skipped and counted; other files are ignored."""
    result = Scan()
    images: dict[tuple[str, str], tuple[str, int]] = {}
    sidecars: dict[tuple[str, str], tuple[str, int]] = {}
    for seen, (group, name, size) in enumerate(source.entries()):
        if seen >= 4 * limit:  # bounded however many other blobs the account holds
            result.truncated = True
            break
        lower = name.lower()
        if lower.endswith(".json"):
            sidecars[(group, _stem(name))] = (name, size)
        elif lower.endswith(IMAGE_SUFFIXES):
            images[(group, _stem(name))] = (name, size)
        if len(sidecars) > limit:
            result.truncated = True
            break
    for (group, stem), (name, size) in sorted(sidecars.items()):
        if len(result.captures) >= limit:
            result.truncated = True
            break
        image = images.get((group, stem))
        if image is None:
            result.skipped["a sidecar without its image"] += 1
            continue
        if size > SIDECAR_MAX_BYTES:
            result.skipped["a .json too large to be a sidecar"] += 1
            continue
        try:
            text = source.read(group, name, SIDECAR_MAX_BYTES)
            sidecar = Sidecar.model_validate_json(text)
        except (ValidationError, CapturesError, ValueError):
            result.skipped["a sidecar that is not valid"] += 1
            continue
        key = f"{group}/{stem}" if group else stem
        result.captures.append(Capture(key, group, image[0], sidecar, text))
    return result


def summary(captures: Sequence[Capture]) -> dict[str, dict[str, int]]:
    """Counts by predicted tag (``(none)`` when nothing was predicted), reason and day, most first."""
    def count(values: Iterator[str]) -> dict[str, int]:
        return dict(Counter(values).most_common())

    return {"byTag": count(c.tag or "(none)" for c in captures),
            "byReason": count(c.sidecar.reason for c in captures),
            "byDay": dict(sorted(Counter(c.sidecar.day for c in captures).items()))}

