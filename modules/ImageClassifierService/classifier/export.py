"""Loading a Custom Vision export and predicting with it.

contract: docs/customvision.md sections 2 and 3. Everything the loader needs is read from the
model and its side files, never assumed: which runtime from the model file (``model.onnx``,
``model.tflite``, ``model.pb``, or ``cvexport.manifest``'s ``ModelFileName``); input name, layout
(NCHW when dim 1 is 3, NHWC when the last dim is 3), size and dtype from the network; colour order
and value range from the model's metadata or ``metadata_properties.json`` (no range metadata
means 0-255; TensorFlow flavours without metadata are BGR 0-255, S1 ones RGB); resize and crop
from ``metadata_properties.json``; labels from ``labels.txt`` or the ZipMap's embedded labels
(in the model's order; a ``labels.txt`` naming other tags is refused); classification or object
detection from the outputs. An Azure ML AutoML export (``labels.json`` beside the model, section 6)
is found in the same folders and zips, then loaded by :mod:`classifier.automl`.

An export is untrusted input: a zip is unpacked within :class:`UnpackLimits` (a zip bomb is
refused) and no file may lie outside the export folder (absolute names, ``..``, symbolic links
pointing out; in the zip or in ``cvexport.manifest``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from PIL import Image

from classifier.backends import BACKENDS, Backend, RuntimeMissing, TensorInfo
from classifier.detection import S1_OUTPUTS, Box, decode_grid, grid_channels, non_max_suppression, read_s1
from classifier.preprocess import InputSpec, Recipe, to_tensor

logger = logging.getLogger(__name__)

DEFAULT_SIZE_PX = 224
MAX_INPUT_PX = 4096  # largest network input side accepted (Custom Vision's are 224-512)
MANIFEST_FILE = "cvexport.manifest"
MIB = 1024 * 1024
CHUNK_BYTES = 1024 * 1024


class ModelLoadError(RuntimeError):
    """The export cannot be served; the message is one sentence saying what is wrong and what to do."""


@dataclass(frozen=True)
class UnpackLimits:
    """Caps on what an export zip may unpack to, so that a zip bomb cannot fill the disk.

    total_bytes: all files together, bytes; file_bytes: any one file, bytes; files: entries.
    The defaults are far above real exports (a compact export is 3-5 files of 5-50 MB).
    """

    total_bytes: int = 300 * MIB
    file_bytes: int = 200 * MIB
    files: int = 1000


DEFAULT_LIMITS = UnpackLimits()


class Prediction(NamedTuple):
    """One prediction: ``tag``, ``probability`` 0-1, and for object detection the ``box``."""

    tag: str
    probability: float
    box: Box | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What is being served, for reported properties, /metrics and logs."""

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


@dataclass(frozen=True)
class _Head:
    """How the network's outputs become predictions."""

    kind: str  # "scores" | "zipmap" | "grid" | "s1"
    outputs: list[str]
    layout: str = "NCHW"  # grid layout


class CustomVisionModel:
    """A loaded, warmed-up export. ``classify(image)`` returns predictions: for a classifier one
    per label in label order; for a detector the objects found, most probable first.

    Safe to call from several threads (each runtime is wrapped so that it is).
    """

    def __init__(self, backend: Backend, spec: InputSpec, recipe: Recipe, labels: tuple[str, ...],
                 head: _Head, info: ModelInfo) -> None:
        self.backend = backend
        self.spec = spec
        self.recipe = recipe
        self.labels = labels
        self._head = head
        self.info = info

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """RGB Pillow image (from :func:`classifier.preprocess.decode`) -> the network's input tensor."""
        return to_tensor(image, self.spec, self.recipe)

    def raw(self, tensor: np.ndarray) -> list[Any]:
        """The network's raw outputs for a prepared tensor (what ``run`` decodes)."""
        return self.backend.run(self._head.outputs, tensor)

    def run(self, tensor: np.ndarray) -> list[Prediction]:
        """Run the network on a prepared tensor and decode its outputs into predictions."""
        return self.decode(self.raw(tensor))

    def decode(self, raw: list[Any]) -> list[Prediction]:
        head = self._head
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
        return [Prediction(self.labels[d.label], d.probability, d.box) for d in found]

    def classify(self, image: Image.Image) -> list[Prediction]:
        """RGB Pillow image -> predictions (see the class docstring)."""
        return self.run(self.preprocess(image))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc}): restore it from the original export") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object: restore it from the original export")
    return data


