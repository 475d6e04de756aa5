"""``python -m localedge captures``: the frames CameraCapture kept for retraining, listed, exported for review and
uploaded to a Custom Vision training project.

Where captures are: CameraCapture writes each capture as ``<name>.jpg`` (the frame as classified) and
``<name>.json`` (its sidecar: ``predictions`` [{tagName, probability}], ``reason``, ``capturedAt``, ``threshold``,
``frameNumber``, ``modelSha256``...) to one container of Blob Storage on IoT Edge (CAPTURE_CONTAINER, default
``captures``; Azurite under the local runner), grouped by a blob-name prefix, the UTC day or the tag
(``captures/20261130/20261130T081530.123456Z-f000000042.jpg``); the module uploads that container to the user's
cloud storage account (as ``<device id>-captures``) and deletes it on the device. Without storage CameraCapture
writes the same layout under its CAPTURE_DIR. This command reads either: a storage account through a
connection string (``--connection-string``, else ``CAPTURES_CONNECTION_STRING``, else
``BLOB_UPLOAD_CONNECTION_STRING`` from ``.env`` or the environment), with the ``azure-storage-blob`` SDK, every
container or those named; or a folder (``--dir``, e.g. a copy of CAPTURE_DIR; hidden files and folders, such as
the spool ``.spool``, are left out). The earlier layout, a container per day or tag, is read the same way.

- ``list``: counts by predicted tag, reason and day.
- ``export FOLDER``: a folder a person can review: ``FOLDER/<tag>/<name>.jpg`` with its ``.json`` sidecar, grouped
  by the tag the model gave at its threshold (``_untagged`` when no tag reached it, whatever the best guess was:
  ``bestTag`` in the index), ``index.csv`` (one row per capture) and
  ``index.json`` (the same, and which folder stands for which tag). Moving a picture (with its sidecar) to another
  tag's folder, or to a new folder named after a tag, relabels it; deleting it leaves it out of the upload.
- ``upload FOLDER``: an exported (and reviewed) folder to a Custom Vision training project, with the training API
  v3.3: GetTags, CreateTag for the tags the project lacks, and CreateImagesFromData (multipart, at most 64 images
  of at most 6 MB per request, ``tagIds`` the folder's tag). Endpoint, training key and project id come from
  ``.env`` (CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY, CUSTOM_VISION_PROJECT_ID). A 429 is
  retried after its Retry-After; what was uploaded is recorded in ``FOLDER/uploaded.json`` so a second run
  sends only the rest. The key is sent as the ``Training-Key`` header and never printed.

Exit codes: 0 done; 1 some images were refused or could not be read (each said in one line); 2 nothing could
be done (a missing setting, storage or service out of reach, a refused key), said in one line.
"""

from __future__ import annotations

import argparse
import csv
import email.utils
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from localedge.deploy.manifest import load_variables
from localedge.runner import azureml
from localedge.runner.discovery import running_states, state_dir

logger = logging.getLogger("localedge")

SIDECAR_MAX_BYTES = 64 * 1024  # a sidecar is a few hundred bytes; a larger .json is not one
IMAGE_MAX_BYTES = 16 * 1024 * 1024  # read for export at most; Custom Vision takes 6 MB
TRAINING_IMAGE_MAX_BYTES = 6 * 1024 * 1024  # "Supports images up to 6MB" (CreateImagesFromData)
TRAINING_BATCH_MAX = 64  # "multiple image files can be sent at once, with a maximum of 64 files"
TRAINING_API = "customvision/v3.3/training"
DEVICE_API_VERSION = "2019-07-07"  # what CameraCapture speaks to the Blob Storage on IoT Edge module
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")  # the formats CreateImagesFromData takes
UNTAGGED = "_untagged"
DEFAULT_MAX = 100_000  # captures read by one command at most
HTTP_TIMEOUT_S = 60.0
MAX_ATTEMPTS = 6  # per training API request: 429 (after Retry-After), 5xx and connection errors are retried
MAX_RETRY_AFTER_S = 60.0
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UNSAFE = re.compile(r"[^\w.-]+")


class CapturesError(RuntimeError):
    """The command cannot go on; the message is one line naming what to fix (and never a secret)."""


