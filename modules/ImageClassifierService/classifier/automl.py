"""Azure Machine Learning AutoML image exports: ``model.onnx`` with ``labels.json``.

contract: docs/customvision.md section 6; Azure ML's "Make predictions with ONNX on computer vision
models from AutoML" (how-to-inference-onnx-automl-image-models) and its YOLO helper
``yolo_onnx_preprocessing_utils.py`` (Azure/azureml-examples). An export is recognised by
``labels.json`` beside the model (and no ``cvexport.manifest``): a JSON list of class names, class
index i being the i-th name. The input is ``[batch, 3, height, width]`` float, RGB. The form
follows from the outputs:

- classification: one output ``[batch, classes]`` of logits. Multi-class takes their softmax,
  multi-label their sigmoid. The ONNX model and labels.json are the same for both, so multi-label
  is read from AutoML's run settings beside them (``settings.json`` whose ``task_type`` names
  multilabel, e.g. ``image-classification-multilabel``); without it, multi-class.
- Faster R-CNN / RetinaNet detection: outputs ``boxes`` ``[n, 4]`` (x_min, y_min, x_max, y_max,
  input px), ``labels`` ``[n]`` and ``scores`` ``[n]`` (names may end in ``_0``), already suppressed
  by the model; Faster R-CNN lists labels before scores, RetinaNet scores before labels.
- YOLO detection: the first output ``[batch, candidates, 5 + classes]``: centre x, centre y, width,
  height (input px), objectness, per-class scores (both 0-1); suppressed here per class (IoU 0.5).
- Mask R-CNN instance segmentation (a ``masks`` output) is refused.

Preprocessing per form, as documented: classification resizes the shorter side to
``valid_resize_size`` (256 for AutoML's default 224 crop; scaled with the input otherwise) with
bilinear filtering (torchvision's ``Resize``), then centre-crops to the input; Faster R-CNN /
RetinaNet stretch the image to the input (Pillow's default bicubic, as the documented code);
both then scale to 0-1 and normalise with ImageNet's mean and std. YOLO letterboxes (scaled down
only, aspect kept, grey 114 padding split over both sides) and feeds 0-1 RGB.
Detections answer Custom Vision's ``boundingBox`` (normalised to the image, clipped), most probable
first, at most 100 (AutoML's ``box_detections_per_img``), above probability 0.1.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from classifier.backends import Backend
from classifier.detection import PROBABILITY_THRESHOLD, non_max_suppression, read_s1, sigmoid
from classifier.folder import ExportFolder
from classifier.model import Model, ModelInfo, ModelLoadError, Prediction, file_sha256
from classifier.preprocess import InputSpec, Recipe

logger = logging.getLogger(__name__)

LABELS_FILE = "labels.json"
SETTINGS_FILE = "settings.json"  # AutoML's run settings: task_type tells multi-label from multi-class
BACKGROUND = "--bg--"  # AutoML's background class in detection labels: never answered
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
RESIZE_PER_CROP = 256 / 224  # valid_resize_size / valid_crop_size, AutoML's defaults
YOLO_PAD = 114
YOLO_IOU = 0.5  # AutoML's YOLO box_iou_thresh
DETECTIONS = 100  # AutoML's box_detections_per_img

Frame = tuple[int, int, int, int]  # where the image lies in the input: left, top, width, height, px


class Letterboxed(np.ndarray):
    """A network input that remembers where the image lies in it (``frame``), for YOLO's letterbox."""

    frame: Frame


def _normalised(image: Image.Image) -> np.ndarray:
    """RGB image -> [1,3,H,W] float32, 0-1 then ImageNet mean/std per channel."""
    pixels = (np.asarray(image, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])


