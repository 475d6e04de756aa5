"""What the classifier answers, one definition for the service that makes it and the modules that read it.

:class:`Prediction` is one prediction in Custom Vision's format (``tagName``, ``probability`` 0-1, ``tagId``,
``boundingBox``): ImageClassifierService's models produce it (classifier.model) and its REST answers are made
from it; CameraCapture reads the answers back into it and sends it on in its classification messages
(edgekit.messages). :class:`ModelIdentity` is the model that answered, as the classifier names it in the
``X-Model-Sha256`` / ``X-Model-Flavour`` headers of every prediction and CameraCapture reads it into its captures'
sidecars.

Plain dataclasses, so that the classifier's loader runs without pydantic (a bare runtime venv); where pydantic
reads them (a message, a REST answer) it validates them as models, probability 0-1 included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODEL_SHA256_HEADER = "X-Model-Sha256"
MODEL_FLAVOUR_HEADER = "X-Model-Flavour"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_FLAVOUR = re.compile(r"[\x20-\x7e]{1,64}")  # printable ASCII, e.g. "ONNX (tf2onnx)"


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """An object detection prediction's box, each value a fraction 0-1 of the image's width or height."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Prediction:
    """One prediction in Custom Vision's format: probability 0-1; ``boundingBox`` for object detection."""

    tagName: str
    probability: float
    tagId: str = ""
    boundingBox: BoundingBox | None = None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Read by pydantic as the dataclass it is, with the probability checked to be 0-1 (pydantic is imported
        only when something validates a prediction, never by the classifier's loader)."""
        from pydantic_core import core_schema

        def in_range(prediction: Prediction) -> Prediction:
            if not 0.0 <= prediction.probability <= 1.0:
                raise ValueError(f"probability {prediction.probability} of {prediction.tagName[:60]!r} is not 0-1")
            return prediction

        return core_schema.no_info_after_validator_function(in_range, handler(source))


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """The model that answered: its file's SHA-256 (64 hex digits) and flavour (e.g. ``ONNX12``); None when unknown."""

    sha256: str | None = None
    flavour: str | None = None

    def headers(self) -> tuple[tuple[str, str], ...]:
        """The response headers naming it (the classifier's, on every prediction; the body stays Custom Vision's)."""
        return tuple((name, value) for name, value in ((MODEL_SHA256_HEADER, self.sha256),
                                                       (MODEL_FLAVOUR_HEADER, self.flavour)) if value is not None)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ModelIdentity:
        """The ``X-Model-Sha256`` / ``X-Model-Flavour`` response headers (case-insensitive names); a value that is
        not 64 hex digits / a short printable token is ignored (None), never trusted into a sidecar."""
        lowered = {k.lower(): v for k, v in headers.items()}
        sha = lowered.get(MODEL_SHA256_HEADER.lower(), "").strip()
        flavour = lowered.get(MODEL_FLAVOUR_HEADER.lower(), "").strip()
        return cls(sha256=sha.lower() if _SHA256.fullmatch(sha) else None,
                   flavour=flavour if _FLAVOUR.fullmatch(flavour) else None)
