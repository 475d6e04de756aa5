"""A TensorFlow export (``model.pb`` + ``labels.txt``, no ONNX) reaches the service through
``make convert-model``: the real command (TensorFlow, tf2onnx and TFLite's converter in
.venv-convert, which ``make convert-venv`` makes from tools/requirements-convert.txt) turns each fixture's
frozen graph into an export the service loads, on ONNX Runtime and on TensorFlow Lite, answering
within 1e-4 of the graph run in TensorFlow on every fixture image with the same prepared tensors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifier.export import load
from classifier.model import Model as CustomVisionModel, ModelLoadError
from classifier.preprocess import decode
from conftest import IMAGES, MODELS, ROOT, convert_model, tool_venv

CONVERT_PYTHON = ROOT / ".venv-convert" / "bin" / "python"
TOLERANCE = 1e-4  # probability, as the service's other exactness checks
MANIFEST = {"DomainType": "Classification", "Platform": "TensorFlow", "Flavor": "TensorFlowNormal",
            "ExporterVersion": "2.0", "ModelFileName": "model.pb", "LabelFileName": "labels.txt"}


@pytest.fixture(scope="session")
def convert_venv() -> Path:
    """.venv-convert, made by ``make convert-venv`` (make test makes it): never built inside a test."""
    return tool_venv(".venv-convert", "convert-venv")




def tensorflow_export(model: str, into: Path) -> Path:
    """A copy of the fixture ``model``'s TensorFlow export: its model.pb and labels.txt only."""
    into.mkdir(parents=True)
    for name in ("model.pb", "labels.txt"):
        shutil.copy(MODELS / model / name, into / name)
    return into


@pytest.fixture(scope="session")
def converted(convert_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each fixture converted by the real command: fruits from a folder holding the export in
    ``app/`` (as a Dockerfile export does), apples-bananas from an export zip holding a
    cvexport.manifest, as current TensorFlow exports do."""
    base = tmp_path_factory.mktemp("convert")
    fruits = tensorflow_export("fruits", base / "fruits-export" / "app").parent
    zipped = tensorflow_export("apples-bananas", base / "ab-export")
    manifest = {**MANIFEST, "ModelFileSHA1": hashlib.sha1((zipped / "model.pb").read_bytes()).hexdigest()}
    (zipped / "cvexport.manifest").write_text(json.dumps(manifest), encoding="utf-8")
    with zipfile.ZipFile(base / "ApplesBananas.TensorFlow.zip", "w") as archive:
        for path in sorted(zipped.iterdir()):
            archive.write(path, path.name)
    outs = {"fruits": base / "fruits-converted", "apples-bananas": base / "ab-converted"}
    for export, out in ((fruits, outs["fruits"]), (base / "ApplesBananas.TensorFlow.zip", outs["apples-bananas"])):
        done = convert_model(f"EXPORT={export}", f"OUT={out}")
        assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    return outs


def graph_scores(model: str, tensors: np.ndarray, scratch: Path) -> np.ndarray:
    """The fixture's model.pb run in TensorFlow on ``tensors`` [N,227,227,3] BGR 0-255: [N, labels]."""
    np.save(scratch / "tensors.npy", tensors)
    script = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import tf_exports; "
              "tf_exports.frozen_graph_outputs(*map(Path, sys.argv[2:]))")
    done = subprocess.run([str(CONVERT_PYTHON), "-c", script, str(ROOT / "tests"), str(MODELS / model / "model.pb"),
                           str(scratch / "tensors.npy"), str(scratch / "scores.npy")],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return np.load(scratch / "scores.npy")


def prepared(model: CustomVisionModel) -> np.ndarray:
    """Every fixture image through the service's own preprocessing: [N,H,W,3]."""
    return np.concatenate([model.preprocess(decode(path.read_bytes())) for path in sorted(IMAGES.glob("*.jpg"))])


def served(model: CustomVisionModel, tensors: np.ndarray) -> np.ndarray:
    """The service's probabilities for each prepared image, in label order: [N, labels]."""
    return np.array([[p.probability for p in model.run(tensor[None])] for tensor in tensors])


@pytest.mark.parametrize("name", ["fruits", "apples-bananas"])
def test_converted_export_answers_like_the_tensorflow_graph_on_both_runtimes(
        name: str, converted: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = converted[name]
    onnx_model = load(out)
    assert (onnx_model.info.runtime, onnx_model.info.flavour) == ("ONNX Runtime", "ONNX (tf2onnx)")
    assert (onnx_model.spec.layout, onnx_model.spec.width, onnx_model.recipe.colour, onnx_model.recipe.scale) == \
        ("NHWC", 227, "BGR", 1.0)  # as the TensorFlow export: BGR 0-255
    assert onnx_model.labels == tuple((MODELS / name / "labels.txt").read_text().split())
    tensors = prepared(onnx_model)
    reference = graph_scores(name, tensors, tmp_path)
    assert np.abs(served(onnx_model, tensors) - reference).max() <= TOLERANCE

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on arm32v7: the same folder, TensorFlow Lite
    tflite_model = load(out)
    assert tflite_model.info.runtime == "TensorFlow Lite"
    assert np.array_equal(prepared(tflite_model), tensors)  # the same recipe, so the same tensors
    assert np.abs(served(tflite_model, tensors) - reference).max() <= TOLERANCE


def test_converted_export_keeps_the_manifest_naming_the_onnx_model(converted: dict[str, Path]) -> None:
    out = converted["apples-bananas"]
    assert sorted(p.name for p in out.iterdir()) == ["cvexport.manifest", "labels.txt", "model.onnx", "model.tflite"]
    manifest = json.loads((out / "cvexport.manifest").read_text(encoding="utf-8"))
    assert (manifest["ModelFileName"], manifest["Platform"], manifest["Flavor"]) == ("model.onnx", "ONNX", None)
    assert manifest["ModelFileSHA1"] == hashlib.sha1((out / "model.onnx").read_bytes()).hexdigest()
    assert manifest["ConvertedFrom"]["Flavor"] == "TensorFlowNormal"
    assert (manifest["DomainType"], manifest["LabelFileName"]) == ("Classification", "labels.txt")
    assert (out / "labels.txt").read_bytes() == (MODELS / "apples-bananas" / "labels.txt").read_bytes()


def test_model_pb_alone_is_refused_naming_the_conversion_command(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"make convert-model EXPORT=path/to/export") as refused:
        load(tensorflow_export("fruits", tmp_path / "export"))
    assert "\n" not in str(refused.value)


def test_convert_model_refuses_a_folder_without_a_graph_in_one_line(converted: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "labels.txt").write_text("Apple\n")
    done = convert_model(f"EXPORT={tmp_path}", f"OUT={tmp_path / 'out'}", timeout=300)
    assert done.returncode != 0 and f"cannot convert {tmp_path}: no model.pb in {tmp_path}" in done.stderr
    assert not (tmp_path / "out").exists()
    usage = convert_model(timeout=60)
    assert usage.returncode != 0 and "usage: make convert-model EXPORT=" in usage.stderr