@dataclass(frozen=True)
class Form(ABC):
    """One AutoML output form: how an image becomes its input and its outputs predictions."""

    outputs: tuple[str, ...]
    flavour: ClassVar[str]
    task: ClassVar[str]  # "classification" or "detection"
    value_range: ClassVar[str] = "ImageNet mean/std"
    default_size: ClassVar[tuple[int, int]]  # (height, width) px when the input's are dynamic

    @abstractmethod
    def prepare(self, image: Image.Image, spec: InputSpec) -> np.ndarray:
        """RGB Pillow image -> the network's input, [1,3,H,W] float32."""

    @abstractmethod
    def decode(self, raw: list[Any], frame: Frame, labels: tuple[str, ...]) -> list[Prediction]:
        """The named outputs, in ``outputs`` order -> predictions."""


class MultiClass(Form):
    """Classification logits ``[batch, classes]``; probability = softmax, one per label in label order."""

    flavour = "automl-multiclass"
    task = "classification"
    default_size = (224, 224)

    def prepare(self, image: Image.Image, spec: InputSpec) -> np.ndarray:
        resize = round(min(spec.height, spec.width) * RESIZE_PER_CROP)
        width, height = image.size
        # torchvision Resize(int): the shorter side to `resize`, the longer in proportion (truncated).
        size = (resize, int(resize * height / width)) if width <= height else (int(resize * width / height), resize)
        resized = image.resize(size, Image.Resampling.BILINEAR)
        left, top = int(round((size[0] - spec.width) / 2.0)), int(round((size[1] - spec.height) / 2.0))
        return _normalised(resized.crop((left, top, left + spec.width, top + spec.height)))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def decode(self, raw: list[Any], frame: Frame, labels: tuple[str, ...]) -> list[Prediction]:
        scores = self.probabilities(np.asarray(raw[0], dtype=np.float64).reshape(-1))
        return [Prediction(label, float(scores[i])) for i, label in enumerate(labels)]


class MultiLabel(MultiClass):
    """As :class:`MultiClass`, but each label's probability is the sigmoid of its logit."""

    flavour = "automl-multilabel"

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits)


class Rcnn(Form):
    """Faster R-CNN: outputs (boxes [n,4] input px, labels [n], scores [n]), suppressed by the model;
    ``outputs`` names them in that order."""

    flavour = "automl-fasterrcnn"
    task = "detection"
    default_size = (600, 800)

    def prepare(self, image: Image.Image, spec: InputSpec) -> np.ndarray:
        return _normalised(image.resize((spec.width, spec.height), Image.Resampling.BICUBIC))

    def decode(self, raw: list[Any], frame: Frame, labels: tuple[str, ...]) -> list[Prediction]:
        _, _, width, height = frame
        boxes = np.asarray(raw[0], dtype=np.float32).reshape(-1, 4) / np.array([width, height, width, height], np.float32)
        found = read_s1(boxes, raw[1], raw[2], num_labels=len(labels), limit=DETECTIONS)
        return [Prediction(labels[d.label], d.probability, boundingBox=d.box) for d in found]


class RetinaNet(Rcnn):
    """RetinaNet: as Faster R-CNN (its outputs list scores before labels; ``outputs`` is reordered)."""

    flavour = "automl-retinanet"


class Yolo(Form):
    """YOLO: candidates [batch, K, 5 + classes] (cx, cy, w, h input px, objectness, class scores)."""

    flavour = "automl-yolo"
    task = "detection"
    value_range = "0-1"
    default_size = (640, 640)

    def prepare(self, image: Image.Image, spec: InputSpec) -> np.ndarray:
        width, height = image.size
        ratio = min(spec.height / height, spec.width / width, 1.0)  # scaleup=False: never enlarged
        size = (int(round(width * ratio)), int(round(height * ratio)))
        left = int(round((spec.width - size[0]) / 2 - 0.1))
        top = int(round((spec.height - size[1]) / 2 - 0.1))
        canvas = Image.new("RGB", (spec.width, spec.height), (YOLO_PAD,) * 3)
        canvas.paste(image if size == image.size else image.resize(size, Image.Resampling.BILINEAR), (left, top))
        tensor = np.ascontiguousarray((np.asarray(canvas, dtype=np.float32) / 255.0).transpose(2, 0, 1)[None])
        framed = tensor.view(Letterboxed)
        framed.frame = (left, top, size[0], size[1])
        return framed

    def decode(self, raw: list[Any], frame: Frame, labels: tuple[str, ...]) -> list[Prediction]:
        left, top, width, height = frame
        candidates = np.asarray(raw[0], dtype=np.float32)[0]
        cx, cy, w, h = (candidates[:, i] for i in range(4))
        boxes = np.stack(((cx - w / 2 - left) / width, (cy - h / 2 - top) / height,
                          (cx + w / 2 - left) / width, (cy + h / 2 - top) / height), axis=1)
        probs = candidates[:, 5:] * candidates[:, 4:5]  # objectness x class score
        found = non_max_suppression(boxes, probs, PROBABILITY_THRESHOLD, YOLO_IOU, DETECTIONS, per_class=True)
        return [Prediction(labels[d.label], d.probability, boundingBox=d.box) for d in found]


