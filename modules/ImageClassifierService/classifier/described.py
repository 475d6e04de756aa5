"""A classifier of your own: any ONNX or TensorFlow Lite model with a ``model.json`` beside it saying how it is fed.

A model from anywhere (a torchvision or timm network exported to ONNX, a LiteRT model, ``make convert-model``'s
TFLite of either) is served through the same API as a Custom Vision export once ``model.json`` describes it; the
folder (or zip) holds ``model.onnx`` and/or ``model.tflite``, ``model.json`` and perhaps a labels file. Example (a
torchvision ImageNet-style classifier)::

    {"input": "input", "layout": "NCHW", "size": [224, 224], "colour": "RGB", "range": [0, 1],
     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "resize": "shorter_side", "resize_to": 256,
     "crop": "centre", "interpolation": "bilinear", "labels_file": "labels.txt", "scores": "softmax"}

Fields (each checked; a wrong one is refused with the field's name and what it accepts):

- ``input``: the input's name (default: the model's first; it must be the first). onnx2tf's TFLite model of it
  names it ``serving_default_<input>:0``, also accepted. ``output``: the scores' output (default: the first).
- ``layout``: ``NCHW`` or ``NHWC``, the image tensor's, checked against the model's input shape (a TFLite model
  converted by ``make convert-model`` takes NCHW whatever the ONNX model took: it is fed so).
- ``size``: [width, height] px of the input (1-4096), checked against the model's input shape where fixed.
- ``colour``: ``RGB`` or ``BGR``, the channel order; ``mean`` and ``std`` are in that order.
- ``range``: [value of pixel 0, value of pixel 255]: [0, 1] (torchvision), [0, 255], [-1, 1] (Inception)...
- ``mean``, ``std``: per channel, applied after ``range``: (value - mean) / std; std > 0. Defaults 0 and 1.
- ``resize``: ``stretch`` (the whole image to ``size``, aspect not kept; ``crop`` must be ``none``) or
  ``shorter_side`` (the shorter side to ``resize_to`` px, default the shorter of ``size``, aspect kept; ``crop``
  must be ``centre``). ``interpolation``: Pillow's ``nearest``, ``bilinear``, ``bicubic`` or ``lanczos``.
- ``labels`` (a list of names, in the model's output order) or ``labels_file`` (beside the model: one name per
  line, or a JSON list), exactly one of them; names unique.
- ``scores``: how the output becomes probabilities: ``probabilities`` (as they are), ``softmax`` or ``sigmoid``
  (logits; sigmoid for multi-label).

Classification only: the output is one score per label. The fields are checked in classifier/description.py
(pydantic), imported only for a folder holding ``model.json``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

from classifier.backends import Backend, TensorInfo
from classifier.detection import sigmoid
from classifier.folder import ExportFolder
from classifier.model import Model, ModelInfo, ModelLoadError, Prediction, blank_input, file_sha256
from classifier.preprocess import InputSpec, Recipe

if TYPE_CHECKING:
    from classifier.description import Description

logger = logging.getLogger(__name__)

DESCRIPTION_FILE = "model.json"
FILTERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
           "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


def _matches(name: str, tensor: TensorInfo) -> bool:
    return tensor.name in (name, f"serving_default_{name}:0")


def _input(backend: Backend, described: Description) -> tuple[InputSpec, Literal["NCHW", "NHWC"]]:
    """The network's input, checked against the description; the layout it is fed in (see the module doc)."""
    if not backend.inputs:
        raise ModelLoadError("the model has no input")
    first = backend.inputs[0]
    if described.input is not None and not _matches(described.input, first):
        names = ", ".join(repr(t.name) for t in backend.inputs)[:200]
        raise ModelLoadError(f"model.json: input: {described.input[:80]!r} is not the model's first input (its inputs: "
                             f"{names}); name the first, which the service feeds")
    shape = first.shape
    width, height = described.size
    layout = described.layout
    fits = {"NCHW": len(shape) == 4 and shape[1] == 3, "NHWC": len(shape) == 4 and shape[3] == 3}
    if not fits[layout]:
        other: Literal["NCHW", "NHWC"] = "NHWC" if layout == "NCHW" else "NCHW"
        if backend.runtime == "TensorFlow Lite" and fits[other]:
            layout = other  # make convert-model's TFLite model takes the image NCHW, whatever the ONNX one took
        else:
            raise ModelLoadError(f"model.json: layout: {layout} does not fit the model's input {first.name!r} of shape "
                                 f"{[d if d else '?' for d in shape]}")
    dims = shape[2:4] if layout == "NCHW" else shape[1:3]
    if any(d is not None and d != want for d, want in zip(dims, (height, width), strict=True)):
        raise ModelLoadError(f"model.json: size: [{width}, {height}] does not fit the model's input {first.name!r} of "
                             f"shape {[d if d else '?' for d in shape]}")
    if first.dtype not in (np.float32, np.float16):
        raise ModelLoadError(f"the model's input {first.name!r} is {first.dtype}, not float: only float inputs are fed")
    dtype = np.float16 if first.dtype == np.float16 else np.float32
    return InputSpec(name=first.name, layout=layout, height=height, width=width, dtype=dtype), layout


