"""Custom Vision exports: classifiers (ONNX, ONNX12, Float16, S1, TensorFlow, TensorFlow Lite) and object detectors.

contract: docs/customvision.md sections 2 and 3. Everything is read from the model and its side files, never
assumed: input name, layout (NCHW when dim 1 is 3, NHWC when the last dim is 3), size and dtype from the network;
colour order and value range from the model's metadata or ``metadata_properties.json`` (no range metadata means
0-255; TensorFlow flavours without metadata are BGR 0-255, S1 ones RGB); resize and crop from
``metadata_properties.json``; labels from ``labels.txt`` or the ZipMap's embedded labels (in the model's order; a
``labels.txt`` naming other tags is refused); classification or object detection from the outputs
(:class:`CustomVisionDetector` recognises a detector's, :class:`CustomVisionClassifier` takes every other Custom
Vision export).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image

from classifier.backends import Backend, TensorInfo
from classifier.detection import S1_OUTPUTS, decode_grid, grid_channels, non_max_suppression, read_s1
from classifier.folder import ExportFolder, load_failure
from classifier.model import MAX_INPUT_PX, Model, ModelInfo, ModelLoadError, Prediction, blank_input, file_sha256, printable_flavour
from classifier.preprocess import InputSpec, Recipe, to_tensor

logger = logging.getLogger(__name__)

DEFAULT_SIZE_PX = 224


@dataclass(frozen=True)
class Head:
    """How the network's outputs become predictions."""

    kind: str  # "scores" | "zipmap" | "grid" | "s1"
    outputs: list[str]
    layout: str = "NCHW"  # grid layout


def _labels(folder: ExportFolder) -> tuple[str, ...]:
    labels_file = folder.manifest_name("LabelFileName", "labels.txt")
    path = folder.directory / labels_file
    if path.is_file():
        try:
            text = folder.file(labels_file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{path} cannot be read as UTF-8 text ({exc.__class__.__name__}): "
                                 "use the labels.txt exported with the model") from exc
        lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        first: dict[str, int] = {}
        for number, label in lines:  # a tag twice: its scores would be read under one name, the last hiding the first
            if label in first:
                raise ModelLoadError(f"{labels_file} lists the tag {label[:60]!r} twice (lines {first[label]} and {number}): "
                                     "each tag once, in the model's order; use the labels.txt exported with the model")
            first[label] = number
        labels = tuple(label for _, label in lines)
        if labels:
            return labels
        raise ModelLoadError(f"{path} is empty: it must list one tag per line, as exported")
    if any(o.is_zipmap for o in folder.backend.outputs):
        return ()  # read from the ZipMap at warm-up
    raise ModelLoadError(f"{path} is missing: copy labels.txt from your export next to the model")


def _listed(labels: tuple[str, ...], most: int = 6) -> str:
    """``labels`` for a message: at most ``most`` of them, each cut to 30 characters."""
    shown = ", ".join(label[:30] for label in labels[:most])
    return shown + (f" and {len(labels) - most} more" if len(labels) > most else "")


def _embedded_labels(backend: Backend, scores: dict[Any, Any]) -> tuple[str, ...]:
    """The ZipMap's labels in the model's declared order; the warm-up answer's keys (which ONNX
    Runtime sorts) when the declared ones cannot be read."""
    keys = tuple(str(k) for k in scores)
    declared = backend.embedded_labels
    return declared if sorted(declared) == sorted(keys) else keys


def _bare(name: str) -> str:
    return name.split(":")[0]


def _detector_head(backend: Backend, labels: tuple[str, ...]) -> Head | None:
    """A detector's head: S1's three outputs, or one compact YOLO grid for ``labels``; None for a classifier."""
    outputs = backend.outputs
    by_bare = {_bare(o.name): o.name for o in outputs}
    if all(n in by_bare for n in S1_OUTPUTS):
        return Head("s1", [by_bare[n] for n in S1_OUTPUTS])
    if any(o.is_zipmap for o in outputs):
        return None
    floats = [o for o in outputs if o.dtype is not None and o.dtype.kind == "f"]
    if labels and len(outputs) == 1 and floats and len(floats[0].shape) == 4:
        shape = floats[0].shape
        if shape[1] == grid_channels(len(labels)):
            return Head("grid", [floats[0].name], "NCHW")
        if shape[3] == grid_channels(len(labels)):
            return Head("grid", [floats[0].name], "NHWC")
    return None


