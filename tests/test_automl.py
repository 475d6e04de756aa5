"""Azure ML AutoML exports (model.onnx + labels.json): small real models built with onnx.helper to the
contracts of "Make predictions with ONNX on computer vision models from AutoML", loaded through
``load()`` from folders and zips, and served over HTTP by the real module process."""

from __future__ import annotations

import io
import json
from dataclasses import astuple
import os
import hashlib
import subprocess
import sys
import threading
import urllib.request
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from classifier.app import create_app
from classifier.export import load
from classifier.model import ModelLoadError
from classifier.zipsafety import UnpackLimits
from classifier.fetch import AddressGuard
from classifier.serving import ModelSlot, ModelUpdater
from classifier.settings import ClassifierSettings
from conftest import ROOT, free_port, wait_for

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
# Classification head: logits = W @ (per-channel mean of the normalised input) + B.
W = np.array([[1.0, -2.0, 0.5], [-1.0, 1.5, 2.0], [0.3, 0.2, -0.4]], dtype=np.float32)
B = np.array([0.1, -0.2, 0.05], dtype=np.float32)
FRIDGE = ["can", "carton", "milk_bottle"]


def _save(path: Path, nodes: list, inputs: list, outputs: list, labels: list[str], initializers: list | None = None) -> Path:
    graph = helper.make_graph(nodes, "automl", inputs, outputs, initializers or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    (path / "labels.json").write_text(json.dumps(labels))
    return path


def _classifier(path: Path, labels: list[str] = FRIDGE, size: int = 224) -> Path:
    """AutoML classification contract: input1 [batch,3,224,224] -> output1 [batch, classes] logits
    (a conv-free GAP + Gemm head with constant weights)."""
    return _save(path, [helper.make_node("GlobalAveragePool", ["input1"], ["pooled"]),
                        helper.make_node("Flatten", ["pooled"], ["features"], axis=1),
                        helper.make_node("Gemm", ["features", "W", "B"], ["output1"], transB=1)],
                 [helper.make_tensor_value_info("input1", TensorProto.FLOAT, ["batch", 3, size, size])],
                 [helper.make_tensor_value_info("output1", TensorProto.FLOAT, ["batch", len(W)])],
                 labels, [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")])


def _constant(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name + "_value"))


def _rcnn(path: Path, order: tuple[str, ...], boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray,
          classes: list[str], height: int = 60, width: int = 80) -> Path:
    """AutoML Faster R-CNN / RetinaNet contract: input [1,3,H,W]; outputs boxes_0 [n,4] (x_min, y_min,
    x_max, y_max, input px), labels_0 [n] int64, scores_0 [n], in ``order``; values from constants."""
    values = {"boxes": boxes.astype(np.float32), "labels": labels.astype(np.int64), "scores": scores.astype(np.float32)}
    types = {"boxes": TensorProto.FLOAT, "labels": TensorProto.INT64, "scores": TensorProto.FLOAT}
    return _save(path, [_constant(f"{kind}_0", values[kind]) for kind in order],
                 [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
                 [helper.make_tensor_value_info(f"{kind}_0", types[kind], list(values[kind].shape)) for kind in order],
                 classes)


def _yolo(path: Path, candidates: np.ndarray, classes: list[str], size: int = 64) -> Path:
    """AutoML YOLO contract: input [1,3,S,S]; first output [1, K, 5 + classes] (cx, cy, w, h input px,
    objectness, class scores), here constants."""
    return _save(path, [_constant("output", candidates[None].astype(np.float32))],
                 [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
                 [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, *candidates.shape])], classes)


def _zip(folder: Path, archive: Path, inner: str = "automl_models/") -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, inner + f.name)
    return archive


def _solid(rgb: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> Image.Image:
    return Image.new("RGB", size, rgb)


def _logits(rgb: tuple[int, int, int]) -> np.ndarray:
    """The head's logits for a solid-colour image, computed from the documented normalisation."""
    return W.astype(np.float64) @ ((np.array(rgb) / 255.0 - MEAN) / STD) + B


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _tags(predictions) -> dict[str, float]:
    return {p.tagName: p.probability for p in predictions}


# --- classification ----------------------------------------------------------------------------


def test_multiclass_folder_softmax_over_imagenet_normalised_rgb(tmp_path: Path) -> None:
    model = load(_classifier(tmp_path / "mc"))
    assert model.info.flavour == "automl-multiclass" and model.info.task == "classification"
    assert model.labels == tuple(FRIDGE) and (model.spec.height, model.spec.width, model.spec.layout) == (224, 224, "NCHW")
    colour = (200, 40, 90)
    expected = _softmax(_logits(colour))
    predictions = model.classify(_solid(colour))
    assert [p.tagName for p in predictions] == FRIDGE  # one per label, in label order, like Custom Vision classifiers
    assert [p.probability for p in predictions] == pytest.approx(expected.tolist(), abs=1e-4)  # float32 network


def test_multiclass_resizes_the_shorter_side_then_centre_crops(tmp_path: Path) -> None:
    """400x300: shorter side to 256 (341x256), centre 224 crop = source x 68..330, y 19..281. A blue
    frame outside that is cropped away (a stretch would keep it); the red inside is all the model sees."""
    model = load(_classifier(tmp_path / "mc"))
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:] = (0, 0, 255)
    pixels[12:288, 60:340] = (255, 0, 0)
    tensor = model.preprocess(Image.fromarray(pixels))
    assert tensor.shape == (1, 3, 224, 224) and tensor.dtype == np.float32
    red = ((np.array([255, 0, 0]) / 255.0 - MEAN) / STD).astype(np.float32)
    assert np.abs(tensor[0] - red[:, None, None]).max() < 1e-5


def test_multilabel_from_the_run_settings_is_a_sigmoid_per_label(tmp_path: Path) -> None:
    folder = _classifier(tmp_path / "ml")
    (folder / "settings.json").write_text(json.dumps({"task_type": "image-classification-multilabel"}))
    model = load(folder)
    assert model.info.flavour == "automl-multilabel"
    colour = (10, 220, 130)
    expected = 1.0 / (1.0 + np.exp(-_logits(colour)))
    assert [p.probability for p in model.classify(_solid(colour))] == pytest.approx(expected.tolist(), abs=1e-4)


def test_multiclass_from_a_zip_with_the_files_in_a_folder(tmp_path: Path) -> None:
    archive = _zip(_classifier(tmp_path / "mc"), tmp_path / "automl.zip")
    model = load(archive)
    assert model.info.flavour == "automl-multiclass" and model.info.source == str(archive)
    colour = (30, 60, 250)
    expected = _softmax(_logits(colour))
    assert [p.probability for p in model.classify(_solid(colour))] == pytest.approx(expected.tolist(), abs=1e-4)


# --- object detection --------------------------------------------------------------------------

RCNN_CLASSES = ["--bg--", "can", "carton"]  # AutoML's detection labels start with the background class
RCNN_BOXES = np.array([[8, 6, 40, 30], [60, 30, 100, 70], [0, 0, 80, 60], [10, 10, 20, 20]])  # input px, 80x60 input
RCNN_LABELS = np.array([1, 2, 0, 1])
RCNN_SCORES = np.array([0.9, 0.95, 0.99, 0.05])


@pytest.mark.parametrize("order, flavour", [(("boxes", "labels", "scores"), "automl-fasterrcnn"),
                                            (("boxes", "scores", "labels"), "automl-retinanet")])
def test_rcnn_boxes_are_normalised_clipped_and_most_probable_first(tmp_path: Path, order: tuple[str, ...],
                                                                   flavour: str) -> None:
    model = load(_rcnn(tmp_path / "od", order, RCNN_BOXES, RCNN_LABELS, RCNN_SCORES, RCNN_CLASSES))
    assert model.info.flavour == flavour and model.info.task == "detection"
    found = model.classify(_solid((1, 2, 3), (1280, 720)))  # boxes are relative to the input: any image size
    # background (0.99) and below-threshold (0.05) detections are not answered
    assert [(p.tagName, p.probability) for p in found] == [("carton", pytest.approx(0.95)), ("can", pytest.approx(0.9))]
    # (60,30)-(100,70) of 80x60: x 0.75..1.25, y 0.5..1.17, clipped to the image
    assert astuple(found[0].boundingBox) == pytest.approx((0.75, 0.5, 0.25, 0.5))
    assert astuple(found[1].boundingBox) == pytest.approx((0.1, 0.1, 0.4, 0.4))


def test_rcnn_input_is_the_stretched_image_imagenet_normalised(tmp_path: Path) -> None:
    model = load(_rcnn(tmp_path / "od", ("boxes", "labels", "scores"), RCNN_BOXES, RCNN_LABELS, RCNN_SCORES, RCNN_CLASSES))
    tensor = model.preprocess(_solid((0, 128, 255), (333, 100)))
    assert tensor.shape == (1, 3, 60, 80)
    expected = ((np.array([0, 128, 255]) / 255.0 - MEAN) / STD).astype(np.float32)
    assert np.abs(tensor[0] - expected[:, None, None]).max() < 1e-5


YOLO_CLASSES = ["can", "carton"]
# cx, cy, w, h (px of the 64x64 input), objectness, score per class
YOLO_CANDIDATES = np.array([
    [16, 32, 32, 16, 0.9, 0.1, 0.8],  # carton 0.72
    [17, 32, 32, 16, 0.8, 0.2, 0.7],  # carton 0.56, overlaps the first (IoU 0.94): suppressed
    [16, 32, 32, 16, 0.9, 0.7, 0.1],  # can 0.63, same box, another class: kept
    [56, 40, 24, 24, 0.5, 0.6, 0.1],  # can 0.30, reaches past the image: clipped
    [40, 20, 8, 8, 0.2, 0.4, 0.2],  # can 0.08: below the 0.1 threshold
])


def _yolo_expected() -> list[tuple[str, float, tuple[float, float, float, float]]]:
    """A 128x64 image letterboxed into 64x64: scaled 0.5 to 64x32, 16 px of grey above and below.
    Box (x1, y1, x2, y2) in input px -> ((x1 - 0) / 64, (y1 - 16) / 32, ...), clipped to 0-1."""
    return [("carton", 0.72, (0.0, 0.25, 0.5, 0.5)), ("can", 0.63, (0.0, 0.25, 0.5, 0.5)),
            ("can", 0.30, (44 / 64, 12 / 32, 1 - 44 / 64, 1 - 12 / 32))]


def _check_yolo(found: list[tuple[str, float, tuple[float, ...]]]) -> None:
    expected = _yolo_expected()
    assert [tag for tag, _, _ in found] == [tag for tag, _, _ in expected]
    for (_, probability, box), (_, want, want_box) in zip(found, expected, strict=True):
        assert probability == pytest.approx(want, abs=1e-6) and box == pytest.approx(want_box, abs=1e-6)


def test_yolo_letterbox_candidates_suppressed_per_class(tmp_path: Path) -> None:
    model = load(_yolo(tmp_path / "yolo", YOLO_CANDIDATES, YOLO_CLASSES))
    assert model.info.flavour == "automl-yolo" and model.info.task == "detection"
    image = _solid((255, 0, 0), (128, 64))
    tensor = model.preprocess(image)
    assert tensor.shape == (1, 3, 64, 64)
    assert np.allclose(tensor[0, :, :16], 114 / 255) and np.allclose(tensor[0, :, 48:], 114 / 255)  # grey padding
    assert np.allclose(tensor[0, :, 16:48], np.array([1.0, 0.0, 0.0])[:, None, None])  # 0-1 RGB, no mean/std
    _check_yolo([(p.tagName, p.probability, astuple(p.boundingBox)) for p in model.classify(image)])


def test_yolo_from_a_zip(tmp_path: Path) -> None:
    model = load(_zip(_yolo(tmp_path / "yolo", YOLO_CANDIDATES, YOLO_CLASSES), tmp_path / "yolo.zip", inner=""))
    _check_yolo([(p.tagName, p.probability, astuple(p.boundingBox)) for p in model.classify(_solid((0, 0, 0), (128, 64)))])


# --- exports that are AutoML only in part: one sentence each -------------------------------------


def test_labels_json_that_does_not_fit_the_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"labels.json lists 2 classes but the model's outputs .*output1 \[None, 3\].*"
                                             r"fit no AutoML form"):
        load(_classifier(tmp_path / "mc", labels=["can", "carton"]))