# ---- the sidecar CameraCapture writes beside each frame ------------------------------------------------------------

class SidecarPrediction(BaseModel):
    """One prediction as the classifier answered it (Custom Vision's shape; other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")
    tagName: str = Field(max_length=256)
    probability: float = Field(ge=0.0, le=1.0)


class Sidecar(BaseModel):
    """``<name>.json`` beside ``<name>.jpg``, as CameraCapture writes it (capture.retrain.CaptureRecord):
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


# ---- settings: .env and the command line ---------------------------------------------------------------------------

def _variables(args: argparse.Namespace) -> dict[str, str]:
    return load_variables(Path(args.env_file), os.environ)


def open_source(args: argparse.Namespace) -> Source:
    """The source the arguments name: ``--dir``, else a connection string: ``--connection-string``, else
    CAPTURES_CONNECTION_STRING (.env or the environment), else the Azurite of a running local runner (its
    state file, :mod:`localedge.runner.discovery`), else BLOB_UPLOAD_CONNECTION_STRING."""
    if args.dir:
        return FolderSource(Path(args.dir))
    variables = _variables(args)
    local = next((text for state in running_states(state_dir()) for text in (state.get("blob") or {}).values()), "")
    text = args.connection_string or variables.get("CAPTURES_CONNECTION_STRING") or local or \
        variables.get("BLOB_UPLOAD_CONNECTION_STRING") or ""
    if not text.strip():
        raise CapturesError("no storage to read: pass --dir FOLDER, run `python -m localedge run` (its Azurite), or set "
                            "CAPTURES_CONNECTION_STRING in .env (the storage account captures are uploaded to)")
    return BlobSource(text.strip(), args.container or [], args.api_version)


def _scan_source(args: argparse.Namespace) -> tuple[Source, Scan]:
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

    source = open_source(args)
    try:
        found = scan(source, args.max)
    except ClientAuthenticationError:
        raise CapturesError(f"{source.description}: the account key or SAS was refused; check the connection "
                            "string") from None
    except HttpResponseError as exc:
        raise CapturesError(f"{source.description}: {exc.status_code} {exc.reason}") from None
    except AzureError as exc:
        raise CapturesError(f"{source.description} is out of reach ({type(exc).__name__}); is it running?") from None
    except OSError as exc:
        raise CapturesError(f"{source.description}: {exc.strerror or exc}") from None
    if not getattr(args, "json", False):  # --json: all of it in the document, so stdout stays one JSON document
        if found.truncated:
            logger.warning("more than %d captures: only the first %d were read (--max)", args.max, args.max)
        for reason, count in found.skipped.items():
            logger.warning("skipped %d: %s", count, reason)
    return source, found


def _filtered(captures: Sequence[Capture], args: argparse.Namespace) -> list[Capture]:
    tags = {t.lower() for t in (args.tag or [])}
    reasons = set(args.reason or [])
    return [c for c in captures if (not tags or (c.tag or "(none)").lower() in tags) and
            (not reasons or c.sidecar.reason in reasons) and
            (args.since is None or c.sidecar.day >= args.since.isoformat()) and
            (args.until is None or c.sidecar.day <= args.until.isoformat())]


# ---- list ------------------------------------------------------------------------------------------------------------

def list_captures(args: argparse.Namespace) -> int:
    """Print the captures' counts by tag, reason and day (``--json``: as JSON)."""
    source, found = _scan_source(args)
    captures = _filtered(found.captures, args)
    counts = summary(captures)
    if args.json:
        print(json.dumps({"source": source.description, "captures": len(captures), **counts,
                          "skipped": dict(found.skipped), "truncated": found.truncated}, indent=2))
        return 0
    print(f"{len(captures)} capture(s) in {source.description}")
    for title, key in (("by tag", "byTag"), ("by reason", "byReason"), ("by day", "byDay")):
        if counts[key]:
            width = max(len(name) for name in counts[key])
            print(f"{title}:")
            for name, count in counts[key].items():
                print(f"  {name:<{width}}  {count:>6}")
    return 0


# ---- export ----------------------------------------------------------------------------------------------------------