def _export_root(directory: Path) -> Path:
    """The folder holding the export: ``directory`` itself, or else the shallowest folder in it
    with a model file (an export zip may wrap its files in a folder)."""
    if (directory / MANIFEST_FILE).is_file() or any((directory / f"model{s}").is_file() for s in BACKENDS):
        return directory
    inner = sorted({p.parent for suffix in BACKENDS for p in directory.rglob(f"*{suffix}")}, key=lambda p: len(p.parts))
    return inner[0] if inner else directory


def _in_export(directory: Path, name: str) -> Path:
    """``directory / name``, refused (ModelLoadError) when it leaves the export folder: an absolute
    path, ``..``, or a symbolic link pointing out (a manifest must not serve a model from elsewhere)."""
    path = directory / name
    try:
        inside = path.resolve().is_relative_to(directory.resolve())
    except (OSError, ValueError):  # a loop of links, a NUL in the name
        inside = False
    if not inside:
        raise ModelLoadError(f"{name[:80]!r} in {directory} points outside the export folder: "
                             "an export names only its own files; use the files exactly as exported")
    return path


def _check_entries(entries: list[zipfile.ZipInfo], into: Path, limits: UnpackLimits) -> None:
    """Refuse a zip from its directory, before anything is written (see :func:`unpack_zip`)."""
    if len(entries) > limits.files:
        raise ModelLoadError(f"the export zip holds {len(entries)} files, more than {limits.files}: "
                             "it is not a Custom Vision export")
    root, declared = into.resolve(), 0
    for entry in entries:
        name = entry.filename[:80]
        if stat.S_ISLNK(entry.external_attr >> 16) or not (root / entry.filename).resolve().is_relative_to(root):
            raise ModelLoadError(f"the export zip holds {name!r}, a path or link leading outside its folder: "
                                 "zip the export's own files")
        if entry.flag_bits & 0x1:
            raise ModelLoadError(f"the export zip's {name!r} is encrypted: zip the export without a password")
        declared += entry.file_size
        _check_size(entry.file_size, declared, limits)


def _check_size(file_bytes: int, total_bytes: int, limits: UnpackLimits) -> None:
    if file_bytes > limits.file_bytes:
        raise ModelLoadError(f"the export zip holds a file of more than {limits.file_bytes // MIB} MiB unpacked: "
                             "it is not a Custom Vision export (a zip bomb?)")
    if total_bytes > limits.total_bytes:
        raise ModelLoadError(f"the export zip unpacks to more than {limits.total_bytes // MIB} MiB: "
                             "it is not a Custom Vision export (a zip bomb?)")