def _output(backend: Backend, described: Description) -> str:
    if described.output is None:
        if not backend.outputs:
            raise ModelLoadError("the model has no output")
        return backend.outputs[0].name
    for tensor in backend.outputs:
        if _matches(described.output, tensor):
            return tensor.name
    names = ", ".join(repr(t.name) for t in backend.outputs)[:200]
    raise ModelLoadError(f"model.json: output: {described.output[:80]!r} is not an output of the model (its outputs: {names})")


def prepare(image: Image.Image, described: Description, spec: InputSpec) -> np.ndarray:
    """RGB Pillow image -> the network's input [1,3,H,W] or [1,H,W,3], as ``described`` says, in ``spec.dtype``."""
    width, height = described.size
    method = FILTERS[described.interpolation]
    if described.resize == "stretch":
        resized = image.resize((width, height), method)
    else:
        shorter = described.resize_to or min(width, height)
        w, h = image.size
        size = (max(width, round(w * shorter / min(w, h))), max(height, round(h * shorter / min(w, h))))
        resized = image.resize(size, method)
        left, top = (size[0] - width) // 2, (size[1] - height) // 2
        resized = resized.crop((left, top, left + width, top + height))
    pixels = np.asarray(resized, dtype=np.float32)
    if described.colour == "BGR":
        pixels = pixels[..., ::-1]
    low, high = described.range
    values = (low + pixels * np.float32((high - low) / 255.0) - np.asarray(described.mean, np.float32)) / \
        np.asarray(described.std, np.float32)
    tensor = values.transpose(2, 0, 1) if spec.layout == "NCHW" else values
    return np.ascontiguousarray(tensor[None], dtype=spec.dtype)


class DescribedModel(Model):
    """A model of your own, prepared and decoded as its ``model.json`` says; served like a Custom Vision export.

    ``recipe`` is informational only here: :meth:`preprocess` follows the description."""

    def __init__(self, backend: Backend, spec: InputSpec, labels: tuple[str, ...], described: Description,
                 output: str, info: ModelInfo) -> None:
        scale = abs(described.range[1] - described.range[0]) / 255.0
        super().__init__(backend, spec, Recipe(colour=described.colour, scale=scale), labels, info, [output])
        self.described = described

    @classmethod
    def recognises(cls, folder: ExportFolder) -> bool:
        """A described model of your own: ``model.json`` and no Custom Vision manifest (it may name labels.json)."""
        return not folder.manifest and folder.has(DESCRIPTION_FILE)

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return prepare(image, self.described, self.spec)

    def postprocess(self, raw: list[Any]) -> list[Prediction]:
        values = np.asarray(raw[0], dtype=np.float64).reshape(-1)
        if self.described.scores == "softmax":
            exp = np.exp(values - values.max())
            values = exp / exp.sum()
        elif self.described.scores == "sigmoid":
            values = sigmoid(values)
        return [Prediction(label, float(values[i])) for i, label in enumerate(self.labels)]

    @classmethod
    def load(cls, folder: ExportFolder) -> Model:
        """The described model in ``folder``, checked and warmed up.

        Raises ModelLoadError, one line, naming the field of ``model.json`` that is wrong, or why the model does not
        fit its description (input name, layout, size, output, number of labels)."""
        from classifier.description import read_description, read_labels  # pydantic: only for a folder holding model.json

        backend, model_path = folder.backend, folder.model_path
        if backend.runtime not in ("ONNX Runtime", "TensorFlow Lite"):
            raise ModelLoadError(f"{model_path.name} is beside model.json, but a described model is ONNX (model.onnx) or "
                                 "TensorFlow Lite (model.tflite)")
        described = read_description(folder.file(DESCRIPTION_FILE))
        labels = read_labels(folder, described)
        spec, layout = _input(backend, described)
        output = _output(backend, described)
        value_range = f"{described.range[0]:g} to {described.range[1]:g}, mean {list(described.mean)}, std {list(described.std)}"
        info = ModelInfo(source=str(folder.location), sha256=file_sha256(model_path), flavour="described",
                         runtime=backend.runtime, task="classification", labels=labels, input_size=described.size,
                         layout=layout, colour=described.colour, value_range=value_range[:120])
        model = cls(backend, spec, labels, described, output, info)
        try:
            scores = np.asarray(model.predict(blank_input(spec))[0]).reshape(-1).size
        except Exception as exc:  # noqa: BLE001 - a runtime failing on a well-formed input is a broken model
            text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
            raise ModelLoadError(f"{model_path} fails on a blank {spec.width}x{spec.height} image ({text}): check "
                                 "model.json's input, layout and size") from exc
        if scores != len(labels):
            raise ModelLoadError(f"model.json: labels: {len(labels)} names, but the model's output {output!r} gives "
                                 f"{scores} scores; list one name per score, in the output's order")
        logger.info("loaded described classification model %s (%s): %s, %dx%d %s %s", model_path, backend.runtime,
                    ", ".join(labels[:20]), spec.width, spec.height, layout, described.colour)
        return model
