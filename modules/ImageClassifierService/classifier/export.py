"""Loading a Custom Vision export and classifying with it (ONNX Runtime).

contract: docs/customvision.md section 2. Everything the loader needs is read from the model
and its side files, never assumed: input name, layout (NCHW when dim 1 is 3, NHWC when the last
dim is 3), size and dtype from the session; colour order and value range from the model's
metadata or ``metadata_properties.json`` (no range metadata means 0-255); resize and crop from
``metadata_properties.json``; labels from ``labels.txt`` or the ZipMap's embedded labels; file
names from ``cvexport.manifest`` when the export has one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

try:
    import onnxruntime as ort
except ImportError:  # arm32v7: ONNX Runtime publishes no 32-bit ARM wheels
    ort = None  # type: ignore[assignment]

from classifier.preprocess import InputSpec, Recipe, to_tensor

logger = logging.getLogger(__name__)

DEFAULT_SIZE_PX = 224
MANIFEST_FILE = "cvexport.manifest"


class ModelLoadError(RuntimeError):
    """The export cannot be served; the message is one sentence saying what is wrong and what to do."""


@dataclass(frozen=True)
class ModelInfo:
    """What is being served, for reported properties and logs."""

    source: str
    sha256: str
    flavour: str
    labels: tuple[str, ...]
    input_size: tuple[int, int]  # (width, height) px
    layout: str
    colour: str
    value_range: str


class CustomVisionModel:
    """A loaded export: ``classify(image)`` returns ``(tag, probability)`` in label order.

    Loaded once, warmed up, and safe to call from several threads (ONNX Runtime sessions are).
    """

    def __init__(self, session: ort.InferenceSession, spec: InputSpec, recipe: Recipe, labels: tuple[str, ...],
                 output: str, info: ModelInfo) -> None:
        self.session = session
        self.spec = spec
        self.recipe = recipe
        self.labels = labels
        self._output = output
        self.info = info

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """RGB Pillow image (from :func:`classifier.preprocess.decode`) -> the network's input tensor."""
        return to_tensor(image, self.spec, self.recipe)

    def run(self, tensor: np.ndarray) -> list[tuple[str, float]]:
        """Run the network on a prepared tensor; returns (tag, probability) per label, label order."""
        (raw,) = self.session.run([self._output], {self.spec.name: tensor})
        if isinstance(raw, list):  # ZipMap: [{label: probability}]
            scores = raw[0]
            return [(label, float(scores[label])) for label in self.labels]
        values = np.asarray(raw, dtype=np.float32).reshape(-1)
        return [(label, float(values[i])) for i, label in enumerate(self.labels)]

    def classify(self, image: Image.Image) -> list[tuple[str, float]]:
        """RGB Pillow image -> (tag, probability 0-1) per label, in label order."""
        return self.run(self.preprocess(image))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc}): restore it from the original export") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object: restore it from the original export")
    return data


def _unpack(path: Path) -> Path:
    if path.is_dir():
        return path
    if path.is_file() and zipfile.is_zipfile(path):
        target = Path(tempfile.mkdtemp(prefix="cvexport-"))
        with zipfile.ZipFile(path) as archive:
            archive.extractall(target)
        inner = [p.parent for p in target.rglob("*.onnx")]
        return inner[0] if inner else target
    raise ModelLoadError(f"model location {path} does not exist: set MODEL_DIR to the folder (or zip) of your export")


def _metadata(session: ort.InferenceSession, directory: Path, props_file: str) -> dict[str, str]:
    meta = dict(session.get_modelmeta().custom_metadata_map)
    props = directory / props_file
    if props.is_file():
        meta.update({k: str(v) for k, v in _read_json(props).items()})
    return meta


def _labels(directory: Path, labels_file: str, session: ort.InferenceSession, output: str) -> tuple[str, ...]:
    path = directory / labels_file
    if path.is_file():
        labels = tuple(line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip())
        if labels:
            return labels
        raise ModelLoadError(f"{path} is empty: it must list one tag per line, as exported")
    if output_is_zipmap(session, output):
        return ()  # read from the ZipMap at warm-up
    raise ModelLoadError(f"{path} is missing: copy labels.txt from your export next to the model")


def output_is_zipmap(session: ort.InferenceSession, name: str) -> bool:
    """True when output ``name`` is a ZipMap (``seq(map(string, float))``)."""
    return any(o.name == name and o.type.startswith("seq(map") for o in session.get_outputs())


def _probability_output(session: ort.InferenceSession) -> str:
    outputs = session.get_outputs()
    for o in outputs:
        if o.type.startswith("seq(map(string"):
            return o.name
    floats = [o for o in outputs if o.type.startswith("tensor(float")]
    for preferred in ("loss", "loss:0", "model_output"):
        for o in floats:
            if o.name == preferred:
                return o.name
    if floats:
        return floats[0].name
    raise ModelLoadError("the model has no probability output (a float tensor or a ZipMap): is it a Custom Vision classifier export?")