def _labels(folder: ExportFolder) -> tuple[str, ...]:
    path = folder.file(LABELS_FILE)
    try:
        labels = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc.__class__.__name__}): "
                             "use the labels.json downloaded with the AutoML model") from exc
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ModelLoadError(f"{path} is not a JSON list of class names: use the labels.json downloaded with the AutoML model")
    return tuple(labels)


def _multilabel(folder: ExportFolder) -> bool:
    if not folder.has(SETTINGS_FILE):
        return False
    task = str(folder.json(SETTINGS_FILE).get("task_type", ""))
    return "multilabel" in task.replace("-", "").replace("_", "").lower()


def _named(backend: Backend, kind: str) -> list[str]:
    return [o.name for o in backend.outputs if re.fullmatch(rf"{kind}(_\d+)?", o.name.split(":")[0].lower())]


def _form(backend: Backend, labels: tuple[str, ...], folder: ExportFolder) -> Form:
    count = len(labels)
    if _named(backend, "masks"):
        raise ModelLoadError("the AutoML model is an instance segmentation model (it has a masks output), which is not "
                             "served: export an AutoML classification or object detection model")
    found = {kind: _named(backend, kind) for kind in ("boxes", "labels", "scores")}
    if all(found.values()):
        names = [found[kind][0] for kind in ("boxes", "labels", "scores")]
        order = [o.name for o in backend.outputs]
        retina = order.index(names[2]) < order.index(names[1])
        return (RetinaNet if retina else Rcnn)(tuple(names))
    if any(found.values()):
        missing = ", ".join(kind for kind, names in found.items() if not names)
        raise ModelLoadError(f"the AutoML detection model has no {missing} output (it needs boxes, labels and scores): "
                             "export the model from the AutoML run again")
    first = backend.outputs[0] if backend.outputs else None
    if first is not None and first.dtype is not None and first.dtype.kind == "f":
        if len(first.shape) == 3 and first.shape[2] == 5 + count:
            return Yolo((first.name,))
        if len(first.shape) == 2 and first.shape[1] == count:
            return (MultiLabel if _multilabel(folder) else MultiClass)((first.name,))
    shapes = ", ".join(f"{o.name} {list(o.shape)}" for o in backend.outputs)
    raise ModelLoadError(f"{LABELS_FILE} lists {count} classes but the model's outputs ({shapes[:200]}) fit no AutoML form "
                         f"(classification [batch, {count}], YOLO [batch, boxes, {5 + count}], or boxes/labels/scores): "
                         "use the model.onnx and labels.json of the same AutoML run")


def _input_spec(backend: Backend, form: Form) -> InputSpec:
    first = backend.inputs[0] if backend.inputs else None
    if first is None or len(first.shape) != 4 or first.shape[1] != 3 or first.dtype != np.float32:
        shown = f"{first.name!r} {list(first.shape)}" if first else "none"
        raise ModelLoadError(f"the AutoML model's input ({shown}) is not a float32 [batch, 3, height, width] image batch: "
                             "export the model from the AutoML run again")
    height, width = (d or default for d, default in zip(first.shape[2:4], form.default_size, strict=True))
    return InputSpec(name=first.name, layout="NCHW", height=height, width=width, dtype=np.float32)


