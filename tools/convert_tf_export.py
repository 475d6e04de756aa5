"""Convert a Custom Vision TensorFlow export (``model.pb``) once into ``model.onnx`` and ``model.tflite``.

The shipped ImageClassifierService images have no TensorFlow (too large for a device), so a
frozen graph cannot run there; its conversions can: ``model.onnx`` on amd64 and arm64v8 (ONNX
Runtime), ``model.tflite`` on arm32v7 (TensorFlow Lite). This tool runs on a PC, in its own
environment with TensorFlow and the converters (``.venv-convert``, from tools/requirements-convert.txt):

    make convert-model EXPORT=~/Downloads/MyProject.TensorFlow.zip OUT=my-model
    .venv-convert/bin/python tools/convert_tf_export.py ~/Downloads/MyProject.TensorFlow.zip --out my-model

EXPORT is the export's zip or folder (a TensorFlow export: ``model.pb``, ``labels.txt``, perhaps
``cvexport.manifest``; a Dockerfile export, whose ``app/`` holds them, works too). OUT (default
``EXPORT-converted`` next to it) receives a complete export the service loads as it is:

- ``model.onnx``: tf2onnx's conversion of the graph; same input (``Placeholder:0``, NHWC
  [N,H,W,3] float32) and output (``loss:0``, [N, labels]), and metadata stating the colour order
  and range TensorFlow exports take (BGR 0-255; RGB for S1 models, whose output is ``model_output``),
  since an ONNX model without it is read as BGR;
- ``model.tflite``: TensorFlow's TFLite converter applied to the same frozen graph (batch 1);
- ``labels.txt`` and ``metadata_properties.json`` copied unchanged (the files the manifest names);
- ``cvexport.manifest``, when the export has one: the same, but naming ``model.onnx`` (with its
  SHA1), ``model.tflite`` with its SHA1 under ``AlternateModelFiles`` (the service loads it only so vouched
  for), and keeping what it said of the original under ``ConvertedFrom``.

Before writing anything the tool runs the graph, the ONNX model (ONNX Runtime) and the TFLite
model (``ai-edge-litert``, as the service does) on random 0-255 images and refuses (exit
status 1, one line saying why) if any output differs from TensorFlow's by more than ``--tolerance`` (default 1e-4).
Custom Vision's compact classifiers convert (the test converts the fixtures); any other graph
gets the same check, and one with operators tf2onnx or TFLite lack is refused with the reason.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import converter_cli  # tools/, this script's folder
from converter_cli import converter_main, package_version, read_json_object

logger = logging.getLogger("convert_tf_export")

GRAPH_FILE = "model.pb"
MANIFEST_FILE = "cvexport.manifest"
DEFAULT_OPSET = 15  # tf2onnx's default, within the opsets 14-18 it tests
S1_OUTPUTS = {"model_output", "detected_boxes", "detected_classes", "detected_scores"}
SKIPPED_OPS = {"Const", "NoOp", "Placeholder"}


class ConversionError(RuntimeError):
    """The export cannot be converted; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Signature:
    """The graph's interface: ``inputs`` its Placeholder tensors, ``outputs`` the tensors of the
    ops nothing consumes (Custom Vision: ``Placeholder:0`` -> ``loss:0``), both as ``name:0``."""

    inputs: list[str]
    outputs: list[str]

    @property
    def s1(self) -> bool:
        """An S1-domain model (output ``model_output`` or ``detected_*``): RGB input, not BGR."""
        return any(name.split(":")[0] in S1_OUTPUTS for name in self.outputs)


def find_export(location: Path, scratch: Path) -> Path:
    """The folder holding ``model.pb`` in the export folder or zip at ``location`` (a zip is
    unpacked into ``scratch``); the shallowest one, so a Dockerfile export's ``app/`` is found.
    Raises ConversionError when there is none."""
    return converter_cli.find_export(ConversionError, location, scratch, GRAPH_FILE, "TensorFlow",
                                     "export the model from Custom Vision as TensorFlow (or Dockerfile), "
                                     "or use its ONNX or TensorFlow Lite export directly")