def _input_spec(session: ort.InferenceSession, meta: dict[str, str]) -> InputSpec:
    first = session.get_inputs()[0]
    shape = list(first.shape)
    if len(shape) != 4:
        raise ModelLoadError(f"input {first.name!r} has shape {shape}, not an image batch: is this a Custom Vision image export?")
    if shape[1] == 3:
        layout, dims = "NCHW", shape[2:4]
    elif shape[3] == 3:
        layout, dims = "NHWC", shape[1:3]
    else:
        raise ModelLoadError(f"input {first.name!r} with shape {shape} has no 3-channel axis: is this a Custom Vision image export?")
    fallback = int(meta.get("CustomVision.Preprocess.TargetHeight", DEFAULT_SIZE_PX))
    height, width = (d if isinstance(d, int) and d > 0 else fallback for d in dims)
    dtype = np.float16 if first.type == "tensor(float16)" else np.float32
    return InputSpec(name=first.name, layout=layout, height=height, width=width, dtype=dtype)


def _recipe(meta: dict[str, str]) -> Recipe:
    colour = "RGB" if meta.get("Image.BitmapPixelFormat", "Bgr8").lower().startswith("rgb") else "BGR"
    scale = 1.0 / 255.0 if meta.get("Image.NominalPixelRange", "") == "Normalized_0_1" else 1.0
    resize = "stretch" if meta.get("CustomVision.Preprocess.ResizeMethod", "").lower() == "stretch" else "classic"
    return Recipe(colour=colour, scale=scale, resize=resize)


def _flavour(session: ort.InferenceSession, manifest: dict[str, Any], output: str) -> str:
    if manifest.get("Flavor"):
        return str(manifest["Flavor"])
    if output_is_zipmap(session, output):
        return "ONNX12"
    producer = session.get_modelmeta().producer_name or "unknown"
    return f"ONNX ({producer})"


def load(location: str | Path, threads: int = 0) -> CustomVisionModel:
    """Load and warm up the export at ``location`` (a folder or a zip).

    threads: ONNX Runtime intra-op threads, 0 for its default (one per core).
    Raises ModelLoadError, with one sentence saying what is wrong and what to do.
    """
    if ort is None:
        raise ModelLoadError(
            "ONNX Runtime is not installed on this platform (it has no 32-bit ARM build): "
            "use a 64-bit OS and the arm64v8 image, or a TensorFlow Lite export"
        )
    directory = _unpack(Path(location))
    manifest = _read_json(directory / MANIFEST_FILE) if (directory / MANIFEST_FILE).is_file() else {}
    model_path = directory / str(manifest.get("ModelFileName") or "model.onnx")
    if not model_path.is_file():
        raise ModelLoadError(f"no {model_path.name} in {directory}: put your Custom Vision ONNX export (model.onnx and labels.txt) there")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises several unrelated types
        text = str(exc)
        if "INVALID_GRAPH" in text or "opset" in text.lower():
            raise ModelLoadError(
                f"{model_path} is a legacy ONNX export that current ONNX Runtime cannot run: "
                "re-export the model from Custom Vision as ONNX or TensorFlow Lite"
            ) from exc
        raise ModelLoadError(f"{model_path} is not a loadable ONNX model ({text.splitlines()[0][:200]}): export it again") from exc
    meta = _metadata(session, directory, str(manifest.get("MetadataPropsFileName") or "metadata_properties.json"))
    output = _probability_output(session)
    labels = _labels(directory, str(manifest.get("LabelFileName") or "labels.txt"), session, output)
    spec = _input_spec(session, meta)
    recipe = _recipe(meta)
    warm = np.zeros((1, 3, spec.height, spec.width) if spec.layout == "NCHW" else (1, spec.height, spec.width, 3), spec.dtype)
    (raw,) = session.run([output], {spec.name: warm})
    if not labels:
        labels = tuple(raw[0].keys())
    elif not isinstance(raw, list) and np.asarray(raw).reshape(-1).size != len(labels):
        raise ModelLoadError(
            f"labels.txt lists {len(labels)} tags but the model scores {np.asarray(raw).reshape(-1).size}: "
            "use the labels.txt that came with this model"
        )
    info = ModelInfo(
        source=str(location),
        sha256=hashlib.sha256(model_path.read_bytes()).hexdigest(),
        flavour=_flavour(session, manifest, output),
        labels=labels,
        input_size=(spec.width, spec.height),
        layout=spec.layout,
        colour=recipe.colour,
        value_range="0-1" if recipe.scale != 1.0 else "0-255",
    )
    logger.info("loaded %s model %s: %s, %dx%d %s %s %s", info.flavour, model_path, ", ".join(labels),
                spec.width, spec.height, spec.layout, recipe.colour, info.value_range)
    return CustomVisionModel(session, spec, recipe, labels, output, info)