def folder_name(tag: str | None) -> str:
    """A folder name for ``tag`` that is safe on every file system (``_untagged`` for none)."""
    if not tag:
        return UNTAGGED
    safe = _UNSAFE.sub("_", tag).strip("._") or "tag"
    return safe[:80] if safe != UNTAGGED else "untagged_"


def _file_name(key: str, used: set[str]) -> str:
    base = _UNSAFE.sub("_", key.replace("/", "_")).strip("._") or "capture"
    if len(base) > 120:
        base = f"{base[:100]}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


def export(args: argparse.Namespace) -> int:
    """Write the captures (filtered by --tag, --reason, --since, --until) into a new review folder."""
    out = Path(args.folder)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CapturesError(f"{out}: exists and is not empty; export into a new folder (a review in progress is "
                            "never overwritten)")
    source, found = _scan_source(args)
    captures = _filtered(found.captures, args)
    out.mkdir(parents=True, exist_ok=True)
    folders: dict[str, str | None] = {}
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    failed = 0
    for capture in captures:
        folder = folder_name(capture.label)  # below the threshold: _untagged, whatever the best guess was
        folders.setdefault(folder, capture.label)
        suffix = Path(capture.image).suffix.lower() or ".jpg"
        try:
            image = source.read(capture.group, capture.image, IMAGE_MAX_BYTES)
        except (CapturesError, OSError) as exc:
            logger.warning("%s: not exported (%s)", capture.key, exc)
            failed += 1
            continue
        except Exception as exc:  # the SDK's errors: one line, and the export goes on
            logger.warning("%s: not exported (%s)", capture.key, type(exc).__name__)
            failed += 1
            continue
        stem = _file_name(capture.key, used)
        (out / folder).mkdir(exist_ok=True)
        (out / folder / f"{stem}{suffix}").write_bytes(image)
        (out / folder / f"{stem}.json").write_bytes(capture.sidecar_text)
        best = capture.sidecar.best
        rows.append({"file": f"{folder}/{stem}{suffix}", "tag": capture.label, "bestTag": capture.tag,
                     "probability": best.probability if best else None,
                     "reason": capture.sidecar.reason, "capturedAt": capture.sidecar.capturedAt.isoformat()
                     if capture.sidecar.capturedAt else None, "threshold": capture.sidecar.threshold,
                     "frameNumber": capture.sidecar.frameNumber, "modelSha256": capture.sidecar.modelSha256,
                     "modelFlavour": capture.sidecar.modelFlavour, "source": capture.key})
    index = {"exportedAt": datetime.now(timezone.utc).isoformat(), "source": source.description,
             "folders": {name: tag for name, tag in sorted(folders.items())}, "captures": rows}
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    with (out / "index.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else ["file"])
        writer.writeheader()
        writer.writerows(rows)
    logger.info("exported %d capture(s) into %s (%s); review them, move or delete pictures, then: "
                "python -m localedge captures upload %s", len(rows), out,
                ", ".join(f"{name} {sum(1 for r in rows if r['file'].startswith(name + '/'))}" for name in sorted(folders)),
                out)
    if args.format == "azureml":  # the same review folder, and the Azure ML dataset of it (localedge/runner/azureml.py)
        azureml.export(args, out, review_pictures(out))
    return 1 if failed else 0


# ---- upload: the Custom Vision training API v3.3 ----------------------------------------------------------------------

class TrainingTag(BaseModel):
    """A tag of the training project (GetTags, CreateTag)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    name: str


class ImageCreateResult(BaseModel):
    """One image of a CreateImagesFromData answer: ``status`` OK, OKDuplicate or an Error... code."""

    model_config = ConfigDict(extra="ignore")
    sourceUrl: str | None = None
    status: str
    image: dict[str, Any] | None = None


class ImageCreateSummary(BaseModel):
    """CreateImagesFromData's answer (200, or 207 when some images failed)."""

    model_config = ConfigDict(extra="ignore")
    isBatchSuccessful: bool
    images: list[ImageCreateResult] = Field(default_factory=list)


@dataclass(frozen=True)
class TrainingProject:
    """Where to upload: the training resource's endpoint, its key (a secret) and the project id."""

    endpoint: str
    key: str = field(repr=False)
    project_id: str

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> TrainingProject:
        """From CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY and CUSTOM_VISION_PROJECT_ID; raises
        CapturesError naming what is missing or malformed."""
        endpoint = (variables.get("CUSTOM_VISION_TRAINING_ENDPOINT") or "").strip().rstrip("/")
        key = (variables.get("CUSTOM_VISION_TRAINING_KEY") or "").strip()
        project = (variables.get("CUSTOM_VISION_PROJECT_ID") or "").strip()
        missing = [name for name, value in (("CUSTOM_VISION_TRAINING_ENDPOINT", endpoint), ("CUSTOM_VISION_TRAINING_KEY", key),
                                            ("CUSTOM_VISION_PROJECT_ID", project)) if not value]
        if missing:
            raise CapturesError(f"set {', '.join(missing)} in .env (the Custom Vision training resource's endpoint and key, "
                                "and the project's id, from the project's settings page)")
        if not re.fullmatch(r"https?://[^/\s?#]+", endpoint):
            raise CapturesError("CUSTOM_VISION_TRAINING_ENDPOINT: write the resource's endpoint, e.g. "
                                "https://my-resource.cognitiveservices.azure.com/")
        if not _GUID.fullmatch(project):
            raise CapturesError("CUSTOM_VISION_PROJECT_ID: write the project's id, a GUID such as "
                                "64b822c5-8082-4b36-a426-27225f4aa18c")
        return cls(endpoint, key, project.lower())

    def url(self, path: str) -> str:
        return f"{self.endpoint}/{TRAINING_API}/projects/{self.project_id}/{path}"


class TrainingClient:
    """The three training API operations the upload needs, with retries: a 429 waits for its Retry-After (at most
    60 s), a 5xx or a lost connection is retried with backoff, at most 6 attempts a request."""

    def __init__(self, project: TrainingProject, sleep: Any = time.sleep) -> None:
        self.project = project
        self.session = requests.Session()
        self.session.headers["Training-Key"] = project.key
        self._sleep = sleep
        self.throttled = 0

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = min(2.0 ** attempt, MAX_RETRY_AFTER_S)
            try:
                reply = self.session.request(method, self.project.url(path), timeout=HTTP_TIMEOUT_S, **kwargs)
            except requests.RequestException as exc:
                if attempt == MAX_ATTEMPTS:
                    raise CapturesError(f"the training API at {self.project.endpoint} is out of reach "
                                        f"({type(exc).__name__})") from None
                self._sleep(wait)
                continue
            if reply.status_code == 429 or reply.status_code >= 500:
                if attempt == MAX_ATTEMPTS:
                    break
                if reply.status_code == 429:
                    self.throttled += 1
                    wait = _retry_after(reply.headers.get("Retry-After"), wait)
                    logger.info("the training API is throttling (429): waiting %.0f s as it asks", wait)
                self._sleep(wait)
                continue
            if reply.status_code >= 400:
                raise CapturesError(f"the training API refused {method} {path.split('?')[0]}: {_error_text(reply)}")
            return reply
        raise CapturesError(f"the training API kept answering {reply.status_code} to {method} {path.split('?')[0]}; "
                            "try again later")

    def tags(self) -> list[TrainingTag]:
        """GetTags: the project's tags."""
        reply = self._call("GET", "tags")
        try:
            return [TrainingTag.model_validate(item) for item in reply.json()]
        except (ValueError, ValidationError, TypeError):
            raise CapturesError("the training API answered GetTags with something that is not a list of tags") from None

    def create_tag(self, name: str) -> TrainingTag:
        """CreateTag ``name`` (type Regular)."""
        reply = self._call("POST", "tags", params={"name": name})
        try:
            return TrainingTag.model_validate(reply.json())
        except (ValueError, ValidationError):
            raise CapturesError(f"the training API answered CreateTag {name!r} with something that is not a tag") from None

    def create_images(self, images: Sequence[tuple[str, bytes]], tag_id: str | None) -> ImageCreateSummary:
        """CreateImagesFromData: up to 64 (file name, bytes) as multipart ``imageData`` parts, each tagged ``tag_id``."""
        if not 0 < len(images) <= TRAINING_BATCH_MAX:
            raise ValueError(f"a batch holds 1 to {TRAINING_BATCH_MAX} images")
        files = [("imageData", (name, data, _content_type(name))) for name, data in images]
        reply = self._call("POST", "images", params={"tagIds": tag_id} if tag_id else None, files=files)
        try:
            return ImageCreateSummary.model_validate(reply.json())
        except (ValueError, ValidationError):
            raise CapturesError("the training API answered CreateImagesFromData with something that is not an "
                                "ImageCreateSummary") from None


def _content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".png": "image/png", ".bmp": "image/bmp", ".gif": "image/gif"}.get(suffix, "image/jpeg")


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait for a ``Retry-After`` (seconds or an HTTP date), between 0 and 60; ``default`` without one."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        moment = email.utils.parsedate_to_datetime(value) if value else None
        seconds = (moment - datetime.now(timezone.utc)).total_seconds() if moment and moment.tzinfo else default
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))


