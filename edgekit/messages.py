"""The classification message CameraCapture sends and TextToSpeech / SenseHatDisplay receive.

Wire format (JSON, contentType application/json, contentEncoding utf-8), schema version 2::

    {"schemaVersion": 2, "tagName": "Apple" | null, "probability": 0.998, "state": "tag",
     "reason": "change",
     "predictions": [{"tagName": "Apple", "probability": 0.998, "tagId": "", "boundingBox": null}, ...],
     "captureTime": "2026-11-20T10:00:00.123Z", "frameNumber": 42, "source": "fruit.mp4"}

``tagName`` is the top prediction at or above the camera's threshold, ``null`` when nothing
is (the scene went empty). ``state`` is what is in view, decided once, by CameraCapture
(:func:`in_view`, its ``threshold`` and ``notSureFloor``): "tag" (``tagName`` is seen), "notSure"
(the best prediction is below the threshold but at or above the floor) or "empty"; the display and the
speech render it and judge nothing themselves. Version 2 added ``state``; a version 1 message (no
``state``) is read as "tag" when it has a ``tagName``, else "empty". ``reason`` is why it was sent: "change" (the top tag changed),
"every" (the camera sends every classification) or "heartbeat" (the state, resent). ``predictions`` are as the classifier returned them (Custom Vision
format). The application property ``tagName`` is set when there is a tag, so routes can
filter with ``WHERE tagName = 'Apple'`` or ``WHERE IS_DEFINED(tagName)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edgekit.hub import Hub, InputMessage
from edgekit.inbox import Inbox
from edgekit.prediction import BoundingBox, Prediction

__all__ = ["BoundingBox", "Classification", "Prediction", "classification_inbox", "in_view", "parse_classification"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
CLASSIFICATION_OUTPUT = "classification"
InView = Literal["tag", "notSure", "empty"]


class Classification(BaseModel):
    """A change of the top tag seen by the camera (schema version 2: with ``state``)."""

    model_config = ConfigDict(extra="ignore")

    schemaVersion: int = SCHEMA_VERSION
    tagName: str | None
    probability: float = Field(ge=0.0, le=1.0)
    state: InView = "empty"  # given or derived (:meth:`_version_1`): never left to this default
    reason: Literal["change", "every", "heartbeat"] = "change"
    predictions: list[Prediction]
    captureTime: datetime
    frameNumber: int = Field(ge=0)
    source: str

    @model_validator(mode="before")
    @classmethod
    def _version_1(cls, data: Any) -> Any:
        """A version 1 message has no ``state``: "tag" when it names a tag, else "empty"."""
        if isinstance(data, dict) and "state" not in data:
            return {**data, "state": "tag" if data.get("tagName") is not None else "empty"}
        return data

    def best(self) -> Prediction | None:
        """The most probable prediction (``tagName`` and ``probability`` when there are no predictions)."""
        if self.predictions:
            return max(self.predictions, key=lambda p: p.probability)
        return Prediction(tagName=self.tagName, probability=self.probability) if self.tagName is not None else None

    def properties(self) -> dict[str, str]:
        """Application properties for routing: ``tagName`` when there is a tag, and the schema version."""
        props = {"schemaVersion": str(self.schemaVersion)}
        if self.tagName is not None:
            props["tagName"] = self.tagName
        return props


def in_view(predictions: Sequence[Prediction], threshold: float, not_sure_floor: float) -> tuple[InView, Prediction | None]:
    """What is in view, decided once for the solution (CameraCapture's twin sets both bounds, 0-1): "tag"
    when the most probable prediction is at or above ``threshold``, "notSure" when it is below it but at or
    above ``not_sure_floor`` (a floor at or above the threshold: no "notSure"), else "empty"; with that
    best prediction (None when there are no predictions)."""
    best = max(predictions, key=lambda p: p.probability, default=None)
    if best is None:
        return "empty", None
    if best.probability >= threshold:
        return "tag", best
    if best.probability >= not_sure_floor:
        return "notSure", best
    return "empty", best


def parse_classification(message: InputMessage) -> Classification | None:
    """The classification in an input message, or None (logged) when it is not one."""
    try:
        return Classification.model_validate(message.json())
    except (ValueError, ValidationError) as exc:
        logger.warning("ignoring a message on input %r that is not a classification: %s", message.input_name, exc)
        return None


def classification_inbox(hub: Hub, consume: Callable[[Classification], object], capacity: int, name: str) -> Inbox[Classification]:
    """Feed every classification arriving on the module's inputs to ``consume`` on a worker thread.

    capacity: messages kept waiting; past it the oldest is dropped (1: only the newest matters).
    """
    inbox: Inbox[Classification] = Inbox(consume, capacity=capacity, name=name)

    def on_input(message: InputMessage) -> None:
        classification = parse_classification(message)
        if classification is not None:
            inbox.put(classification)

    hub.set_input_handler(on_input)
    return inbox