def _classifier_head(backend: Backend) -> Head:
    outputs = backend.outputs
    for o in outputs:
        if o.is_zipmap:
            return Head("zipmap", [o.name])
    floats = [o for o in outputs if o.dtype is not None and o.dtype.kind == "f"]
    for preferred in ("loss", "model_output"):
        for o in floats:
            if _bare(o.name) == preferred:
                return Head("scores", [o.name])
    if floats:
        return Head("scores", [floats[0].name])
    raise ModelLoadError("the model has no probability output (a float tensor or a ZipMap): is it a Custom Vision export?")


def _input_spec(inputs: list[TensorInfo], meta: dict[str, str]) -> InputSpec:
    if not inputs:
        raise ModelLoadError("the model has no input: is this a Custom Vision image export?")
    first = inputs[0]
    shape = list(first.shape)
    if len(shape) != 4:
        raise ModelLoadError(f"input {first.name!r} has shape {shape}, not an image batch: is this a Custom Vision image export?")
    layout: Literal["NCHW", "NHWC"]
    if shape[1] == 3:
        layout, dims = "NCHW", shape[2:4]
    elif shape[3] == 3:
        layout, dims = "NHWC", shape[1:3]
    else:
        raise ModelLoadError(f"input {first.name!r} with shape {shape} has no 3-channel axis: is this a Custom Vision image export?")
    target = meta.get("CustomVision.Preprocess.TargetHeight", "")
    fallback = int(target) if target.isdigit() else DEFAULT_SIZE_PX
    height, width = (d if d else fallback for d in dims)
    if not (0 < height <= MAX_INPUT_PX and 0 < width <= MAX_INPUT_PX):
        raise ModelLoadError(f"input {first.name!r} of {width}x{height} px is over {MAX_INPUT_PX} px a side: "
                             "is this a Custom Vision image export?")
    dtype = np.float16 if first.dtype == np.float16 else np.float32
    return InputSpec(name=first.name, layout=layout, height=height, width=width, dtype=dtype)


def _recipe(meta: dict[str, str], backend: Backend, head: Head) -> Recipe:
    s1 = head.kind == "s1" or any(_bare(o.name) == "model_output" for o in backend.outputs)
    # ONNX exports carry their colour order in metadata (none: BGR); TensorFlow flavours carry
    # none, and are BGR, except S1 models, which take RGB.
    default = "Rgb8" if s1 and backend.runtime != "ONNX Runtime" else "Bgr8"
    colour: Literal["BGR", "RGB"] = "RGB" if meta.get("Image.BitmapPixelFormat", default).lower().startswith("rgb") else "BGR"
    scale = 1.0 / 255.0 if meta.get("Image.NominalPixelRange", "") == "Normalized_0_1" else 1.0
    # An export naming its resize method gets it (Stretch, or else Pillow's shorter side to 256 as
    # before); detectors and S1 models see the whole image; the others get the Dockerfile
    # container's own recipe, so that thresholds tuned against it keep working (section 4).
    method = meta.get("CustomVision.Preprocess.ResizeMethod", "").lower()
    stretch = method == "stretch" or (not method and (s1 or head.kind == "grid"))
    return Recipe(colour=colour, scale=scale, resize="stretch" if stretch else "shorter_side" if method else "classic")


def _flavour(backend: Backend, manifest: dict[str, Any], head: Head, spec: InputSpec) -> str:
    if manifest.get("Flavor"):
        return printable_flavour(str(manifest["Flavor"]))
    if head.kind == "zipmap":
        return "ONNX12"
    if backend.runtime == "TensorFlow Lite":
        return "TensorFlowLite"
    if backend.runtime == "TensorFlow":
        return "TensorFlowNormal"
    return "ONNXFloat16" if spec.dtype == np.float16 else f"ONNX ({backend.producer})"


def _metadata(folder: ExportFolder) -> dict[str, str]:
    # with a manifest, only the metadata file it names: a metadata_properties.json left by another export is not read
    props_file = folder.manifest_name("MetadataPropsFileName", "") if folder.manifest else "metadata_properties.json"
    meta = dict(folder.backend.metadata)
    if props_file and folder.has(props_file):
        meta.update({k: str(v) for k, v in folder.json(props_file).items()})
    return meta