def _error_text(reply: requests.Response) -> str:
    """The answer's ``{"code", "message"}`` (or ``{"error": {...}}``) in one short line."""
    try:
        body = reply.json()
        body = body.get("error", body) if isinstance(body, dict) else {}
        text = f"{body.get('code', '')}: {body.get('message', '')}".strip(": ")
    except ValueError:
        text = ""
    hint = {401: " (check CUSTOM_VISION_TRAINING_KEY)", 403: " (check CUSTOM_VISION_TRAINING_KEY)",
            404: " (check CUSTOM_VISION_PROJECT_ID and the endpoint)"}.get(reply.status_code, "")
    return f"{reply.status_code} {' '.join(text.split())[:200] or reply.reason}{hint}"


@dataclass(frozen=True)
class Picture:
    """A picture of a review folder: its path relative to the folder, and the tag it is uploaded with."""

    path: str
    tag: str | None
    size: int


def _exported_label(image: Path) -> str | None:
    """The tag at the threshold that the sidecar beside ``image`` records; None when there is none (or no sidecar)."""
    try:
        text = image.with_suffix(".json").read_bytes()[:SIDECAR_MAX_BYTES + 1]
        if len(text) > SIDECAR_MAX_BYTES:
            return None
        return Sidecar.model_validate_json(text).tag_at_threshold
    except (OSError, ValidationError):
        return None


