"""An ONNX export reaches arm32v7 (no ONNX Runtime there) through ``make convert-model``: the real command
(onnx2tf in .venv-onnx2tf, which ``make onnx2tf-venv`` makes from tools/requirements-onnx2tf.txt) adds a
``model.tflite`` to an Azure ML AutoML classifier built here to AutoML's documented contract and to the Custom
Vision ONNX fixtures; the service, with ONNX Runtime taken away as on arm32v7, serves the TFLite model and answers
within 1e-4 of ONNX Runtime on every fixture photo, prepared by the same recipe."""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from classifier.app import create_app
from classifier.export import load
from classifier.model import Model as CustomVisionModel
from classifier.preprocess import decode
from classifier.settings import ClassifierSettings
from conftest import IMAGES, MODELS, ROOT, convert_model, tool_venv

TOLERANCE = 1e-4
CLASSES = ["apple", "banana", "orange", "pear"]
PHOTOS = sorted(IMAGES.glob("*.jpg"))


@pytest.fixture(scope="session")
def onnx2tf_venv() -> Path:
    """.venv-onnx2tf, made by ``make onnx2tf-venv`` (make test makes it): never built inside a test."""
    return tool_venv(".venv-onnx2tf", "onnx2tf-venv")




def _automl_export(graph: onnx.GraphProto, folder: Path) -> Path:
    """``folder`` with ``graph`` as model.onnx (opset 17, IR 8, checked) and CLASSES as labels.json, as AutoML
    exports them."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True)
    onnx.save(model, folder / "model.onnx")
    (folder / "labels.json").write_text(json.dumps(CLASSES), encoding="utf-8")
    return folder


def automl_classifier(folder: Path, size: int = 224) -> Path:
    """An AutoML multi-class classifier to AutoML's documented ONNX contract: input ``input1`` [batch,3,224,224]
    float32 (RGB, 0-1 then ImageNet mean/std), output ``output1`` [batch, classes] logits, ``labels.json``.
    Inside: a 3x3 stride-2 convolution to 8 channels, ReLU, global average pooling and a dense layer, with fixed
    random weights, so that every pixel of the image matters."""
    rng = np.random.default_rng(24)
    weights = {"w1": rng.normal(0, 0.4, (8, 3, 3, 3)), "b1": rng.normal(0, 0.1, 8),
               "w2": rng.normal(0, 0.8, (8, len(CLASSES))), "b2": rng.normal(0, 0.1, len(CLASSES))}
    nodes = [helper.make_node("Conv", ["input1", "w1", "b1"], ["conv"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("GlobalAveragePool", ["relu"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["features"], axis=1),
             helper.make_node("Gemm", ["features", "w2", "b2"], ["output1"])]
    graph = helper.make_graph(
        nodes, "automl", [helper.make_tensor_value_info("input1", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("output1", TensorProto.FLOAT, ["batch", len(CLASSES)])],
        [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()])
    return _automl_export(graph, folder)


def automl_yolo(folder: Path, size: int = 64) -> Path:
    """An AutoML YOLO detector to the documented contract: input ``input`` [1,3,S,S] (RGB 0-1, letterboxed), one
    output [1, candidates, 5 + classes]: centre x, centre y, width, height (input px), objectness, class scores.
    Inside: an 8x8 stride-8 convolution, one candidate per cell, squashed by a sigmoid and scaled to px."""
    rng = np.random.default_rng(5)
    channels, cells = 5 + len(CLASSES), (size // 8) ** 2
    weights = {"w": rng.normal(0, 0.05, (channels, 3, 8, 8)), "b": rng.normal(0, 0.5, channels),
               "scale": np.array([size, size, size / 2, size / 2] + [1] * (channels - 4))}
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv"], kernel_shape=[8, 8], strides=[8, 8]),
             helper.make_node("Reshape", ["conv", "shape"], ["flat"]),
             helper.make_node("Transpose", ["flat"], ["candidates"], perm=[0, 2, 1]),
             helper.make_node("Sigmoid", ["candidates"], ["squashed"]),
             helper.make_node("Mul", ["squashed", "scale"], ["output"])]
    graph = helper.make_graph(
        nodes, "yolo", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, cells, channels])],
        [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()]
        + [numpy_helper.from_array(np.array([1, channels, cells], np.int64), "shape")])
    return _automl_export(graph, folder)


def custom_vision_onnx(model: str, folder: Path) -> Path:
    """The fixture ``model``'s Custom Vision ONNX export (model.onnx, NHWC BGR 0-255, and labels.txt) only."""
    folder.mkdir(parents=True)
    for name in ("model.onnx", "labels.txt"):
        shutil.copy(MODELS / model / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def converted(onnx2tf_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each export converted by the real command: the AutoML classifier from a folder, and the same network
    described by model.json as a model of your own; fruits from a folder;
    apples-bananas from a zip holding a cvexport.manifest naming model.onnx, as Custom Vision ONNX exports do."""
    base = tmp_path_factory.mktemp("convert-onnx")
    zipped = custom_vision_onnx("apples-bananas", base / "ab-export")
    manifest = {"DomainType": "Classification", "Platform": "ONNX", "Flavor": None, "ExporterVersion": "2.0",
                "ModelFileName": "model.onnx", "LabelFileName": "labels.txt",
                "ModelFileSHA1": hashlib.sha1((zipped / "model.onnx").read_bytes()).hexdigest()}
    (zipped / "cvexport.manifest").write_text(json.dumps(manifest), encoding="utf-8")
    with zipfile.ZipFile(base / "ApplesBananas.ONNX.zip", "w") as archive:
        for path in sorted(zipped.iterdir()):
            archive.write(path, path.name)
    own = automl_classifier(base / "own-export")  # the same network, as a model of your own: model.json, labels.txt
    (own / "labels.json").unlink()
    (own / "labels.txt").write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
    (own / "model.json").write_text(json.dumps(
        {"input": "input1", "layout": "NCHW", "size": [224, 224], "colour": "RGB", "range": [0, 1],
         "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "resize": "shorter_side", "resize_to": 256,
         "crop": "centre", "interpolation": "bilinear", "labels_file": "labels.txt", "scores": "softmax"}))
    multilabel = automl_classifier(base / "multilabel-export")  # AutoML's run settings say multi-label
    (multilabel / "settings.json").write_text(json.dumps({"task_type": "image-classification-multilabel"}))
    exports = {"automl": automl_classifier(base / "automl-export"), "own": own, "multilabel": multilabel,
               "yolo": automl_yolo(base / "yolo-export"),
               "fruits": custom_vision_onnx("fruits", base / "fruits-export"),
               "apples-bananas": base / "ApplesBananas.ONNX.zip"}
    outs = {name: base / f"{name}-converted" for name in exports}
    # three conversions at a time (each mostly waits on TensorFlow's start): the suite's longest setup
    with ThreadPoolExecutor(3) as pool:
        runs = {name: pool.submit(convert_model, f"EXPORT={export}", f"OUT={outs[name]}") for name, export in exports.items()}
    for name, run in runs.items():
        done = run.result()
        assert done.returncode == 0, (name, done.stdout[-2000:], done.stderr[-3000:])
    return outs


def prepared(model: CustomVisionModel) -> np.ndarray:
    """Every fixture photo through the service's own preprocessing: [N, ...input shape]."""
    return np.concatenate([model.preprocess(decode(path.read_bytes())) for path in PHOTOS])


def served(model: CustomVisionModel, tensors: np.ndarray) -> np.ndarray:
    """The service's probabilities for each prepared image, in label order: [N, labels]."""
    return np.array([[p.probability for p in model.run(tensor[None])] for tensor in tensors])


@pytest.mark.parametrize("name, flavour, layout", [("automl", "automl-multiclass", "NCHW"), ("own", "described", "NCHW"),
                                                   ("multilabel", "automl-multilabel", "NCHW"),
                                                   ("fruits", "ONNX (tf2onnx)", "NHWC"),
                                                   ("apples-bananas", "ONNX (tf2onnx)", "NHWC")])
def test_converted_onnx_export_answers_like_onnx_runtime_as_tensorflow_lite(
        name: str, flavour: str, layout: str, converted: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    out = converted[name]
    onnx_model = load(out)
    assert (onnx_model.info.runtime, onnx_model.spec.layout) == ("ONNX Runtime", layout)
    assert onnx_model.info.flavour == flavour
    tensors = prepared(onnx_model)
    reference = served(onnx_model, tensors)
    assert reference.shape == (len(PHOTOS), len(onnx_model.labels)) and np.ptp(reference, axis=0).max() > 0.01

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on arm32v7: the same folder, TensorFlow Lite
    tflite_model = load(out)
    assert tflite_model.info.runtime == "TensorFlow Lite" and tflite_model.labels == onnx_model.labels
    assert tflite_model.spec.layout == "NCHW"  # onnx2tf keeps the image NCHW; the service reads the layout
    assert (tflite_model.recipe.colour, tflite_model.recipe.scale) == (onnx_model.recipe.colour, onnx_model.recipe.scale)
    tflite_tensors = prepared(tflite_model)
    expected = tensors if layout == "NCHW" else tensors.transpose(0, 3, 1, 2)
    assert np.array_equal(tflite_tensors, expected)  # the same recipe, so the same pixels
    assert np.abs(served(tflite_model, tflite_tensors) - reference).max() <= TOLERANCE


def test_a_converted_automl_yolo_detector_finds_the_same_boxes_as_tensorflow_lite(
        converted: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    out = converted["yolo"]
    reference = load(out)
    assert (reference.info.runtime, reference.info.flavour) == ("ONNX Runtime", "automl-yolo")
    found = {photo: reference.classify(decode(photo.read_bytes())) for photo in PHOTOS}
    assert sum(len(predictions) for predictions in found.values()) > len(PHOTOS)  # boxes to compare
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    tflite_model = load(out)
    assert (tflite_model.info.runtime, tflite_model.info.flavour) == ("TensorFlow Lite", "automl-yolo")
    for photo, predictions in found.items():
        again = tflite_model.classify(decode(photo.read_bytes()))
        assert [p.tagName for p in again] == [p.tagName for p in predictions], photo.name
        for want, got in zip(predictions, again, strict=True):
            assert got.probability == pytest.approx(want.probability, abs=TOLERANCE)
            assert got.boundingBox is not None and want.boundingBox is not None
            assert np.allclose(np.array(astuple(got.boundingBox)), np.array(astuple(want.boundingBox)), atol=TOLERANCE), photo.name


def test_converted_zip_export_vouches_for_the_tflite_model_in_its_manifest(converted: dict[str, Path]) -> None:
    out = converted["apples-bananas"]
    assert sorted(p.name for p in out.iterdir()) == ["cvexport.manifest", "labels.txt", "model.onnx", "model.tflite"]
    manifest = json.loads((out / "cvexport.manifest").read_text(encoding="utf-8"))
    assert manifest["ModelFileName"] == "model.onnx"
    assert manifest["ModelFileSHA1"] == hashlib.sha1((MODELS / "apples-bananas" / "model.onnx").read_bytes()).hexdigest()
    assert manifest["AlternateModelFiles"] == {"model.tflite": hashlib.sha1((out / "model.tflite").read_bytes()).hexdigest()}
    assert (out / "model.onnx").read_bytes() == (MODELS / "apples-bananas" / "model.onnx").read_bytes()


def test_the_service_answers_with_the_converted_automl_model_without_onnx_runtime(
        converted: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    photo = IMAGES / "banana1.jpg"
    reference = load(converted["automl"]).classify(decode(photo.read_bytes()))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    client = create_app(load(converted["automl"]), ClassifierSettings()).test_client()
    reply = client.post("/image", data=photo.read_bytes(), content_type="application/octet-stream")
    assert reply.status_code == 200
    answered = {p["tagName"]: p["probability"] for p in reply.get_json()["predictions"]}
    assert set(answered) <= set(CLASSES)
    for prediction in reference:
        assert answered.get(prediction.tagName, 0.0) == pytest.approx(prediction.probability, abs=TOLERANCE)
    model = client.get("/health/ready").get_json()["model"]
    assert (model["flavour"], model["sha256"]) == ("automl-multiclass", hashlib.sha256(
        (converted["automl"] / "model.tflite").read_bytes()).hexdigest())  # the TFLite model answered


def onnx12_export(folder: Path, labels: tuple[str, ...] = ("zebra", "apple", "mango")) -> Path:
    """A Custom Vision ONNX12-flavour classifier as docs/customvision.md describes it: opset 7 + ai.onnx.ml, metadata
    ``Image.BitmapPixelFormat=Bgr8``, first node ImageScaler (here with a bias, to be exercised), input ``data``
    [None,3,S,S] BGR 0-255, outputs ``classLabel`` (string [None,1], through ai.onnx.ml's ArrayFeatureExtractor) and
    ``loss`` (a ZipMap with the labels embedded, in the model's own order); no labels.txt."""
    weights = np.random.default_rng(12).normal(0, 0.02, (len(labels), 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("ImageScaler", ["data"], ["scaled"], scale=1.0, bias=[-100.0, -110.0, -120.0]),
             helper.make_node("Conv", ["scaled", "w"], ["conv"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["conv"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["logits"], axis=1),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
             helper.make_node("ZipMap", ["probabilities"], ["loss"], domain="ai.onnx.ml", classlabels_strings=list(labels)),
             helper.make_node("ArgMax", ["probabilities"], ["index"], axis=1, keepdims=1),
             helper.make_node("ArrayFeatureExtractor", ["names", "index"], ["classLabel"], domain="ai.onnx.ml")]
    graph = helper.make_graph(
        nodes, "onnx12", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["None", 3, 64, 64])],
        [helper.make_tensor_value_info("classLabel", TensorProto.STRING, ["None", 1]),
         helper.make_value_info("loss", helper.make_sequence_type_proto(helper.make_map_type_proto(
             TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))],
        [numpy_helper.from_array(weights, "w"),
         helper.make_tensor("names", TensorProto.STRING, [len(labels)], [label.encode() for label in labels])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 3
    model.metadata_props.add(key="Image.BitmapPixelFormat", value="Bgr8")
    folder.mkdir(parents=True)
    onnx.save(model, folder / "model.onnx")
    return folder


def test_an_onnx12_export_is_cut_at_its_zipmap_and_answers_alike(
        onnx2tf_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export, out = onnx12_export(tmp_path / "onnx12"), tmp_path / "onnx12-converted"
    done = convert_model(f"EXPORT={export}", f"OUT={out}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "labels.txt").read_text() == "zebra\napple\nmango\n"  # the ZipMap's labels, in its order
    onnx_model = load(out)
    assert (onnx_model.info.runtime, onnx_model.info.flavour, onnx_model.recipe.colour) == ("ONNX Runtime", "ONNX12", "BGR")
    tensors = prepared(onnx_model)
    reference = served(onnx_model, tensors)
    assert np.ptp(reference, axis=0).max() > 0.01
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    tflite_model = load(out)
    assert (tflite_model.info.runtime, tflite_model.labels, tflite_model.recipe.colour) == \
        ("TensorFlow Lite", ("zebra", "apple", "mango"), "BGR")  # colour from metadata_properties.json
    assert np.array_equal(prepared(tflite_model), tensors)
    assert np.abs(served(tflite_model, tensors) - reference).max() <= TOLERANCE


def test_a_detector_with_two_outputs_is_refused_in_one_line(onnx2tf_venv: Path, tmp_path: Path) -> None:
    export = tmp_path / "detector"
    export.mkdir()
    nodes = [helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["boxes"], axis=1),
             helper.make_node("Flatten", ["pooled"], ["scores"], axis=1)]
    graph = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3]) for n in ("boxes", "scores")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), export / "model.onnx")
    (export / "labels.json").write_text(json.dumps(["a", "b", "c"]))
    done = convert_model(f"EXPORT={export}", f"OUT={tmp_path / 'out'}", timeout=300)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("cannot convert")]
    assert lines == [f"cannot convert {export}: model.onnx cannot be converted: it is an object detector (several "
                     "outputs, or boxes of data-dependent number), whose TensorFlow Lite outputs lose the names the "
                     "service reads them by: serve it with ONNX Runtime (amd64, arm64v8)"]
    assert not (tmp_path / "out").exists()


def test_export_kind_picks_the_converter(tmp_path: Path) -> None:
    """tools/export_kind.py: ONNX for a model.onnx without model.pb, in a folder or a zip; TensorFlow otherwise."""
    folder = custom_vision_onnx("fruits", tmp_path / "onnx")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("inner/model.onnx", b"")
        zipped.writestr("inner/labels.txt", b"a\n")
    both = tmp_path / "both"
    shutil.copytree(folder, both)
    shutil.copy(MODELS / "fruits" / "model.pb", both / "model.pb")
    kinds = {path: subprocess.run([sys.executable, str(ROOT / "tools" / "export_kind.py"), str(path)], capture_output=True,
                                  text=True, check=True).stdout.strip() for path in (folder, archive, both, tmp_path / "none")}
    assert kinds == {folder: "onnx", archive: "onnx", both: "tensorflow", tmp_path / "none": "tensorflow"}