def signature(graph_def: Any) -> Signature:
    """Inputs and outputs of a frozen ``GraphDef``, found as the service finds them (see
    classifier/backends.py ``TensorflowBackend``). Raises ConversionError when there is no input."""
    consumed = {name.split(":")[0].lstrip("^") for node in graph_def.node for name in node.input}
    inputs = [f"{n.name}:0" for n in graph_def.node if n.op == "Placeholder"]
    outputs = [f"{n.name}:0" for n in graph_def.node if n.name not in consumed and n.op not in SKIPPED_OPS]
    if not inputs or not outputs:
        raise ConversionError(f"the graph has {len(inputs)} Placeholder inputs and {len(outputs)} outputs: "
                              "is this a Custom Vision TensorFlow export?")
    return Signature(inputs, outputs)


def to_onnx(graph_def: Any, sig: Signature, opset: int, provenance: str) -> bytes:
    """The graph as an ONNX model (serialised), with the colour order and range a TensorFlow
    export takes written into its metadata. Raises ConversionError with tf2onnx's reason."""
    import tf2onnx

    try:
        model, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=sig.inputs, output_names=sig.outputs, opset=opset)
    except Exception as exc:  # noqa: BLE001 - tf2onnx raises many unrelated types
        raise ConversionError(f"tf2onnx cannot convert the graph ({exc.__class__.__name__}: {str(exc)[:200]})") from exc
    metadata = {"Image.BitmapPixelFormat": "Rgb8" if sig.s1 else "Bgr8",
                "Image.NominalPixelRange": "NominalRange_0_255", "ConvertedFrom": provenance}
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model.SerializeToString()


def to_tflite(graph_file: Path, sig: Signature) -> bytes:
    """The frozen graph at ``graph_file`` as a TensorFlow Lite model (batch 1), converted by
    TensorFlow's own converter. Raises ConversionError with the converter's reason."""
    import tensorflow as tf

    names = [[name.split(":")[0] for name in names] for names in (sig.inputs, sig.outputs)]
    try:
        return bytes(tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(str(graph_file), *names).convert())
    except Exception as exc:  # noqa: BLE001 - the converter raises many unrelated types
        raise ConversionError(f"TensorFlow Lite cannot convert the graph ({exc.__class__.__name__}: {str(exc)[:200]})") from exc


def _graph_outputs(graph_def: Any, sig: Signature, batch: np.ndarray) -> list[np.ndarray]:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return [np.asarray(o) for o in session.run(sig.outputs, {sig.inputs[0]: batch})]


def _onnx_outputs(model: bytes, batch: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in session.run(None, {session.get_inputs()[0].name: batch})]


def _tflite_outputs(model: bytes, image: np.ndarray, sig: Signature) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter  # the runtime the service uses

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    by_name = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    return [np.asarray(interpreter.get_tensor(by_name[name.split(":")[0]])) for name in sig.outputs]