class AutomlModel(Model):
    """An Azure ML AutoML export (``model.onnx``, or ``make convert-model``'s ``model.tflite``, beside
    ``labels.json`` and no Custom Vision manifest), served like a Custom Vision one: its form prepares and decodes.

    ``recipe`` is informational only here (RGB, 0-1): :meth:`preprocess` is the form's.
    """

    def __init__(self, backend: Backend, spec: InputSpec, labels: tuple[str, ...], form: Form, info: ModelInfo) -> None:
        super().__init__(backend, spec, Recipe(colour="RGB", scale=1.0 / 255.0), labels, info, list(form.outputs))
        self.form = form

    @classmethod
    def recognises(cls, folder: ExportFolder) -> bool:
        return not folder.manifest and folder.has(LABELS_FILE)

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return self.form.prepare(image, self.spec)

    def predict(self, tensor: np.ndarray) -> list[Any]:
        """The named outputs, then the frame of the image in the input (the whole input unless letterboxed)."""
        frame = tensor.frame if isinstance(tensor, Letterboxed) else (0, 0, self.spec.width, self.spec.height)
        return [*self.backend.run(self.outputs, np.asarray(tensor)), frame]

    def postprocess(self, raw: list[Any]) -> list[Prediction]:
        return [p for p in self.form.decode(raw[:-1], raw[-1], self.labels) if p.tagName != BACKGROUND]

    @classmethod
    def load(cls, folder: ExportFolder) -> Model:
        """The AutoML export in ``folder``, warmed up.

        A ``model.tflite`` beside labels.json (``make convert-model``'s conversion of an AutoML classifier or YOLO
        detector, taking the same NCHW input) is served where ONNX Runtime is missing (arm32v7); its forms are told
        by output shape, as TFLite keeps no output names (Faster R-CNN and RetinaNet are not converted).
        Raises ModelLoadError, one sentence, when the export is only half an AutoML export: labels.json
        beside labels.txt, a model that is neither ONNX nor TensorFlow Lite, labels.json not a list of names, an input
        that is not an NCHW image batch, outputs that fit no form, or a model that fails on a blank image.
        """
        backend, model_path = folder.backend, folder.model_path
        if folder.has("labels.txt"):
            raise ModelLoadError(f"{folder.directory} holds both labels.txt (Custom Vision) and labels.json (Azure ML AutoML): "
                                 "keep only the labels file exported with this model")
        if backend.runtime not in ("ONNX Runtime", "TensorFlow Lite"):
            raise ModelLoadError(f"{model_path.name} is beside labels.json, but Azure ML AutoML exports are ONNX: "
                                 "put the AutoML run's model.onnx there")
        labels = _labels(folder)
        form = _form(backend, labels, folder)  # on TFLite the outputs have lost their names: classification or YOLO
        spec = _input_spec(backend, form)
        info = ModelInfo(source=str(folder.location), sha256=file_sha256(model_path), flavour=form.flavour,
                         runtime=backend.runtime, task=form.task, labels=labels, input_size=(spec.width, spec.height),
                         layout="NCHW", colour="RGB", value_range=form.value_range)
        model = cls(backend, spec, labels, form, info)
        try:
            model.run(np.zeros((1, 3, spec.height, spec.width), spec.dtype))
        except Exception as exc:  # noqa: BLE001 - a runtime failing on a well-formed input is a broken export
            text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
            raise ModelLoadError(f"{model_path} fails on a blank {spec.width}x{spec.height} image ({text}): "
                                 "export the model from the AutoML run again") from exc
        logger.info("loaded %s %s model %s (%s): %s, %dx%d NCHW RGB %s", info.flavour, info.task, model_path,
                    info.runtime, ", ".join(labels), spec.width, spec.height, info.value_range)
        return model
