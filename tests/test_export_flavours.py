"""Every export flavour beyond plain ONNX classifiers: TensorFlow Lite and TensorFlow frozen graphs
(with TensorFlow's own converter and runtime, in .venv-convert), object detectors (compact YOLO
grid in both layouts, S1 ``detected_*`` outputs) and S1 classifiers."""

from __future__ import annotations

import json
from dataclasses import astuple
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from classifier.detection import ANCHORS, non_max_suppression
from classifier.export import load
from classifier.model import ModelLoadError
from classifier.preprocess import decode
from conftest import IMAGES, MODELS, ROOT, tool_venv

APPLES_BANANAS = {"apple1": "Apple", "apple2": "Apple", "apple3": "Apple",
                  "banana1": "Banana", "banana2": "Banana", "banana3": "Banana"}
from test_export import FRUITS_TOP  # noqa: E402 - the fixture figures (the original container's recipe), one place
GRID, CELL = 4, 32  # the test detector: 128 px input, a 4x4 grid of 32 px cells


@pytest.fixture(scope="session")
def tensorflow_python() -> Path:
    """Python of a venv with TensorFlow (an optional extra of the classifier; too big for the main venv):
    ``make convert-venv``, from tools/requirements-convert.txt."""
    return tool_venv(".venv-convert", "convert-venv")