class CustomVisionExport(Model):
    """A Custom Vision export: the original container's preprocessing (or the one its metadata names), and its
    ``head`` decoding the outputs. Not a flavour itself: :class:`CustomVisionClassifier`, :class:`CustomVisionDetector`."""

    def __init__(self, backend: Backend, spec: InputSpec, recipe: Recipe, labels: tuple[str, ...], head: Head,
                 info: ModelInfo) -> None:
        super().__init__(backend, spec, recipe, labels, info, head.outputs)
        self.head = head

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return to_tensor(image, self.spec, self.recipe)

    def postprocess(self, raw: list[Any]) -> list[Prediction]:
        head = self.head
        if head.kind == "zipmap":
            scores = raw[0][0]
            return [Prediction(label, float(scores[label])) for label in self.labels]
        if head.kind == "scores":
            values = np.asarray(raw[0], dtype=np.float32).reshape(-1)
            return [Prediction(label, float(values[i])) for i, label in enumerate(self.labels)]
        if head.kind == "grid":
            found = non_max_suppression(*decode_grid(raw[0], head.layout, len(self.labels)))
        else:
            found = read_s1(raw[0], raw[1], raw[2], num_labels=len(self.labels))
        return [Prediction(self.labels[d.label], d.probability, boundingBox=d.box) for d in found]

    @classmethod
    def head_of(cls, folder: ExportFolder, labels: tuple[str, ...]) -> Head:
        """How this flavour reads the outputs of the model in ``folder``."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: ExportFolder) -> Model:
        backend = folder.backend
        meta = _metadata(folder)
        labels = _labels(folder)
        head = cls.head_of(folder, labels)
        spec = _input_spec(backend.inputs, meta)
        recipe = _recipe(meta, backend, head)
        try:
            raw = backend.run(head.outputs, blank_input(spec))
        except Exception as exc:  # noqa: BLE001 - a runtime failing on a well-formed input is a broken export
            raise load_failure(folder.model_path, exc) from exc
        labels_file = folder.manifest_name("LabelFileName", "labels.txt")
        if head.kind == "zipmap":
            if not labels:
                labels = _embedded_labels(backend, raw[0][0])
            elif sorted(labels) != sorted(str(k) for k in raw[0][0]):  # every answer would fail on a tag the model lacks
                raise ModelLoadError(f"{labels_file} lists {_listed(labels)} but the model's own labels are "
                                     f"{_listed(_embedded_labels(backend, raw[0][0]))}: "
                                     f"use the {labels_file} exported with this model, or remove it to use the model's own")
        elif head.kind == "scores" and np.asarray(raw[0]).reshape(-1).size != len(labels):
            raise ModelLoadError(
                f"labels.txt lists {len(labels)} tags but the model scores {np.asarray(raw[0]).reshape(-1).size}: "
                "use the labels.txt that came with this model"
            )
        info = ModelInfo(
            source=str(folder.location),
            sha256=file_sha256(folder.model_path),
            flavour=_flavour(backend, folder.manifest, head, spec),
            runtime=backend.runtime,
            task="detection" if head.kind in ("grid", "s1") else "classification",
            labels=labels,
            input_size=(spec.width, spec.height),
            layout=spec.layout,
            colour=recipe.colour,
            value_range="0-1" if recipe.scale != 1.0 else "0-255",
        )
        logger.info("loaded %s %s model %s (%s): %s, %dx%d %s %s %s", info.flavour, info.task, folder.model_path,
                    info.runtime, ", ".join(labels), spec.width, spec.height, spec.layout, recipe.colour, info.value_range)
        return cls(backend, spec, recipe, labels, head, info)


class CustomVisionDetector(CustomVisionExport):
    """A Custom Vision object detector: compact (one YOLO-style grid, decoded here, then non-maximum suppression)
    or S1 (``detected_boxes``, ``detected_classes``, ``detected_scores``); answers boxes, most probable first."""

    @classmethod
    def recognises(cls, folder: ExportFolder) -> bool:
        if not {_bare(o.name) for o in folder.backend.outputs} >= set(S1_OUTPUTS) and len(folder.backend.outputs) != 1:
            return False  # neither S1's outputs nor one grid: no need to read the labels
        return _detector_head(folder.backend, _labels(folder)) is not None

    @classmethod
    def head_of(cls, folder: ExportFolder, labels: tuple[str, ...]) -> Head:
        head = _detector_head(folder.backend, labels)
        assert head is not None  # recognised
        return head


class CustomVisionClassifier(CustomVisionExport):
    """A Custom Vision classifier, every export flavour (ONNX, ONNX12 with its ZipMap, Float16, S1, TensorFlow
    frozen graph, TensorFlow Lite): one probability per label, in label order. The last flavour asked: it takes
    any folder the others did not recognise, and says in one sentence what is missing."""

    @classmethod
    def recognises(cls, folder: ExportFolder) -> bool:
        return True

    @classmethod
    def head_of(cls, folder: ExportFolder, labels: tuple[str, ...]) -> Head:
        return _classifier_head(folder.backend)