def review_pictures(folder: Path) -> list[Picture]:
    """The pictures of an exported folder, each tagged by the folder it is in now: the tag ``index.json`` names for
    that folder, else the folder's own name (a folder a person added); ``_untagged``: none. A picture still where
    the export put it (its ``index.json`` row) keeps the tag the model gave at the threshold (its sidecar's), so a
    picture is only ever tagged with a tag the model gave or the folder a reviewer moved it to."""
    if not folder.is_dir():
        raise CapturesError(f"{folder}: no such folder; export captures first (python -m localedge captures export {folder})")
    names: dict[str, str | None] = {}
    exported: set[str] = set()
    index = folder / "index.json"
    if index.is_file():
        try:
            document = json.loads(index.read_text(encoding="utf-8"))
            names = dict(document.get("folders", {}))
            exported = {str(row["file"]) for row in document.get("captures", []) if isinstance(row, dict) and "file" in row}
        except (ValueError, AttributeError, TypeError):
            raise CapturesError(f"{index}: not the index an export writes; export again") from None
    pictures = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        tag = None if sub.name == UNTAGGED else names.get(sub.name, sub.name)
        for path in sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
            relative = f"{sub.name}/{path.name}"
            label = _exported_label(path) if relative in exported else tag  # not moved: the model's tag, if any
            if label != tag:
                logger.info("%s: not moved by a reviewer and below the model's threshold for %s: uploaded %s", relative,
                            tag, f"as {label}" if label else "untagged")
            pictures.append(Picture(relative, label, path.stat().st_size))
    return pictures