def detector_weights(labels: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """1x1 convolution [3 (B,G,R cell means 0-1), 5*(5+labels)] and bias of a detector that finds
    red and blue squares: anchor 0's objectness is high where a cell is strongly red or blue,
    its class logits favour red or blue; every other anchor stays silent."""
    channels = len(ANCHORS) * (5 + labels)
    kernel = np.zeros((3, channels), np.float32)
    bias = np.zeros(channels, np.float32)
    bias[4::5 + labels] = -12.0  # every anchor's objectness logit: off
    kernel[:, 4] = (12.0, -24.0, 12.0)  # anchor 0 objectness: 12 B - 24 G + 12 R ...
    bias[4] = -6.0  # ... - 6: on for a red or blue cell, off for grey or black
    kernel[:, 5] = (-8.0, 0.0, 8.0)  # class "red": R - B
    kernel[:, 6] = (8.0, 0.0, -8.0)  # class "blue": B - R
    return kernel, bias


def _write_onnx_detector(path: Path) -> None:
    """The same detector as ONNX (NCHW, BGR 0-255 as no metadata says otherwise)."""
    kernel, bias = detector_weights()
    nodes = [
        helper.make_node("Mul", ["data", "scale"], ["unit"]),
        helper.make_node("AveragePool", ["unit"], ["pooled"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]),
        helper.make_node("Conv", ["pooled", "w", "b"], ["model_outputs0"], kernel_shape=[1, 1]),
    ]
    inits = [numpy_helper.from_array(np.array(1 / 255, np.float32), "scale"),
             numpy_helper.from_array(kernel.T.reshape(-1, 3, 1, 1).copy(), "w"),
             numpy_helper.from_array(bias, "b")]
    graph = helper.make_graph(nodes, "detector", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 128, 128])],
                              [helper.make_tensor_value_info("model_outputs0", TensorProto.FLOAT, [1, kernel.shape[1], GRID, GRID])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    (path / "labels.txt").write_text("red\nblue\n")


@pytest.fixture(scope="session")
def tf_exports(tensorflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tf-exports")
    kernel, bias = detector_weights()
    np.savez(out / "detector.npz", kernel=kernel, bias=bias)
    subprocess.run([str(tensorflow_python), str(ROOT / "tests" / "tf_exports.py"), str(MODELS), str(out)], check=True,
                   capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    return out


def _scores(model, name: str) -> dict[str, float]:
    return {p.tagName: p.probability for p in model.classify(decode((IMAGES / f"{name}.jpg").read_bytes()))}


def _scene(squares: dict[tuple[int, int], tuple[int, int, int]], size: int = 256) -> Image.Image:
    """An RGB grey scene with coloured squares filling grid cells (row, column) of a 4x4 grid."""
    image = np.full((size, size, 3), 90, np.uint8)
    cell = size // GRID
    for (row, col), rgb in squares.items():
        image[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell] = rgb
    return Image.fromarray(image)


def test_tflite_conversion_of_the_fixtures_gives_the_fixture_figures(tf_exports: Path) -> None:
    model = load(tf_exports / "apples-bananas-tflite")
    assert (model.info.runtime, model.info.flavour) == ("TensorFlow Lite", "TensorFlowLite")
    assert (model.spec.layout, model.spec.width, model.recipe.colour, model.recipe.scale) == ("NHWC", 227, "BGR", 1.0)
    for name, truth in APPLES_BANANAS.items():
        scores = _scores(model, name)
        assert max(scores, key=scores.get) == truth and scores[truth] >= 0.98, (name, scores)
    fruits = load(tf_exports / "fruits-tflite")
    for name, (tag, probability) in FRUITS_TOP.items():
        scores = _scores(fruits, name)
        assert max(scores, key=scores.get) == tag and scores[tag] == pytest.approx(probability, abs=0.01), (name, scores)


def test_tflite_model_serves_concurrent_callers(tf_exports: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = load(tf_exports / "apples-bananas-tflite")
    tensors = {name: model.preprocess(decode((IMAGES / f"{name}.jpg").read_bytes())) for name in APPLES_BANANAS}
    with ThreadPoolExecutor(4) as pool:
        tops = list(pool.map(lambda n: max(model.run(tensors[n]), key=lambda p: p.probability).tagName, list(tensors) * 4))
    assert tops == [APPLES_BANANAS[n] for n in tensors] * 4


def test_tflite_s1_classifier_takes_rgb_and_stretches(tf_exports: Path) -> None:
    model = load(tf_exports / "s1-tflite")
    assert model.recipe.colour == "RGB" and model.spec.width == 300
    image = np.zeros((60, 80, 3), np.uint8)
    image[:, :40] = (255, 0, 0)  # left half red (RGB)
    image[:, 40:] = (0, 0, 255)  # right half blue
    scores = {p.tagName: p.probability for p in model.classify(Image.fromarray(image))}
    assert scores["r"] == pytest.approx(0.5, abs=0.02) and scores["b"] == pytest.approx(0.5, abs=0.02)
    assert scores["g"] == pytest.approx(0.0, abs=0.01)


def test_tensorflow_frozen_graph_with_tensorflow_installed(tensorflow_python: Path, tmp_path: Path) -> None:
    """model.pb alone (no ONNX): the TensorFlow extra serves it with the fixture figures."""
    for name in ("model.pb", "labels.txt"):
        shutil.copy(MODELS / "fruits" / name, tmp_path / name)
    script = ("import json, sys\nfrom classifier.export import load\nfrom classifier.preprocess import decode\n"
              f"m = load({str(tmp_path)!r})\nout = {{'runtime': m.info.runtime, 'flavour': m.info.flavour, 'scores': {{}}}}\n"
              f"for n in {list(FRUITS_TOP)!r}:\n"
              f"    out['scores'][n] = {{p.tagName: p.probability for p in m.classify(decode(open({str(IMAGES)!r} + '/' + n + '.jpg', 'rb').read()))}}\n"
              "print(json.dumps(out))\n")
    done = subprocess.run([str(tensorflow_python), "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "modules" / "ImageClassifierService"), str(ROOT))), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["runtime"], result["flavour"]) == ("TensorFlow", "TensorFlowNormal")
    for name, (tag, probability) in FRUITS_TOP.items():
        scores = result["scores"][name]
        assert max(scores, key=scores.get) == tag and scores[tag] == pytest.approx(probability, abs=0.01), (name, scores)


def test_frozen_graph_without_tensorflow_is_one_clear_sentence(tmp_path: Path) -> None:
    for name in ("model.pb", "labels.txt"):
        shutil.copy(MODELS / "apples-bananas" / name, tmp_path / name)
    with pytest.raises(ModelLoadError, match=r"TensorFlow is not installed, and it is needed for a frozen graph \(model.pb\)"):
        load(tmp_path)


def _check_detector(model) -> None:
    assert model.info.task == "detection"
    found = model.classify(_scene({(1, 2): (230, 20, 20), (3, 0): (20, 20, 230)}))
    assert [p.tagName for p in found] == ["red", "blue"] or [p.tagName for p in found] == ["blue", "red"]
    for p in found:
        row, col = (1, 2) if p.tagName == "red" else (3, 0)
        box = p.boundingBox
        assert p.probability > 0.9
        # centred on its cell, anchor 0's size (0.573 x 0.677 cells)
        assert box.left + box.width / 2 == pytest.approx((col + 0.5) / GRID, abs=0.02)
        assert box.top + box.height / 2 == pytest.approx((row + 0.5) / GRID, abs=0.02)
        assert box.width == pytest.approx(ANCHORS[0][0] / GRID, abs=0.01)
        assert box.height == pytest.approx(ANCHORS[0][1] / GRID, abs=0.01)
    assert model.classify(_scene({})) == []  # a plain grey scene: nothing detected


def test_compact_detector_onnx_nchw_grid_is_decoded(tmp_path: Path) -> None:
    _write_onnx_detector(tmp_path / "det")
    _check_detector(load(tmp_path / "det"))


def test_compact_detector_tflite_nhwc_grid_is_decoded(tf_exports: Path) -> None:
    model = load(tf_exports / "detector-tflite")
    assert model.spec.layout == "NHWC" and model.info.runtime == "TensorFlow Lite"
    _check_detector(model)


def test_non_max_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.52, 0.5], [0.6, 0.6, 0.9, 0.9], [0.0, 0.0, 0.1, 0.1]], np.float32)
    probs = np.array([[0.8, 0.1], [0.9, 0.0], [0.1, 0.7], [0.05, 0.02]], np.float32)
    found = non_max_suppression(boxes, probs)
    assert [(d.label, round(d.probability, 2)) for d in found] == [(0, 0.9), (1, 0.7)]
    assert found[0].box.left == pytest.approx(0.12) and found[0].box.width == pytest.approx(0.4)
    assert len(non_max_suppression(boxes, probs, limit=1)) == 1


def _write_s1_detector(path: Path) -> None:
    """S1 detector contract: detected_boxes [1,N,4], detected_classes [1,N], detected_scores [1,N];
    scores here are the image's mean red and mean blue (RGB 0-1 per its metadata)."""
    boxes = np.array([[[0.1, 0.2, 0.4, 0.6], [0.5, 0.5, 1.2, 0.9]]], np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["data"], ["means"], axes=[2, 3], keepdims=0),  # [1,3] R,G,B
        helper.make_node("Gather", ["means", "rb"], ["detected_scores"], axis=1),  # [1,2]: R, B
        helper.make_node("Constant", [], ["detected_boxes"], value=numpy_helper.from_array(boxes)),
        helper.make_node("Constant", [], ["detected_classes"], value=numpy_helper.from_array(np.array([[0, 1]], np.int64))),
    ]
    graph = helper.make_graph(
        nodes, "s1det", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("detected_boxes", TensorProto.FLOAT, [1, 2, 4]),
         helper.make_tensor_value_info("detected_classes", TensorProto.INT64, [1, 2]),
         helper.make_tensor_value_info("detected_scores", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(np.array([0, 2], np.int64), "rb")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in {"Image.BitmapPixelFormat": "Rgb8", "Image.NominalPixelRange": "Normalized_0_1"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    (path / "labels.txt").write_text("apple\nplum\n")


def test_s1_detector_outputs_are_read_directly(tmp_path: Path) -> None:
    _write_s1_detector(tmp_path / "s1")
    model = load(tmp_path / "s1")
    assert model.info.task == "detection" and model.spec.width == 320 and model.recipe.resize == "stretch"
    image = np.zeros((100, 100, 3), np.uint8)
    image[:, :, 0], image[:, :, 2] = 204, 51  # red 0.8, blue 0.2
    found = model.classify(Image.fromarray(image))
    assert [(p.tagName, round(p.probability, 2)) for p in found] == [("apple", 0.8), ("plum", 0.2)]
    assert tuple(round(v, 4) for v in astuple(found[0].boundingBox)) == (0.1, 0.2, 0.3, 0.4)
    assert tuple(round(v, 4) for v in astuple(found[1].boundingBox)) == (0.5, 0.5, 0.5, 0.4)  # clipped to the image
    image[:, :, 2] = 10  # blue below the 0.1 threshold: dropped
    assert [p.tagName for p in model.classify(Image.fromarray(image))] == ["apple"]


def test_bundled_demo_runs_on_tensorflow_lite_where_onnx_runtime_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The arm32v7 image has no ONNX Runtime: the bundled export's model.tflite answers like model.onnx."""
    import cv2

    bundled = ROOT / "modules" / "ImageClassifierService" / "model"
    onnx_model = load(bundled)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    tflite_model = load(bundled)
    assert (onnx_model.info.runtime, tflite_model.info.runtime) == ("ONNX Runtime", "TensorFlow Lite")
    assert tflite_model.spec.layout == "NHWC" and tflite_model.recipe.colour == "RGB" and tflite_model.recipe.scale == 1 / 255
    clip = cv2.VideoCapture(str(ROOT / "demo" / "colours.mp4"))
    compared = 0
    while True:
        ok, frame = clip.read()
        if not ok:
            break
        compared += 1
        if compared % 10:
            continue
        image = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        a = [p.probability for p in onnx_model.classify(image)]
        b = [p.probability for p in tflite_model.classify(image)]
        assert b == pytest.approx(a, abs=1e-3)  # float sums in another order
    assert compared == 120


def test_a_flavour_with_control_characters_is_reported_printable(tmp_path: Path) -> None:
    """Issue 22, item 8: an export's manifest is outside input; its Flavor reaches the twin and the headers as
    printable ASCII only (each control character a '?')."""
    folder = tmp_path / "export"
    shutil.copytree(ROOT / "modules" / "ImageClassifierService" / "model", folder)
    manifest = json.loads((folder / "cvexport.manifest").read_text())
    manifest["Flavor"] = "ONNX\r\nEvil\u001b[0m"
    (folder / "cvexport.manifest").write_text(json.dumps(manifest))
    assert load(folder).info.flavour == "ONNX??Evil?[0m"
