"""Convert an ONNX export once into ``model.tflite``, for arm32v7 (ONNX Runtime has no 32-bit ARM build).

Runs on a PC in its own environment (``.venv-onnx2tf``, from tools/requirements-onnx2tf.txt; onnx2tf and
TensorFlow); ``make convert-model`` picks it for an export holding ``model.onnx`` and no ``model.pb``:

    make convert-model EXPORT=~/Downloads/automl-model OUT=my-model
    .venv-onnx2tf/bin/python tools/convert_onnx_export.py ~/Downloads/MyProject.ONNX.zip --out my-model

EXPORT is a folder or zip holding ``model.onnx`` and its side files: a Custom Vision ONNX export (``labels.txt``,
perhaps ``cvexport.manifest`` and ``metadata_properties.json``), an Azure ML AutoML classification model
(``labels.json``, perhaps ``settings.json``) or a model of your own described by ``model.json``. OUT (default
``EXPORT-converted``) receives the same export with ``model.tflite`` added, which the service loads where ONNX
Runtime is missing:

- ``model.onnx`` and every side file copied unchanged;
- ``model.tflite``: onnx2tf's conversion, batch 1, taking the same input tensor as the ONNX model (NCHW kept
  NCHW; an NHWC input, as tf2onnx makes them, is given a leading NCHW->NHWC transpose so that onnx2tf keeps the
  image in NCHW, and the service reads the layout from the model);
- ``metadata_properties.json``: the ONNX model's metadata (colour order, range, resize; TensorFlow Lite models
  have none) merged under the export's own file, so the TFLite model is prepared exactly as the ONNX one;
- ``cvexport.manifest``, when there is one: ``model.tflite`` and its SHA-1 under ``AlternateModelFiles``
  (the service serves an alternate only so vouched for) and ``MetadataPropsFileName`` set.

Before writing anything the tool runs both models (ONNX Runtime, and ai-edge-litert as the service does) on
random images in the input's value range and refuses (exit status 1, one line) when an output differs by more
than ``--tolerance`` (default 1e-4). Classifiers ending in a ZipMap (ONNX12 and current Custom Vision ONNX
exports; an ``ai.onnx.ml`` operator TensorFlow Lite lacks) are cut to the probabilities the ZipMap reads, their
labels written to ``labels.txt`` when the export has none, and an ImageScaler (ONNX12's first operator) becomes
the same Mul and Add. Not converted, with the reason: legacy ONNX 1.0 exports,
other ``ai.onnx.ml`` operators, float16 models, and models with several outputs or outputs of
data-dependent size (``NonMaxSuppression``: AutoML's Faster R-CNN, RetinaNet and Mask R-CNN, Custom Vision's S1
detectors), whose TensorFlow Lite outputs lose the names the service reads them by. AutoML's YOLO (one output,
told by its shape) converts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import converter_cli  # tools/, this script's folder
from converter_cli import converter_main, package_version, read_json_object

logger = logging.getLogger("convert_onnx_export")

MODEL_FILE = "model.onnx"
TFLITE_FILE = "model.tflite"
MANIFEST_FILE = "cvexport.manifest"
METADATA_FILE = "metadata_properties.json"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
NCHW_INPUT = "image_nchw"  # the input given to an NHWC model before conversion


class ConversionError(RuntimeError):
    """The export cannot be converted; the message says what is wrong and what to do."""


def find_export(location: Path, scratch: Path) -> Path:
    """The shallowest folder holding ``model.onnx`` in the export folder or zip ``location`` (a zip is unpacked
    into ``scratch``). Raises ConversionError when there is none."""
    return converter_cli.find_export(ConversionError, location, scratch, MODEL_FILE, "ONNX",
                                     "give the export's model.onnx with its labels file")


def without_zipmap(model: Any) -> tuple[Any, tuple[str, ...]]:
    """``model`` cut to the probabilities a ZipMap reads (Custom Vision's ONNX12 and current compact classifiers:
    ``loss`` = ZipMap(probabilities), ``classLabel`` from ai.onnx.ml operators TensorFlow Lite lacks): the one output
    is the ZipMap's input, [N, labels] float, and only the nodes it needs are kept. Returns the model and the
    ZipMap's labels in its order (empty, and the model unchanged, when it has no ZipMap)."""
    from onnx import helper

    graph = model.graph
    zipmaps = [node for node in graph.node if node.op_type == "ZipMap"]
    if not zipmaps:
        return model, ()
    zipmap = zipmaps[0]
    labels = next((tuple(v.decode("utf-8") for v in a.strings) for a in zipmap.attribute if a.name == "classlabels_strings"), ())
    producers = {output: node for node in graph.node for output in node.output}
    needed, pending = set(), [zipmap.input[0]]
    while pending:
        node = producers.get(pending.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            pending.extend(node.input)
    kept = [node for node in graph.node if id(node) in needed]
    used = {name for node in kept for name in node.input}
    initializers = [tensor for tensor in graph.initializer if tensor.name in used]
    graph.ClearField("node")
    graph.node.extend(kept)
    graph.ClearField("initializer")
    graph.initializer.extend(initializers)
    graph.ClearField("value_info")
    graph.ClearField("output")
    graph.output.append(helper.make_tensor_value_info(zipmap.input[0], 1, [1, len(labels) or None]))
    return model, labels


def without_image_scaler(model: Any) -> Any:
    """``model`` with each ImageScaler (``scale * x + bias[c]``, an experimental operator of opsets 1-9 that ONNX12
    exports begin with and onnx2tf lacks) replaced by the same Mul and Add."""
    from onnx import numpy_helper

    graph = model.graph
    nodes = []
    for node in graph.node:
        if node.op_type != "ImageScaler":
            nodes.append(node)
            continue
        attributes = {a.name: a for a in node.attribute}
        scale = attributes["scale"].f if "scale" in attributes else 1.0
        bias = list(attributes["bias"].floats) if "bias" in attributes else [0.0, 0.0, 0.0]
        name = node.output[0]
        graph.initializer.extend([numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
                                  numpy_helper.from_array(np.array(bias, np.float32).reshape(1, -1, 1, 1), f"{name}_bias")])
        from onnx import helper

        nodes += [helper.make_node("Mul", [node.input[0], f"{name}_scale"], [f"{name}_scaled"]),
                  helper.make_node("Add", [f"{name}_scaled", f"{name}_bias"], [name])]
    graph.ClearField("node")
    graph.node.extend(nodes)
    return model


def refusal(model: Any) -> str | None:
    """Why onnx2tf's TensorFlow Lite model could not be served in place of ``model`` (an onnx ModelProto, its
    ZipMap already cut off), or None."""
    ops = {node.op_type for node in model.graph.node}
    if any(node.domain == "ai.onnx.ml" for node in model.graph.node):
        return ("it uses ai.onnx.ml operators beyond a final ZipMap, which TensorFlow Lite lacks: export the model "
                "from Custom Vision as TensorFlow Lite")
    if any(op.version < 7 for op in model.opset_import if op.domain in ("", "ai.onnx")):
        return "it is a legacy ONNX 1.0 export: export the model from Custom Vision again, as TensorFlow Lite"
    first = model.graph.input[0].type.tensor_type
    if first.elem_type != 1:  # TensorProto.FLOAT
        return "its input is not float32 (a float16 export?): export the float32 flavour of the model"
    shape = [d.dim_value or None for d in first.shape.dim]
    if len(shape) != 4 or 3 not in (shape[1], shape[3]) or None in (shape[1:]):
        return f"its input {shape} is not a fixed-size image batch [N,3,H,W] or [N,H,W,3]"
    if len(model.graph.output) != 1 or {"NonMaxSuppression", "TopK"} & ops:
        return ("it is an object detector (several outputs, or boxes of data-dependent number), whose TensorFlow Lite "
                "outputs lose the names the service reads them by: serve it with ONNX Runtime (amd64, arm64v8)")
    return None


def nchw_input(model: Any) -> tuple[Any, bool]:
    """``model`` with batch 1 and an NCHW input: an NHWC input ``[N,H,W,3]`` is fed from a new NCHW input through
    a Transpose (onnx2tf keeps an NCHW image input as it is, and would guess at an NHWC one). Returns the model and
    whether its input was NHWC."""
    from onnx import TensorProto, helper

    graph = model.graph
    first = graph.input[0]
    dims = first.type.tensor_type.shape.dim
    dims[0].dim_value = 1
    if dims[1].dim_value == 3:
        return model, False
    _, height, width, _ = (d.dim_value for d in dims)
    image = helper.make_tensor_value_info(NCHW_INPUT, TensorProto.FLOAT, [1, 3, height, width])
    graph.node.insert(0, helper.make_node("Transpose", [NCHW_INPUT], [first.name], perm=[0, 2, 3, 1], name="nchw_to_nhwc"))
    graph.input.remove(first)
    graph.input.insert(0, image)
    return model, True


def to_tflite(model: Any, scratch: Path) -> bytes:
    """onnx2tf's float32 TensorFlow Lite model of ``model`` (batch 1, NCHW input kept). Raises ConversionError."""
    import onnx
    import onnx2tf

    source, out = scratch / "prepared.onnx", scratch / "onnx2tf"
    onnx.save(model, str(source))
    try:
        onnx2tf.convert(input_onnx_file_path=str(source), output_folder_path=str(out), batch_size=1,
                        keep_ncw_or_nchw_or_ncdhw_input_names=[model.graph.input[0].name], non_verbose=True)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - onnx2tf raises many unrelated types, and exits
        raise ConversionError(f"onnx2tf cannot convert it ({exc.__class__.__name__}: {str(exc)[:200]})") from exc
    produced = sorted(out.glob("*_float32.tflite"))
    if not produced:
        raise ConversionError("onnx2tf wrote no float32 TensorFlow Lite model: report the model to the project")
    return produced[0].read_bytes()


def input_transform(source: Path, metadata: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(scale, offset)`` taking random 0-255 pixels into the value range the export's model is fed:
    AutoML (``labels.json``): 0-1 then ImageNet mean/std; ``model.json``: its range, mean and std; Custom
    Vision: 0-1 when its metadata says ``Normalized_0_1``, else 0-255."""
    if (source / "model.json").is_file():
        described = json.loads((source / "model.json").read_text(encoding="utf-8"))
        low, high = (float(v) for v in described.get("range", [0.0, 1.0]))
        mean = np.asarray(described.get("mean", [0.0] * 3), np.float32)
        std = np.asarray(described.get("std", [1.0] * 3), np.float32)
        return (high - low) / 255.0 / std, (low - mean) / std
    if (source / "labels.json").is_file():
        return 1.0 / 255.0 / IMAGENET_STD, -IMAGENET_MEAN / IMAGENET_STD
    scale = 1.0 / 255.0 if metadata.get("Image.NominalPixelRange") == "Normalized_0_1" else 1.0
    return np.full(3, scale, np.float32), np.zeros(3, np.float32)


def check(onnx_model: bytes, tflite_model: bytes, nhwc: bool, transform: tuple[np.ndarray, np.ndarray],
          images: int = 4, tolerance: float = 1e-4, seed: int = 0) -> float:
    """Largest absolute difference between ONNX Runtime's output for the original model and ai-edge-litert's for
    the TensorFlow Lite one, over ``images`` random images (NCHW for TFLite, transposed for an NHWC original).
    Raises ConversionError when it is over ``tolerance`` or the output shapes differ."""
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter  # the runtime the service uses

    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    interpreter = Interpreter(model_content=tflite_model)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    output = interpreter.get_output_details()[0]
    rng, worst = np.random.default_rng(seed), 0.0
    scale, offset = transform
    for _ in range(images):
        pixels = rng.uniform(0.0, 255.0, tuple(int(d) for d in detail["shape"])).astype(np.float32)
        image = (pixels * scale[None, :, None, None] + offset[None, :, None, None]).astype(np.float32)
        want = np.asarray(session.run(None, {session.get_inputs()[0].name: image.transpose(0, 2, 3, 1) if nhwc else image})[0])
        interpreter.set_tensor(detail["index"], image)
        interpreter.invoke()
        have = np.asarray(interpreter.get_tensor(output["index"]))
        if have.size != want.size:
            raise ConversionError(f"the TensorFlow Lite output has shape {list(have.shape)}, ONNX's {list(want.shape)}: "
                                  "report the model to the project")
        worst = max(worst, float(np.max(np.abs(want.astype(np.float64) - have.reshape(want.shape)))))
    if worst > tolerance:
        raise ConversionError(f"the TensorFlow Lite model answers up to {worst:.2g} away from ONNX Runtime (more than "
                              f"{tolerance:g}): do not deploy it; report the model to the project")
    return worst


def write_export(source: Path, out: Path, tflite_model: bytes, metadata: dict[str, str],
                 zipmap_labels: tuple[str, ...] = ()) -> list[Path]:
    """Copy the export's files from ``source`` into ``out``, add ``model.tflite`` and the merged metadata, and
    vouch for the TFLite model in the manifest (see the module docstring); a ZipMap's labels become ``labels.txt``
    when the export has none (the TFLite model has no ZipMap to read them from). Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(p for p in source.iterdir() if p.is_file() and p.name != TFLITE_FILE):
        if path.resolve() != (out / path.name).resolve():
            shutil.copyfile(path, out / path.name)
        written.append(out / path.name)
    (out / TFLITE_FILE).write_bytes(tflite_model)
    written.append(out / TFLITE_FILE)
    manifest = read_json_object(ConversionError, source / MANIFEST_FILE)
    labels_name = str(manifest.get("LabelFileName") or "labels.txt")
    if zipmap_labels and not (source / labels_name).is_file():
        (out / labels_name).write_text("\n".join(zipmap_labels) + "\n", encoding="utf-8")
        written.append(out / labels_name)
    props_name = str(manifest.get("MetadataPropsFileName") or METADATA_FILE)
    props = {**metadata, **read_json_object(ConversionError, source / props_name)}
    if props:
        (out / props_name).write_text(json.dumps(props, indent=2) + "\n", encoding="utf-8")
        written.append(out / props_name)
    if manifest:
        alternates = dict(manifest.get("AlternateModelFiles") or {})
        alternates[TFLITE_FILE] = hashlib.sha1(tflite_model).hexdigest()
        manifest.update(AlternateModelFiles=alternates, MetadataPropsFileName=props_name if props else None)
        (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return sorted(set(written))


def model_metadata(model: Any) -> dict[str, str]:
    """The ONNX model's metadata_props, plus the resize the service infers from the output name of an S1 model
    (``model_output``: stretch), which the TFLite model's output names no longer say."""
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    if any(o.name.split(":")[0] == "model_output" for o in model.graph.output):
        metadata.setdefault("CustomVision.Preprocess.ResizeMethod", "Stretch")
        metadata.setdefault("Image.BitmapPixelFormat", "Bgr8")  # what the service assumes of an ONNX model without it
    return metadata


def convert(location: Path, out: Path, tolerance: float = 1e-4) -> float:
    """Convert the ONNX export at ``location`` (zip or folder) into the export folder ``out``; returns the largest
    difference found by :func:`check`. Raises ConversionError, one sentence saying what is wrong."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="onnx-export-") as scratch:
        source = find_export(location, Path(scratch) / "export")
        content = (source / MODEL_FILE).read_bytes()
        try:
            model = onnx.load_from_string(content)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and others
            raise ConversionError(f"{source / MODEL_FILE} is not an ONNX model: export it again") from exc
        model, zipmap_labels = without_zipmap(model)
        reason = refusal(model)
        if reason:
            raise ConversionError(f"{MODEL_FILE} cannot be converted: {reason}")
        reference = model.SerializeToString()  # the probabilities ONNX Runtime gives (those the ZipMap reads)
        metadata = model_metadata(model)
        prepared, nhwc = nchw_input(without_image_scaler(model))
        logger.info("%s: input %s (%s), converting with onnx2tf %s", source / MODEL_FILE, model.graph.input[0].name,
                    "NHWC, fed as NCHW" if nhwc else "NCHW", package_version("onnx2tf"))
        tflite_model = to_tflite(prepared, Path(scratch))
        described = read_json_object(ConversionError, source / METADATA_FILE)
        transform = input_transform(source, {**metadata, **{k: str(v) for k, v in described.items()}})
        worst = check(reference, tflite_model, nhwc, transform, tolerance=tolerance)
        written = write_export(source, out, tflite_model, metadata, zipmap_labels)
    logger.info("largest difference from ONNX Runtime on random images: %.2g", worst)
    logger.info("wrote %s", ", ".join(str(p) for p in written))
    return worst


def main(argv: list[str] | None = None) -> int:
    return converter_main(
        argv, description="Convert an ONNX export (Custom Vision ONNX, Azure ML AutoML classification, your own model "
                          "described by model.json) once into model.tflite, for arm32v7, which has no ONNX Runtime.",
        epilog="example: make convert-model EXPORT=~/Downloads/automl-model OUT=fruit-model, then deploy fruit-model "
               "(MODEL_DIR, or modelUrl) to the arm32v7 devices",
        export_help="the ONNX export: its zip or folder (model.onnx and its labels)", reference="ONNX Runtime",
        noisy=("tensorflow", "onnx2tf", "absl"), convert=lambda location, out, args: convert(location, out, args.tolerance),
        errors=(ConversionError,), logger=logger)


if __name__ == "__main__":
    sys.exit(main())
