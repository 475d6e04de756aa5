"""CameraCapture's direct methods: what the camera sees now, and how capture is going.

``snapshot`` (payload optional: ``{"maxWidth": 640, "quality": 80}``) answers the newest frame the
module sampled as a base64 JPEG, with the last classification::

    {"image": "<base64 JPEG>", "width": 640, "height": 480, "quality": 80,
     "capturedAt": "2026-11-20T10:00:00.123456+00:00", "frameNumber": 42, "source": "/data/clip.mp4",
     "classification": {"tagName": "Apple" | null, "probability": 0.99, "frameNumber": 41,
                        "captureTime": "...", "predictions": [{"tagName": ..., "probability": ...}, ...]} | null}

``maxWidth`` (16-4096 px; default: as captured) scales the frame down, aspect kept; ``quality``
(1-100, default 80) is the JPEG quality. The answer must fit IoT Hub's 128 KB direct method payload:
when the JPEG is too large, it is sent at a lower quality and then narrower, as often as
needed (``width``, ``height`` and ``quality`` say what was sent). ``classification`` is of the last
frame classified (``frameNumber`` says which; its ``tagName`` is the top prediction at or above
``threshold``, null when none is), with its 10 most probable predictions; null before the first.
Errors: 400 for another field or a value out of range; 500 when the source has delivered no frame
yet (with the source error, if any).

``captureStatus`` (no payload) answers the capture status as reported in ``capture``: ``source``,
``sourceKind``, ``sourceError``, ``liveViewError``, ``lastTag``, ``counters`` (``framesRead``,
``framesDropped``, ``framesClassified``, ``framesSkipped``, ``messagesSent``, ``errors``), the
rates ``captureFps`` and ``classifyFps`` (frames per s over the last reporting interval), and
``outbox`` (``queued``, ``delivered``, ``dropped``).
"""

from __future__ import annotations

from dataclasses import asdict

import base64
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from capture.pipeline import CapturePipeline, encode_jpeg
from capture.policy import top_prediction
from edgekit.methods import MAX_PAYLOAD_BYTES, MethodError, MethodHandler, NoPayload, taking

IMAGE_BUDGET_BYTES = MAX_PAYLOAD_BYTES - 16 * 1024  # base64 JPEG at most; the rest is room for the other fields
QUALITY_STEPS = (60, 40)  # the qualities tried, in turn, when a JPEG is too large
MIN_WIDTH = 16
SHOWN_PREDICTIONS = 10


class SnapshotRequest(BaseModel):
    """``snapshot``'s payload (all optional): ``maxWidth`` 16-4096 px, ``quality`` 1-100."""

    model_config = ConfigDict(extra="forbid")

    maxWidth: int | None = Field(default=None, ge=MIN_WIDTH, le=4096)
    quality: int = Field(default=80, ge=1, le=100)


def fitted_jpeg(image: Any, max_width: int | None, quality: int,
                budget: int = IMAGE_BUDGET_BYTES) -> tuple[str, int, int, int]:
    """(base64 JPEG within ``budget`` bytes, width, height, quality) of ``image`` (HxWx3 BGR): at most
    ``max_width`` wide, at ``quality``, lower qualities (QUALITY_STEPS) and then narrower widths tried
    until it fits; raises MethodError (500) when even MIN_WIDTH px does not."""
    height, width = image.shape[:2]
    target = min(width, max_width) if max_width else width
    while target >= MIN_WIDTH:
        for q in (quality, *(step for step in QUALITY_STEPS if step < quality)):
            text = base64.b64encode(encode_jpeg(image, target if target != width else 0, q)).decode("ascii")
            if len(text) <= budget:
                return text, target, max(1, round(height * target / width)), q
        # narrower, by the area that should fit at the lowest quality (at least 10 %, at most 50 % less)
        target = int(target * min(0.9, max(0.5, math.sqrt(budget / len(text)) * 0.95)))
    raise MethodError(500, "the frame does not fit in a direct method answer even at its smallest")


def handlers(pipeline: CapturePipeline) -> dict[str, MethodHandler]:
    """The camera's direct methods for :meth:`edgekit.hub.Hub.set_method_handlers`."""

    def snapshot(request: SnapshotRequest) -> dict[str, Any]:
        frame = pipeline.newest
        if frame is None:
            why = pipeline.status()["sourceError"] or "the source has not delivered a frame yet"
            raise MethodError(500, f"no frame yet: {why}")
        image, width, height, quality = fitted_jpeg(frame.image, request.maxWidth, request.quality)
        return {"image": image, "width": width, "height": height, "quality": quality,
                "capturedAt": frame.captured_at.isoformat(), "frameNumber": frame.number,
                "source": pipeline.status()["source"], "classification": last_classification(pipeline)}

    def capture_status(_request: NoPayload) -> dict[str, Any]:
        return {**pipeline.status(), **pipeline.rates, "outbox": pipeline.hub.outbox_status()}

    return {"snapshot": taking(SnapshotRequest, snapshot), "captureStatus": taking(NoPayload, capture_status)}


def last_classification(pipeline: CapturePipeline) -> dict[str, Any] | None:
    """The last frame classified, as ``snapshot`` answers it (see the module docstring); None before the first."""
    result = pipeline.last_result
    if result is None:
        return None
    frame, predictions = result
    top = top_prediction(predictions, pipeline.store.current.threshold)
    best = sorted(predictions, key=lambda p: p.probability, reverse=True)[:SHOWN_PREDICTIONS]
    return {"tagName": top.tagName if top else None, "probability": top.probability if top else 0.0,
            "frameNumber": frame.number, "captureTime": frame.captured_at.isoformat(),
            "predictions": [asdict(p) for p in best]}