def _write_json(path: Path, document: Any) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def upload(args: argparse.Namespace, sleep: Any = time.sleep) -> int:
    """Upload an exported folder's pictures to the training project, tagged by their folder; see the module doc.
    ``--to azureml``: to the Azure ML datastore instead (:func:`localedge.runner.azureml.upload`)."""
    folder = Path(args.folder)
    pictures = review_pictures(folder)
    if args.to == "azureml":
        return azureml.upload(args, pictures, sleep)
    project = TrainingProject.from_variables(_variables(args))
    record_path = folder / "uploaded.json"
    try:
        record: dict[str, Any] = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    except ValueError:
        record = {}
    done = {path for path, entry in record.items() if isinstance(entry, dict) and entry.get("status") in ("OK", "OKDuplicate")}
    todo, failed = [], 0
    for picture in pictures:
        if picture.path in done:
            continue
        if picture.size > TRAINING_IMAGE_MAX_BYTES:
            logger.warning("%s: %d bytes, over the 6 MB Custom Vision takes; not uploaded", picture.path, picture.size)
            failed += 1
            continue
        todo.append(picture)
    if not todo:
        logger.info("nothing to upload from %s (%d already uploaded)", folder, len(done))
        return 1 if failed else 0
    client = TrainingClient(project, sleep)
    tags = {t.name: t for t in client.tags()}
    folded = {name.lower(): tag for name, tag in tags.items()}  # Custom Vision's tag names ignore case
    created = []
    for name in sorted({p.tag for p in todo if p.tag is not None}):
        if name not in tags and name.lower() not in folded:
            tags[name] = client.create_tag(name)
            created.append(name)
    counts: Counter[str] = Counter()
    for tag_name in sorted({p.tag or "" for p in todo}):
        group = [p for p in todo if (p.tag or "") == tag_name]
        tag = (tags.get(tag_name) or folded.get(tag_name.lower())) if tag_name else None
        for start in range(0, len(group), TRAINING_BATCH_MAX):
            batch = group[start:start + TRAINING_BATCH_MAX]
            images = [(Path(p.path).name, (folder / p.path).read_bytes()) for p in batch]
            result = client.create_images(images, tag.id if tag else None)
            for picture, outcome in zip(batch, result.images, strict=False):
                record[picture.path] = {"status": outcome.status, "tag": picture.tag,
                                        "imageId": (outcome.image or {}).get("id")}
                counts[outcome.status] += 1
                if outcome.status not in ("OK", "OKDuplicate"):
                    logger.warning("%s: refused by Custom Vision (%s)", picture.path, outcome.status)
                    failed += 1
            for picture in batch[len(result.images):]:
                record[picture.path] = {"status": "NoAnswer", "tag": picture.tag}
                logger.warning("%s: the training API did not answer for it", picture.path)
                failed += 1
            _write_json(record_path, record)
    logger.info("uploaded to project %s: %s%s%s", project.project_id,
                ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
                f"; created tag(s) {', '.join(created)}" if created else "",
                f"; throttled {client.throttled} time(s)" if client.throttled else "")
    logger.info("next: review the tags in the Custom Vision portal, then train")
    return 1 if failed else 0


# ---- the command line ------------------------------------------------------------------------------------------------

def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a day as YYYY-MM-DD") from None


def _positive(text: str) -> int:
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write a whole number, 1 or more")
    return int(text)


def _run(function: Any) -> Any:
    def command(args: argparse.Namespace) -> int:
        try:
            return int(function(args))
        except (CapturesError, azureml.AzuremlError) as exc:
            logger.error("%s", exc)
            return 2
    return command