def check(graph_def: Any, sig: Signature, onnx_model: bytes, tflite_model: bytes, images: int = 4,
          tolerance: float = 1e-4, seed: int = 0) -> dict[str, float]:
    """Largest absolute output difference of each conversion from TensorFlow, over ``images``
    random 0-255 float32 images of the graph's input size: ``{"onnx": d, "tflite": d}``.
    Raises ConversionError when one is over ``tolerance`` or the input size is not fixed."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
        shape = graph.get_tensor_by_name(sig.inputs[0]).shape.as_list()
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ConversionError(f"input {sig.inputs[0]} has shape {shape}, not [N,H,W,C]: is this a Custom Vision image export?")
    rng = np.random.default_rng(seed)
    worst = {"onnx": 0.0, "tflite": 0.0}
    for _ in range(images):
        image = rng.uniform(0.0, 255.0, (1, *shape[1:])).astype(np.float32)
        reference = _graph_outputs(graph_def, sig, image)
        for kind, got in (("onnx", _onnx_outputs(onnx_model, image)), ("tflite", _tflite_outputs(tflite_model, image, sig))):
            for want, have in zip(reference, got, strict=True):
                worst[kind] = max(worst[kind], float(np.max(np.abs(want.astype(np.float64) - have.reshape(want.shape)))))
    for kind, difference in worst.items():
        if difference > tolerance:
            raise ConversionError(f"the {kind} model answers up to {difference:.2g} away from TensorFlow (more than "
                                  f"{tolerance:g}): do not deploy it; report the export to the project")
    return worst


def _side_file(source: Path, name: object) -> Path:
    """``source / name`` for a file name the manifest gives, refused when it leaves ``source``."""
    path = source / str(name)
    if not path.resolve().is_relative_to(source.resolve()):
        raise ConversionError(f"{MANIFEST_FILE} names {str(name)[:80]!r}, outside the export: restore the original manifest")
    return path


def write_export(source: Path, out: Path, onnx_model: bytes, tflite_model: bytes) -> list[Path]:
    """Write the converted export into ``out`` (created; files of the same names replaced): the
    two models, the labels and metadata files copied from ``source``, and the manifest rewritten
    to name ``model.onnx`` (see the module docstring). Returns the files written.
    Raises ConversionError when ``source`` has no labels file."""
    manifest = read_json_object(ConversionError, source / MANIFEST_FILE)
    labels = _side_file(source, manifest.get("LabelFileName") or "labels.txt")
    if not labels.is_file():
        raise ConversionError(f"{labels} is missing: the service needs the labels.txt exported with the model")
    metadata = _side_file(source, manifest.get("MetadataPropsFileName") or "metadata_properties.json")
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "model.onnx", out / "model.tflite"]
    written[0].write_bytes(onnx_model)
    written[1].write_bytes(tflite_model)
    for side in (labels, metadata):
        if side.is_file():
            target = out / side.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.resolve() != side.resolve():
                shutil.copyfile(side, target)
            written.append(target)
    if manifest:
        kept = {key: manifest.get(key) for key in ("Platform", "Flavor", "ModelFileName", "ModelFileSHA1")}
        manifest.update(Platform="ONNX", Flavor=None, ModelFileName="model.onnx",
                        ModelFileSHA1=hashlib.sha1(onnx_model).hexdigest(), ConvertedFrom=kept,
                        AlternateModelFiles={"model.tflite": hashlib.sha1(tflite_model).hexdigest()})
        written.append(out / MANIFEST_FILE)
        written[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return written


def convert(location: Path, out: Path, opset: int = DEFAULT_OPSET, tolerance: float = 1e-4) -> dict[str, float]:
    """Convert the TensorFlow export at ``location`` (zip or folder) into the export folder ``out``.

    Returns the largest output difference of each conversion from TensorFlow on random images
    (see :func:`check`). Raises ConversionError, with one sentence saying what is wrong.
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="tf-export-") as scratch:
        source = find_export(location, Path(scratch))
        graph_file = source / GRAPH_FILE
        content = graph_file.read_bytes()
        graph_def = tf.compat.v1.GraphDef()
        try:
            graph_def.ParseFromString(content)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, or a RuntimeWarning turned error
            raise ConversionError(f"{graph_file} is not a TensorFlow frozen graph: export it again from Custom Vision") from exc
        sig = signature(graph_def)
        logger.info("%s: input %s, output %s", graph_file, ", ".join(sig.inputs), ", ".join(sig.outputs))
        provenance = (f"{GRAPH_FILE} sha256 {hashlib.sha256(content).hexdigest()}, tf2onnx {package_version('tf2onnx')}, "
                      f"opset {opset}")
        onnx_model = to_onnx(graph_def, sig, opset, provenance)
        tflite_model = to_tflite(graph_file, sig)
        worst = check(graph_def, sig, onnx_model, tflite_model, tolerance=tolerance)
        written = write_export(source, out, onnx_model, tflite_model)
    logger.info("largest difference from TensorFlow on random images: ONNX %.2g, TFLite %.2g", worst["onnx"], worst["tflite"])
    logger.info("wrote %s", ", ".join(str(p) for p in written))
    return worst


def main(argv: list[str] | None = None) -> int:
    def opset_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")

    return converter_main(
        argv, description="Convert a Custom Vision TensorFlow export (model.pb) once into model.onnx and model.tflite, "
                          "for the ImageClassifierService images, which have no TensorFlow.",
        epilog="example: make convert-model EXPORT=~/Downloads/Fruit.TensorFlow.zip OUT=fruit-model, then replace the "
               "files in modules/ImageClassifierService/model/ with those in fruit-model (or point MODEL_DIR at it)",
        export_help="the TensorFlow (or Dockerfile) export: its zip or unzipped folder", reference="TensorFlow",
        noisy=("tf2onnx", "tensorflow"),  # per-pass progress lines, TF1 API deprecation notices
        convert=lambda location, out, args: convert(location, out, args.opset, args.tolerance),
        errors=(ConversionError,), logger=logger, add_options=opset_option)


if __name__ == "__main__":
    sys.exit(main())