@pytest.mark.parametrize("content", ['{"0": "can"}', "[]", "[1, 2, 3]", "not json"])
def test_labels_json_that_is_not_a_list_of_names_is_refused(tmp_path: Path, content: str) -> None:
    folder = _classifier(tmp_path / "mc")
    (folder / "labels.json").write_text(content)
    with pytest.raises(ModelLoadError, match="labels.json (is not a JSON list of class names|is not valid JSON)"):
        load(folder)


def test_labels_json_beside_labels_txt_is_refused(tmp_path: Path) -> None:
    folder = _classifier(tmp_path / "mc")
    (folder / "labels.txt").write_text("can\ncarton\nmilk_bottle\n")
    with pytest.raises(ModelLoadError, match="both labels.txt .* and labels.json .*: keep only the labels file"):
        load(folder)


def test_detection_model_missing_an_output_is_refused(tmp_path: Path) -> None:
    folder = _rcnn(tmp_path / "od", ("boxes", "scores"), RCNN_BOXES, RCNN_LABELS, RCNN_SCORES, RCNN_CLASSES)
    with pytest.raises(ModelLoadError, match="has no labels output"):
        load(folder)


def test_instance_segmentation_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "seg"
    masks = np.zeros((1, 1, 6, 8), np.float32)
    _save(folder, [_constant(n, v) for n, v in {"boxes_0": np.zeros((1, 4), np.float32), "labels_0": np.zeros(1, np.int64),
                                                "scores_0": np.zeros(1, np.float32), "masks_0": masks}.items()],
          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 6, 8])],
          [helper.make_tensor_value_info("boxes_0", TensorProto.FLOAT, [1, 4]),
           helper.make_tensor_value_info("labels_0", TensorProto.INT64, [1]),
           helper.make_tensor_value_info("scores_0", TensorProto.FLOAT, [1]),
           helper.make_tensor_value_info("masks_0", TensorProto.FLOAT, [1, 1, 6, 8])], RCNN_CLASSES)
    with pytest.raises(ModelLoadError, match="instance segmentation model .* not served"):
        load(folder)


