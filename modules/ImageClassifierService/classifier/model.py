"""The one interface every served model has, whatever its export flavour, and what it answers.

In the shape of the model servers of the field (KServe's ``Model``: load, preprocess, predict, postprocess):
a flavour (classifier.flavours) recognises its export folder and loads it into a :class:`Model`; the service
only ever calls the four steps below. Nothing here needs pydantic or edgekit: a bare runtime venv (TensorFlow's,
in the tests) loads and runs every export but a described one.
"""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from classifier.backends import Backend
from classifier.preprocess import InputSpec, Recipe
from edgekit.prediction import BoundingBox, ModelIdentity, Prediction

if TYPE_CHECKING:
    from classifier.folder import ExportFolder

MAX_INPUT_PX = 4096  # largest network input side accepted (Custom Vision's are 224-512)

__all__ = ["MAX_INPUT_PX", "BoundingBox", "Model", "ModelInfo", "ModelLoadError", "Prediction", "blank_input", "file_sha256",
           "printable_flavour", "read_json"]


class ModelLoadError(RuntimeError):
    """The export cannot be served; the message is one sentence saying what is wrong and what to do."""


@dataclass(frozen=True)
class ModelInfo:
    """What is being served, for reported properties, /metrics, the ``modelInfo`` method, the ``X-Model-*``
    headers (edgekit.prediction.ModelIdentity, what CameraCapture reads of it) and logs."""

    source: str
    sha256: str
    flavour: str
    runtime: str  # "ONNX Runtime", "TensorFlow Lite", "TensorFlow"
    task: str  # "classification" or "detection"
    labels: tuple[str, ...]
    input_size: tuple[int, int]  # (width, height) px
    layout: str
    colour: str
    value_range: str
    export_sha256: str = ""  # the SHA-256 of what modelUrl downloaded (the zip; what modelSha256 names); "" from a folder

    def reported(self) -> dict[str, str]:
        """The module twin's reported ``model`` property: ``sha256`` is the model file's (as ``X-Model-Sha256`` and
        the captures' sidecars say), ``exportSha256`` the download's that the desired ``modelSha256`` names ("" for a
        model from a folder). A fleet's ``modelServed`` metric counts a device by either."""
        return {"source": self.source, "sha256": self.sha256, "exportSha256": self.export_sha256, "flavour": self.flavour,
                "runtime": self.runtime, "task": self.task, "labels": ",".join(self.labels),
                "inputSize": f"{self.input_size[0]}x{self.input_size[1]}"}

    @property
    def identity(self) -> ModelIdentity:
        """What a client is told of it: the ``X-Model-Sha256`` / ``X-Model-Flavour`` headers, which CameraCapture
        reads back into the same type (its captures' ``modelSha256`` / ``modelFlavour``)."""
        return ModelIdentity(self.sha256, printable_flavour(self.flavour))


class Model(ABC):
    """A loaded, warmed-up model. ``classify(image)`` returns predictions: for a classifier one per label in
    label order; for a detector the objects found, most probable first.

    The steps, each overridable by a flavour: :meth:`preprocess` (RGB image -> input tensor), :meth:`predict`
    (tensor -> the network's raw outputs, as the runtime gives them), :meth:`postprocess` (raw outputs ->
    predictions). Safe to call from several threads (each runtime is wrapped so that it is).

    ``recipe`` says how the image is prepared (colour order and value range; informational for flavours whose
    :meth:`preprocess` follows their own description).

    Each subclass is one export flavour, listed in classifier.flavours.FLAVOURS: :meth:`recognises` says whether
    an export folder is of it, :meth:`load` loads and warms it up.
    """

    @classmethod
    @abstractmethod
    def recognises(cls, folder: ExportFolder) -> bool:
        """Whether ``folder`` (its model already opened) holds an export of this flavour. May raise
        ModelLoadError when the folder is of it but broken."""

    @classmethod
    @abstractmethod
    def load(cls, folder: ExportFolder) -> Model:
        """The export in ``folder`` loaded and warmed up. Raises ModelLoadError, one sentence saying what to do."""

    def __init__(self, backend: Backend, spec: InputSpec, recipe: Recipe, labels: tuple[str, ...], info: ModelInfo,
                 outputs: list[str]) -> None:
        self.backend = backend
        self.spec = spec
        self.recipe = recipe
        self.labels = labels
        self.info = info
        self.outputs = outputs

    @abstractmethod
    def preprocess(self, image: Image.Image) -> np.ndarray:
        """RGB Pillow image (from :func:`classifier.preprocess.decode`) -> the network's input tensor."""

    def predict(self, tensor: np.ndarray) -> list[Any]:
        """The network's raw outputs for a prepared tensor (what :meth:`postprocess` decodes)."""
        return self.backend.run(self.outputs, tensor)

    @abstractmethod
    def postprocess(self, raw: list[Any]) -> list[Prediction]:
        """The network's raw outputs -> predictions (see the class docstring)."""

    def run(self, tensor: np.ndarray) -> list[Prediction]:
        """:meth:`predict` then :meth:`postprocess`: a prepared tensor -> predictions."""
        return self.postprocess(self.predict(tensor))

    def classify(self, image: Image.Image) -> list[Prediction]:
        """RGB Pillow image -> predictions: the three steps."""
        return self.run(self.preprocess(image))


def blank_input(spec: InputSpec) -> np.ndarray:
    """An all-zero input batch of one for ``spec``, to warm a model up and check that it runs."""
    shape = (1, 3, spec.height, spec.width) if spec.layout == "NCHW" else (1, spec.height, spec.width, 3)
    return np.zeros(shape, spec.dtype)


def read_json(path: Path) -> dict[str, Any]:
    """A side file of an export as a JSON object; ModelLoadError naming the file otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc}): restore it from the original export") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object: restore it from the original export")
    return data


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file as 64 hex digits, read in chunks (a model is not held twice in memory)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def printable_flavour(text: str) -> str:
    """A flavour as it is reported and sent (``model.flavour``, ``X-Model-Flavour``): printable ASCII, at most 64
    characters (an export's manifest is outside input: no control characters reach a log, a header or the twin)."""
    return re.sub(r"[^\x20-\x7e]", "?", text).strip()[:64] or "unknown"
