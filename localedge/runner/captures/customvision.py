"""Upload a reviewed folder to a Custom Vision training project, through the training API v3.3.

GetTags, CreateTag for the tags the project lacks, and CreateImagesFromData (multipart ``imageData`` parts, at
most 64 images of at most 6 MB per request, ``tagIds`` the folder's tag). Endpoint, training key and project id
come from ``.env`` (CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY, CUSTOM_VISION_PROJECT_ID). A 429
is retried after its Retry-After (at most 60 s), a 5xx or a lost connection with backoff, at most 6 attempts a
request; what was uploaded is recorded in ``FOLDER/uploaded.json`` so a second run sends only the rest. The key
is sent as the ``Training-Key`` header and never printed. Errors: :class:`~localedge.runner.captures.CapturesError`
in one line.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode
from pathlib import Path
from typing import Any

import urllib3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from localedge.runner.captures import CapturesError
from localedge.runner.captures.review import Picture

logger = logging.getLogger("localedge")

TRAINING_IMAGE_MAX_BYTES = 6 * 1024 * 1024  # "Supports images up to 6MB" (CreateImagesFromData)
TRAINING_BATCH_MAX = 64  # "multiple image files can be sent at once, with a maximum of 64 files"
TRAINING_API = "customvision/v3.3/training"
HTTP_TIMEOUT_S = 60.0
MAX_ATTEMPTS = 6  # per training API request: 429 (after Retry-After), 5xx and connection errors are retried
MAX_RETRY_AFTER_S = 60.0
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


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
        self._http = urllib3.PoolManager(retries=False, timeout=HTTP_TIMEOUT_S)  # retried here, as said above
        self._headers = {"Training-Key": project.key}
        self._sleep = sleep
        self.throttled = 0

    def _call(self, method: str, path: str, params: Mapping[str, str] | None = None,
              files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None) -> urllib3.BaseHTTPResponse:
        """``method`` the project's ``path`` with ``params`` in the query and ``files`` as multipart/form-data
        parts (name, (file name, bytes, content type)); the answer (below 400), retried as the class says."""
        url = self.project.url(path) + (f"?{urlencode(params)}" if params else "")
        headers, body = dict(self._headers), None
        if files:
            body, headers["Content-Type"] = urllib3.encode_multipart_formdata(list(files))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = min(2.0 ** attempt, MAX_RETRY_AFTER_S)
            try:
                reply = self._http.request(method, url, body=body, headers=headers)
            except urllib3.exceptions.HTTPError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise CapturesError(f"the training API at {self.project.endpoint} is out of reach "
                                        f"({type(exc).__name__})") from None
                self._sleep(wait)
                continue
            if reply.status == 429 or reply.status >= 500:
                if attempt == MAX_ATTEMPTS:
                    break
                if reply.status == 429:
                    self.throttled += 1
                    wait = _retry_after(reply.headers.get("Retry-After"), wait)
                    logger.info("the training API is throttling (429): waiting %.0f s as it asks", wait)
                self._sleep(wait)
                continue
            if reply.status >= 400:
                raise CapturesError(f"the training API refused {method} {path.split('?')[0]}: {_error_text(reply)}")
            return reply
        raise CapturesError(f"the training API kept answering {reply.status} to {method} {path.split('?')[0]}; "
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


def _error_text(reply: urllib3.BaseHTTPResponse) -> str:
    """The answer's ``{"code", "message"}`` (or ``{"error": {...}}``) in one short line."""
    try:
        body = reply.json()
        body = body.get("error", body) if isinstance(body, dict) else {}
        text = f"{body.get('code', '')}: {body.get('message', '')}".strip(": ")
    except ValueError:
        text = ""
    hint = {401: " (check CUSTOM_VISION_TRAINING_KEY)", 403: " (check CUSTOM_VISION_TRAINING_KEY)",
            404: " (check CUSTOM_VISION_PROJECT_ID and the endpoint)"}.get(reply.status, "")
    return f"{reply.status} {' '.join(text.split())[:200] or reply.reason}{hint}"


def _write_json(path: Path, document: Any) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def upload(folder: Path, pictures: Sequence[Picture], variables: Mapping[str, str], sleep: Any = time.sleep) -> int:
    """Upload the ``pictures`` of the reviewed ``folder`` to the training project ``variables`` name, tagged by
    their folder (missing tags are created); returns 0, or 1 when some were refused or too large (each said in
    one line). ``sleep(seconds)`` waits between attempts."""
    project = TrainingProject.from_variables(variables)
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


