"""``model.json``, the description of a model of your own (classifier.described): its fields, each checked.

Imported only for a folder holding ``model.json``: it validates with pydantic, which a bare runtime venv may lack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from classifier.folder import ExportFolder
from classifier.model import MAX_INPUT_PX, ModelLoadError


def check_labels(labels: list[str], where: str) -> None:
    """ValueError unless every name in ``labels`` is non-empty and listed once."""
    seen: set[str] = set()
    for label in labels:
        if not label.strip():
            raise ValueError(f"{where}: an empty name")
        if label in seen:
            raise ValueError(f"{where}: {label[:60]!r} is listed twice; each label once, in the model's output order")
        seen.add(label)


def read_labels(folder: ExportFolder, described: Description) -> tuple[str, ...]:
    """The labels ``described`` gives, or reads from its ``labels_file`` beside the model (checked as ``labels``)."""
    if described.labels is not None:
        return tuple(described.labels)
    name = str(described.labels_file)
    path = folder.file(name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"model.json: labels_file: {name[:80]!r} cannot be read beside the model "
                             f"({exc.__class__.__name__})") from exc
    try:
        labels = json.loads(text) if text.lstrip().startswith("[") else [line.strip() for line in text.splitlines() if line.strip()]
        if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"labels_file: {name[:80]} is not one name per line nor a JSON list of names")
        check_labels(labels, f"labels_file {name[:80]}")
    except ValueError as exc:
        raise ModelLoadError(f"model.json: {exc}") from None
    return tuple(labels)


class Description(BaseModel):
    """``model.json``: how an image becomes the model's input and its output probabilities (see the module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str | None = Field(default=None, min_length=1, max_length=256)
    output: str | None = Field(default=None, min_length=1, max_length=256)
    layout: Literal["NCHW", "NHWC"]
    size: tuple[int, int] = Field(description="[width, height] px")
    colour: Literal["RGB", "BGR"] = "RGB"
    range: tuple[float, float] = (0.0, 1.0)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: Literal["stretch", "shorter_side"]
    resize_to: int | None = Field(default=None, ge=1, le=4 * MAX_INPUT_PX)
    crop: Literal["centre", "none"]
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos"] = "bilinear"
    labels: list[str] | None = Field(default=None, min_length=1, max_length=100_000)
    labels_file: str | None = Field(default=None, min_length=1, max_length=255)
    scores: Literal["probabilities", "softmax", "sigmoid"]

    @model_validator(mode="after")
    def _consistent(self) -> Description:
        width, height = self.size
        if not (1 <= width <= MAX_INPUT_PX and 1 <= height <= MAX_INPUT_PX):
            raise ValueError(f"size: [width, height] px, each 1-{MAX_INPUT_PX}; got {list(self.size)}")
        if self.range[0] == self.range[1]:
            raise ValueError(f"range: [value of pixel 0, value of pixel 255] must differ; got {list(self.range)}")
        if min(self.std) <= 0:
            raise ValueError(f"std: each channel's must be above 0; got {list(self.std)}")
        if self.resize == "stretch" and self.crop != "none":
            raise ValueError("crop: with resize stretch the whole image is the input: crop must be none")
        if self.resize == "shorter_side" and self.crop != "centre":
            raise ValueError("crop: with resize shorter_side the image is larger than size: crop must be centre")
        if self.resize == "shorter_side" and self.resize_to is not None and self.resize_to < min(self.size):
            raise ValueError(f"resize_to: the shorter side to {self.resize_to} px is smaller than size {list(self.size)}")
        if (self.labels is None) == (self.labels_file is None):
            raise ValueError("labels, labels_file: give exactly one (a list of names, or a file of them beside the model)")
        if self.labels is not None:
            check_labels(self.labels, "labels")
        return self


def _field_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:6]:
        names = [str(p) for p in item["loc"] if not isinstance(p, int)]
        items = [p for p in item["loc"] if isinstance(p, int)]
        where = ".".join(names) or "model.json"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "not a field of model.json (see classifier/described.py)"
        elif item["type"] == "missing":
            message = f"too few values (item {items[0] + 1} missing)" if items else "required"
        elif items:
            message = f"item {items[0] + 1}: {message}"
        parts.append(message if message.startswith(f"{where}:") else f"{where}: {message}")
    return "; ".join(parts)


def read_description(path: Path) -> Description:
    """``model.json`` at ``path``, validated. Raises ModelLoadError naming each wrong field, in one line."""
    try:
        return Description.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise ModelLoadError(f"{path}: {_field_errors(exc)}"[:600]) from None
    except OSError as exc:
        raise ModelLoadError(f"{path} cannot be read ({exc.__class__.__name__})") from exc