def test_labels_json_linking_out_of_the_export_is_refused(tmp_path: Path) -> None:
    folder = _classifier(tmp_path / "mc")
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(FRIDGE))
    (folder / "labels.json").unlink()
    (folder / "labels.json").symlink_to(outside)
    with pytest.raises(ModelLoadError, match="points outside the export folder"):
        load(folder)


def test_automl_zip_is_unpacked_within_the_caps(tmp_path: Path) -> None:
    archive = _zip(_classifier(tmp_path / "mc"), tmp_path / "automl.zip")
    with pytest.raises(ModelLoadError, match="the export zip unpacks to more than 0 MiB"):
        load(archive, limits=UnpackLimits(total_bytes=100))


# --- through the module's real HTTP service ------------------------------------------------------


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.loads(reply.read())


def test_yolo_zip_served_by_the_module_answers_custom_vision_bounding_boxes(tmp_path: Path) -> None:
    archive = _zip(_yolo(tmp_path / "yolo", YOLO_CANDIDATES, YOLO_CLASSES), tmp_path / "yolo.zip")
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(archive), "PORT": str(port), "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    log = tmp_path / "service.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def ready() -> dict | None:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return _get(f"{base}/health/ready")
        except OSError:
            return None

    try:
        status = wait_for(ready, 30)
        assert status["model"]["flavour"] == "automl-yolo" and status["model"]["task"] == "detection"
        request = urllib.request.Request(f"{base}/image", data=_png(_solid((0, 128, 0), (128, 64))),
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = json.loads(reply.read())
    finally:
        process.terminate()
        process.wait(timeout=15)
    predictions = body["predictions"]
    assert all(list(p) == ["tagName", "probability", "tagId", "boundingBox"] for p in predictions)
    _check_yolo([(p["tagName"], p["probability"], tuple(p["boundingBox"][k] for k in ("left", "top", "width", "height")))
                 for p in predictions])


def _png(image: Image.Image) -> bytes:
    data = io.BytesIO()
    image.save(data, "PNG")
    return data.getvalue()


def test_live_model_url_update_swaps_to_an_automl_zip(tmp_path: Path) -> None:
    """The twin's modelUrl path: download, verify, unpack within the caps, load, swap; then /image answers boxes."""
    served = tmp_path / "served"
    served.mkdir()
    archive = _zip(_rcnn(tmp_path / "od", ("boxes", "labels", "scores"), RCNN_BOXES, RCNN_LABELS, RCNN_SCORES, RCNN_CLASSES),
                   served / "od.zip")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slot = ModelSlot(load(_classifier(tmp_path / "mc")))
    reported: dict = {}
    updater = ModelUpdater(slot, reported.update, tmp_path / "mc", cache_dir=tmp_path / "cache", timeout_s=5,
                           guard=AddressGuard(["127.0.0.1"], "MODEL_URL_ALLOWED_HOSTS"))
    try:
        updater.request(f"http://127.0.0.1:{server.server_address[1]}/od.zip", hashlib.sha256(archive.read_bytes()).hexdigest())
        assert updater.wait_idle(30)
        assert reported["modelUpdate"]["status"] == "applied", reported["modelUpdate"]
        assert reported["model"]["flavour"] == "automl-fasterrcnn"
        reply = create_app(slot, ClassifierSettings()).test_client().post(
            "/image", data=_png(_solid((9, 9, 9))), content_type="application/octet-stream")
    finally:
        updater.close()
        server.shutdown()
    assert reply.status_code == 200
    predictions = reply.get_json()["predictions"]
    assert [p["tagName"] for p in predictions] == ["carton", "can"]
    assert predictions[0]["boundingBox"] == pytest.approx({"left": 0.75, "top": 0.5, "width": 0.25, "height": 0.5})
    assert predictions[1]["boundingBox"] == pytest.approx({"left": 0.1, "top": 0.1, "width": 0.4, "height": 0.4})