def unpack_zip(path: Path, into: Path, limits: UnpackLimits = DEFAULT_LIMITS) -> None:
    """Unpack the export zip at ``path`` into the existing folder ``into``, within ``limits``.

    Entries whose names leave ``into`` (absolute, ``..``: a zip slip), symbolic links and encrypted
    entries are refused; the entry count and declared sizes are checked before anything is
    written, and the bytes actually written are counted while unpacking (a zip's sizes may lie).
    Raises ModelLoadError; what was written by then stays in ``into``, for the caller to remove.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(entries, into, limits)
            total = 0
            for entry in entries:
                target = into / entry.filename
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with archive.open(entry) as source, target.open("wb") as out:
                    while chunk := source.read(CHUNK_BYTES):
                        size, total = size + len(chunk), total + len(chunk)
                        _check_size(size, total, limits)
                        out.write(chunk)
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise ModelLoadError(f"the export zip cannot be unpacked ({exc.__class__.__name__}: {str(exc)[:120]}): "
                             "download the export from Custom Vision again") from exc


def _unpack(path: Path, into: Path, limits: UnpackLimits) -> Path:
    """The export folder at ``path``, or inside the zip at ``path`` once unpacked into ``into``."""
    if path.is_dir():
        return _export_root(path)
    if path.is_file() and zipfile.is_zipfile(path):
        unpack_zip(path, into, limits)
        return _export_root(into)
    if path.is_file():
        raise ModelLoadError(f"{path} is not a zip: point MODEL_DIR at the export folder or the export's zip")
    raise ModelLoadError(f"model location {path} does not exist: set MODEL_DIR to the folder (or zip) of your export")


def _manifest_name(manifest: dict[str, Any], key: str, default: str) -> str:
    """The file name ``cvexport.manifest`` gives under ``key`` (``default`` when absent or empty)."""
    value = manifest.get(key) or default
    if not isinstance(value, str) or len(value) > 255 or "\0" in value:
        raise ModelLoadError(f"{MANIFEST_FILE}'s {key} is not a file name: restore the manifest from the original export")
    return value


def file_sha1(path: Path) -> str:
    """The SHA-1 of a file as 40 hex digits (``cvexport.manifest``'s ``ModelFileSHA1``), read in chunks."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha1").hexdigest()


def _vouched(directory: Path, name: str, expected: Any, what: str) -> Path:
    """``directory / name`` after checking it is the file the manifest describes: present, and with the SHA-1 the
    manifest gives (when it gives one). Raises ModelLoadError in one line: which file, expected and actual hash."""
    path = _in_export(directory, name)
    if not path.is_file():
        raise ModelLoadError(f"{MANIFEST_FILE} in {directory} names {what} {name}, which is not there: the folder holds "
                             "files of another export; unzip your export into an empty folder")
    if expected:
        actual = file_sha1(path)
        if actual != str(expected).strip().lower():
            raise ModelLoadError(f"{path} is not the model {MANIFEST_FILE} describes: {what} SHA-1 {str(expected)[:40]} "
                                 f"expected, the file's is {actual}; the folder mixes two exports: unzip your export "
                                 "into an empty folder")
    return path


def _open_backend(directory: Path, manifest: dict[str, Any], threads: int) -> tuple[Path, Backend]:
    """The first model file of the export whose runtime is installed, opened.

    With a ``cvexport.manifest`` naming its model (``ModelFileName``), only that file is the export's model, checked
    against ``ModelFileSHA1``; a model of another flavour beside it is used (on a platform without the named one's
    runtime) only when the manifest lists it with its SHA-1 under ``AlternateModelFiles`` (``make convert-model`` and
    the demo write it): a leftover of another export is never served. Without a manifest: the first of
    ``model.onnx``, ``model.tflite``, ``model.pb`` whose runtime is installed."""
    if manifest.get("ModelFileName"):
        named = _manifest_name(manifest, "ModelFileName", "")
        if Path(named).suffix not in BACKENDS:
            raise ModelLoadError(f"{MANIFEST_FILE}'s ModelFileName {named[:80]!r} is not a model.onnx, model.tflite or "
                                 "model.pb: restore the manifest from the original export")
        alternates = manifest.get("AlternateModelFiles") or {}
        if not isinstance(alternates, dict):
            raise ModelLoadError(f"{MANIFEST_FILE}'s AlternateModelFiles is not an object of file name: SHA-1")
        pending = [(named, manifest.get("ModelFileSHA1"), "ModelFileName")]
        pending += [(_manifest_name({"name": name}, "name", ""), sha1, "AlternateModelFiles")
                    for name, sha1 in alternates.items() if Path(str(name)).suffix in BACKENDS and name != named]
        candidates = [(name, sha1, what) for name, sha1, what in pending  # an alternate not shipped: not a candidate
                      if what == "ModelFileName" or (directory / name).is_file()]
    else:
        candidates = [(f"model{s}", None, "") for s in BACKENDS if (directory / f"model{s}").is_file()]
        if not candidates:
            raise ModelLoadError(f"no model.onnx, model.tflite or model.pb in {directory}: "
                                 "put your Custom Vision export (the model file and labels.txt) there")
    missing: list[RuntimeMissing] = []
    for name, sha1, what in candidates:
        path = _vouched(directory, name, sha1, what) if what else _in_export(directory, name)
        try:
            return path, BACKENDS[path.suffix](path, threads)
        except RuntimeMissing as exc:
            missing.append(exc)
        except Exception as exc:  # noqa: BLE001 - each runtime raises its own unrelated types
            raise _load_failure(path, exc) from exc
    raise ModelLoadError(str(missing[0]))


def _load_failure(path: Path, exc: Exception) -> ModelLoadError:
    text = (str(exc).replace(str(path), path.name).strip().splitlines() or [exc.__class__.__name__])[0][:200]
    legacy_op = re.search(r"implementation for \w+\(([1-6])\)", str(exc))  # an operator of opset 1-6
    if path.suffix == ".onnx" and ("INVALID_GRAPH" in str(exc) or "opset" in str(exc).lower() or legacy_op):
        return ModelLoadError(f"{path} is a legacy ONNX export that current ONNX Runtime cannot run: "
                              "re-export the model from Custom Vision as ONNX or TensorFlow Lite")
    kind = {".onnx": "ONNX model", ".tflite": "TensorFlow Lite model", ".pb": "TensorFlow frozen graph"}[path.suffix]
    return ModelLoadError(f"{path} is not a loadable {kind} ({text}): export it again from Custom Vision")


def _metadata(backend: Backend, directory: Path, props_file: str) -> dict[str, str]:
    meta = dict(backend.metadata)
    if (directory / props_file).is_file():
        meta.update({k: str(v) for k, v in _read_json(_in_export(directory, props_file)).items()})
    return meta


def _labels(directory: Path, labels_file: str, backend: Backend) -> tuple[str, ...]:
    path = directory / labels_file
    if path.is_file():
        try:
            text = _in_export(directory, labels_file).read_text(encoding="utf-8-sig")
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
    if any(o.is_zipmap for o in backend.outputs):
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


def _head(backend: Backend, labels: tuple[str, ...]) -> _Head:
    outputs = backend.outputs
    by_bare = {_bare(o.name): o.name for o in outputs}
    if all(n in by_bare for n in S1_OUTPUTS):
        return _Head("s1", [by_bare[n] for n in S1_OUTPUTS])
    for o in outputs:
        if o.is_zipmap:
            return _Head("zipmap", [o.name])
    floats = [o for o in outputs if o.dtype is not None and o.dtype.kind == "f"]
    if labels and len(outputs) == 1 and floats and len(floats[0].shape) == 4:
        shape = floats[0].shape
        if shape[1] == grid_channels(len(labels)):
            return _Head("grid", [floats[0].name], "NCHW")
        if shape[3] == grid_channels(len(labels)):
            return _Head("grid", [floats[0].name], "NHWC")
    for preferred in ("loss", "model_output"):
        for o in floats:
            if _bare(o.name) == preferred:
                return _Head("scores", [o.name])
    if floats:
        return _Head("scores", [floats[0].name])
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


def _recipe(meta: dict[str, str], backend: Backend, head: _Head) -> Recipe:
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


def printable_flavour(text: str) -> str:
    """A flavour as it is reported and sent (``model.flavour``, ``X-Model-Flavour``): printable ASCII, at most 64
    characters (an export's manifest is outside input: no control characters reach a log, a header or the twin)."""
    return re.sub(r"[^\x20-\x7e]", "?", text).strip()[:64] or "unknown"


def _flavour(backend: Backend, manifest: dict[str, Any], head: _Head, spec: InputSpec) -> str:
    if manifest.get("Flavor"):
        return printable_flavour(str(manifest["Flavor"]))
    if head.kind == "zipmap":
        return "ONNX12"
    if backend.runtime == "TensorFlow Lite":
        return "TensorFlowLite"
    if backend.runtime == "TensorFlow":
        return "TensorFlowNormal"
    return "ONNXFloat16" if spec.dtype == np.float16 else f"ONNX ({backend.producer})"


def load(location: str | Path, threads: int = 0, limits: UnpackLimits = DEFAULT_LIMITS) -> CustomVisionModel:
    """Load and warm up the export at ``location`` (a folder or a zip).

    threads: inference threads per call, 0 for the runtime's default (one per core); limits:
    caps on unpacking a zip (see :func:`unpack_zip`).
    Raises ModelLoadError, with one sentence saying what is wrong and what to do.
    """
    # A zip is unpacked for the runtime to read, then removed, loaded or not: every runtime holds
    # the model in memory once loaded, and a restarting container would otherwise keep a copy per start.
    with tempfile.TemporaryDirectory(prefix="cvexport-") as unpacked:
        return _load(location, _unpack(Path(location), Path(unpacked), limits), threads)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file as 64 hex digits, read in chunks (a model is not held twice in memory)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _load(location: str | Path, directory: Path, threads: int) -> CustomVisionModel:
    manifest = _read_json(_in_export(directory, MANIFEST_FILE)) if (directory / MANIFEST_FILE).is_file() else {}
    model_path, backend = _open_backend(directory, manifest, threads)
    from classifier import automl  # imported here: it builds on this module

    if not manifest and (directory / "model.json").is_file():  # a model of your own (it may name labels.json)
        # imported only for such a folder: it validates model.json with pydantic, which a bare runtime venv may lack
        from classifier import described

        return described.load_described(location, directory, model_path, backend)
    if automl.recognised(directory, manifest):  # Azure ML AutoML: model.onnx + labels.json (section 6)
        return automl.load_automl(location, directory, model_path, backend)
    # with a manifest, only the metadata file it names: a metadata_properties.json left by another export is not read
    props_file = _manifest_name(manifest, "MetadataPropsFileName", "") if manifest else "metadata_properties.json"
    meta = _metadata(backend, directory, props_file)
    labels_file = _manifest_name(manifest, "LabelFileName", "labels.txt")
    labels = _labels(directory, labels_file, backend)
    head = _head(backend, labels)
    spec = _input_spec(backend.inputs, meta)
    recipe = _recipe(meta, backend, head)
    warm = np.zeros((1, 3, spec.height, spec.width) if spec.layout == "NCHW" else (1, spec.height, spec.width, 3), spec.dtype)
    try:
        raw = backend.run(head.outputs, warm)
    except Exception as exc:  # noqa: BLE001 - a runtime failing on a well-formed input is a broken export
        raise _load_failure(model_path, exc) from exc
    if head.kind == "zipmap":
        embedded = _embedded_labels(backend, raw[0][0])
        if labels and sorted(labels) != sorted(embedded):  # every answer would fail on a tag the model lacks
            raise ModelLoadError(f"{labels_file} lists {_listed(labels)} but the model's own labels are {_listed(embedded)}: "
                                 f"use the {labels_file} exported with this model, or remove it to use the model's own")
        labels = labels or embedded
    elif head.kind == "scores" and np.asarray(raw[0]).reshape(-1).size != len(labels):
        raise ModelLoadError(
            f"labels.txt lists {len(labels)} tags but the model scores {np.asarray(raw[0]).reshape(-1).size}: "
            "use the labels.txt that came with this model"
        )
    info = ModelInfo(
        source=str(location),
        sha256=file_sha256(model_path),
        flavour=_flavour(backend, manifest, head, spec),
        runtime=backend.runtime,
        task="detection" if head.kind in ("grid", "s1") else "classification",
        labels=labels,
        input_size=(spec.width, spec.height),
        layout=spec.layout,
        colour=recipe.colour,
        value_range="0-1" if recipe.scale != 1.0 else "0-255",
    )
    logger.info("loaded %s %s model %s (%s): %s, %dx%d %s %s %s", info.flavour, info.task, model_path, info.runtime,
                ", ".join(labels), spec.width, spec.height, spec.layout, recipe.colour, info.value_range)
    return CustomVisionModel(backend, spec, recipe, labels, head, info)
