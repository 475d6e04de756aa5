"""A capture for retraining: its JSON sidecar (:class:`CaptureRecord`), its blob name, and the model that
answered (the classifier's ``X-Model-Sha256`` / ``X-Model-Flavour`` response headers). The layout is described in
:mod:`capture.retrain`."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from capture.settings import CONTAINER_PATTERN
from edgekit.prediction import ModelIdentity, Prediction

NAME_PATTERN = r"^(?:[a-z0-9-]{1,64}/)?[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-f[0-9]{9,}$"  # [group/]time-frame, no suffix

Reason = Literal["uncertain", "change", "sample"]


# The model that answered: the classifier's X-Model-Sha256 / X-Model-Flavour headers, one definition with the
# classifier's (edgekit.prediction.ModelIdentity); a value not well formed is None, never trusted into a sidecar.
ModelInfo = ModelIdentity
model_info = ModelIdentity.from_headers


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



def read_sidecar(data: bytes) -> CaptureRecord:
    """A sidecar's bytes as a :class:`CaptureRecord`; raises pydantic.ValidationError."""
    return CaptureRecord.model_validate_json(data)