def add_parser(commands: Any) -> None:
    """The ``captures`` command and its ``list``, ``export`` and ``upload`` subcommands."""
    formatter = argparse.RawDescriptionHelpFormatter
    captures = commands.add_parser(
        "captures", help="list, export for review and upload to Custom Vision the frames CameraCapture kept",
        description="The frames CameraCapture kept for retraining (capture is switched on through the module twin). "
                    "Without a subcommand: list.",
        formatter_class=formatter, epilog="examples:\n  python -m localedge captures list\n"
        "  python -m localedge captures export review/\n  python -m localedge captures upload review/")
    sub = captures.add_subparsers(dest="captures_command", metavar="{list,export,upload}")  # none: list

    def source_options(parser: argparse.ArgumentParser) -> None:
        where = parser.add_argument_group("where the captures are (default: CAPTURES_CONNECTION_STRING from .env or the "
                                          "environment, else the Azurite of a running local runner, else "
                                          "BLOB_UPLOAD_CONNECTION_STRING)")
        where.add_argument("--connection-string", help="a storage connection string (prefer .env: a command line is "
                           "visible to other users of the machine)")
        where.add_argument("--container", action="append", help="read only this container (repeatable; default: all)")
        where.add_argument("--dir", help="read a folder of <name>.jpg + <name>.json instead of a storage account")
        where.add_argument("--api-version", help="the Blob REST API version to speak (default: the SDK's newest; "
                           f"{DEVICE_API_VERSION} to read a device's Blob Storage on IoT Edge module directly)")
        where.add_argument("--env-file", default=".env", help="variables (default: %(default)s, if present)")
        which = parser.add_argument_group("which captures")
        which.add_argument("--tag", action="append", help="only this predicted tag (repeatable; (none) for no tag)")
        which.add_argument("--reason", action="append", help="only this reason: uncertain, change, sample... (repeatable)")
        which.add_argument("--since", type=_day, help="only captures from this day on (YYYY-MM-DD, UTC)")
        which.add_argument("--until", type=_day, help="only captures up to this day (YYYY-MM-DD, UTC)")
        which.add_argument("--max", type=_positive, default=DEFAULT_MAX, help="read at most this many (default: %(default)s)")

    listing = sub.add_parser("list", help="counts by predicted tag, reason and day", formatter_class=formatter,
                             epilog="examples:\n  python -m localedge captures list\n"
                                    "  python -m localedge captures list --dir captures/ --json\n"
                                    "  python -m localedge captures list --container checkout-pi-captures --since 2026-11-01")
    source_options(listing)
    listing.add_argument("--json", action="store_true", help="print the counts as JSON")
    listing.set_defaults(func=_run(list_captures))
    captures.set_defaults(func=lambda _args: _run(list_captures)(listing.parse_args([])))  # `captures` alone lists

    exporting = sub.add_parser("export", help="copy the captures into a folder to review, grouped by the tag the model "
                               "gave at its threshold", formatter_class=formatter,
                               epilog="FOLDER/<tag>/<name>.jpg + <name>.json (_untagged: no tag reached the threshold),"
                                      "\nFOLDER/index.csv and index.json. Move a "
                                      "picture (and its .json)\nto another tag's folder to relabel it, delete it to leave "
                                      "it out.\n\nexamples:\n  python -m localedge captures export review/\n"
                                      "  python -m localedge captures export review/ --reason uncertain --since 2026-11-28")
    exporting.add_argument("folder", help="a new (or empty) folder")
    exporting.add_argument("--format", choices=["review", "azureml"], default="review", help="azureml: also "
                           "FOLDER/azureml/train/annotations.jsonl and MLTable, an Azure ML AutoML image dataset")
    source_options(exporting)
    azureml.add_options(exporting, uploading=False)
    exporting.set_defaults(func=_run(export))

    uploading = sub.add_parser("upload", help="upload a reviewed export to a Custom Vision training project, or to "
                               "Azure Machine Learning (--to azureml)",
                               formatter_class=formatter,
                               epilog="Needs CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY and "
                                      "CUSTOM_VISION_PROJECT_ID in .env.\nEach picture is tagged with its folder's tag "
                                      "(none in _untagged); missing tags are created.\n\nexample:\n"
                                      "  python -m localedge captures upload review/\n"
                                      "  python -m localedge captures upload review/ --to azureml --task multiclass\n"
                                      "Azure ML needs AZUREML_STORAGE_CONNECTION_STRING and AZUREML_CONTAINER (the "
                                      "datastore's).")
    uploading.add_argument("folder", help="a folder written by captures export (and reviewed)")
    uploading.add_argument("--env-file", default=".env", help="variables (default: %(default)s, if present)")
    uploading.add_argument("--to", choices=["customvision", "azureml"], default="customvision", help="azureml: the "
                           "pictures and the dataset to the Azure ML workspace's blob datastore, and the AutoML job's YAML")
    azureml.add_options(uploading, uploading=True)
    uploading.set_defaults(func=_run(upload))

