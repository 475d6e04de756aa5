"""A classifier of your own, described by ``model.json``: a small real ONNX model built with onnx.helper (a dense
layer over every input value, so each pixel of the prepared image counts), served through the same API; its
answers are computed here with numpy from the documented recipe of the description (Pillow resize, crop, colour
order, range, mean and std, layout, softmax or sigmoid). A wrong field is refused with its name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from classifier.app import create_app
from classifier.export import load
from classifier.model import ModelLoadError
from classifier.preprocess import decode
from classifier.settings import ClassifierSettings
from conftest import IMAGES

LABELS = ["cat", "dog", "fox"]
WIDTH, HEIGHT = 12, 9
RNG = np.random.default_rng(2024)
WEIGHTS = RNG.normal(0, 0.05, (3 * HEIGHT * WIDTH, len(LABELS))).astype(np.float32)
BIAS = np.array([0.1, -0.2, 0.05], dtype=np.float32)
TORCH = {"colour": "RGB", "range": [0, 1], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
         "resize": "shorter_side", "resize_to": 14, "crop": "centre", "interpolation": "bilinear"}


def dense_model(folder: Path, layout: str, input_name: str = "pixels", batch: Any = "batch") -> Path:
    """``logits = flatten(input) @ WEIGHTS + BIAS``: input [N,3,H,W] or [N,H,W,3] float32, output ``logits`` [N,3]."""
    shape = [batch, 3, HEIGHT, WIDTH] if layout == "NCHW" else [batch, HEIGHT, WIDTH, 3]
    nodes = [helper.make_node("Flatten", [input_name], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "W", "B"], ["logits"])]
    graph = helper.make_graph(nodes, "own", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, len(LABELS)])],
                              [numpy_helper.from_array(WEIGHTS, "W"), numpy_helper.from_array(BIAS, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, folder / "model.onnx")
    return folder


def describe(folder: Path, **fields: Any) -> Path:
    (folder / "model.json").write_text(json.dumps(fields), encoding="utf-8")
    return folder


def expected(path: Path, fields: dict[str, Any]) -> np.ndarray:
    """The probabilities the description promises for the photo at ``path``, computed with Pillow and numpy."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    method = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}[fields["interpolation"]]
    if fields["resize"] == "stretch":
        image = image.resize((WIDTH, HEIGHT), method)
    else:  # shorter side to resize_to, aspect kept, then the centre WIDTH x HEIGHT
        scale = fields["resize_to"] / min(image.size)
        new_w, new_h = round(image.width * scale), round(image.height * scale)
        image = image.resize((new_w, new_h), method)
        left, top = (new_w - WIDTH) // 2, (new_h - HEIGHT) // 2
        image = image.crop((left, top, left + WIDTH, top + HEIGHT))
    pixels = np.asarray(image, dtype=np.float64)
    if fields["colour"] == "BGR":
        pixels = pixels[:, :, [2, 1, 0]]
    low, high = fields["range"]
    values = (low + pixels / 255.0 * (high - low) - np.array(fields["mean"])) / np.array(fields["std"])
    tensor = values.transpose(2, 0, 1) if fields["layout"] == "NCHW" else values
    logits = tensor.reshape(-1) @ WEIGHTS.astype(np.float64) + BIAS
    if fields["scores"] == "softmax":
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()
    return 1.0 / (1.0 + np.exp(-logits))


PHOTOS = sorted(IMAGES.glob("*.jpg"))


@pytest.mark.parametrize("fields", [
    {**TORCH, "layout": "NCHW", "input": "pixels", "labels_file": "labels.txt", "scores": "softmax"},
    {"layout": "NHWC", "size": [WIDTH, HEIGHT], "colour": "BGR", "range": [-1, 1], "resize": "stretch", "crop": "none",
     "interpolation": "bicubic", "labels": LABELS, "scores": "sigmoid", "output": "logits"},
], ids=["torchvision-NCHW-softmax", "inception-NHWC-BGR-sigmoid"])
def test_a_described_model_answers_as_its_description_says(fields: dict[str, Any], tmp_path: Path) -> None:
    folder = dense_model(tmp_path / "own", fields["layout"])
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    fields = {"size": [WIDTH, HEIGHT], "mean": [0, 0, 0], "std": [1, 1, 1], **fields}
    describe(folder, **fields)
    model = load(folder)
    assert (model.info.flavour, model.info.task, model.labels) == ("described", "classification", tuple(LABELS))
    client = create_app(model, ClassifierSettings()).test_client()
    spread = []
    for photo in PHOTOS:
        reply = client.post("/image", data=photo.read_bytes(), content_type="application/octet-stream")
        assert reply.status_code == 200
        answered = {p["tagName"]: p["probability"] for p in reply.get_json()["predictions"]}
        want = expected(photo, fields)
        assert [answered.get(label, 0.0) for label in LABELS] == pytest.approx(want, abs=1e-5)
        spread.append(want)
    assert np.ptp(np.array(spread), axis=0).max() > 0.05  # the photos give different answers: the pixels count


def test_the_in_process_tensor_is_the_description_applied(tmp_path: Path) -> None:
    folder = describe(dense_model(tmp_path / "own", "NCHW"), size=[WIDTH, HEIGHT], layout="NCHW", labels=LABELS,
                      scores="probabilities", **{**TORCH, "colour": "BGR", "range": [0, 255], "mean": [10, 20, 30],
                                                 "std": [2, 4, 8]})
    model = load(folder)
    tensor = model.preprocess(decode(PHOTOS[0].read_bytes()))
    assert tensor.shape == (1, 3, HEIGHT, WIDTH) and tensor.dtype == np.float32
    logits = tensor.astype(np.float64).reshape(-1) @ WEIGHTS + BIAS  # "probabilities": the output as it is
    assert [p.probability for p in model.classify(decode(PHOTOS[0].read_bytes()))] == pytest.approx(logits, abs=1e-4)


GOOD = {"layout": "NCHW", "size": [WIDTH, HEIGHT], "resize": "stretch", "crop": "none", "labels": LABELS,
        "scores": "softmax"}


@pytest.mark.parametrize("change, message", [
    ({"layout": "CHW"}, "layout: Input should be 'NCHW' or 'NHWC'"),
    ({"layout": "NHWC"}, "layout: NHWC does not fit the model's input 'pixels' of shape ['?', 3, 9, 12]"),
    ({"size": [224, 224]}, "size: [224, 224] does not fit the model's input 'pixels'"),
    ({"size": [0, 9]}, "size: [width, height] px, each 1-4096; got [0, 9]"),
    ({"colour": "RGBA"}, "colour: Input should be 'RGB' or 'BGR'"),
    ({"range": [1, 1]}, "range: [value of pixel 0, value of pixel 255] must differ"),
    ({"std": [0.2, 0, 0.2]}, "std: each channel's must be above 0"),
    ({"mean": [0.5, 0.5]}, "mean: too few values (item 3 missing)"),
    ({"resize": "squash"}, "resize: Input should be 'stretch' or 'shorter_side'"),
    ({"crop": "centre"}, "crop: with resize stretch the whole image is the input: crop must be none"),
    ({"std": [0.2, "x", 0.2]}, "std: item 2: Input should be a valid number"),
    ({"interpolation": "area"}, "interpolation: Input should be 'nearest', 'bilinear', 'bicubic' or 'lanczos'"),
    ({"labels": ["cat", "cat", "fox"]}, "labels: 'cat' is listed twice"),
    ({"labels": ["cat", "dog"]}, "labels: 2 names, but the model's output 'logits' gives 3 scores"),
    ({"labels_file": "labels.txt"}, "labels, labels_file: give exactly one"),
    ({"scores": "argmax"}, "scores: Input should be 'probabilities', 'softmax' or 'sigmoid'"),
    ({"input": "image"}, "input: 'image' is not the model's first input (its inputs: 'pixels')"),
    ({"output": "probs"}, "output: 'probs' is not an output of the model (its outputs: 'logits')"),
    ({"normalise": True}, "normalise: not a field of model.json"),
])
def test_a_wrong_field_is_refused_naming_it_in_one_line(change: dict[str, Any], message: str, tmp_path: Path) -> None:
    folder = describe(dense_model(tmp_path / "own", "NCHW"), **{**GOOD, **change})
    with pytest.raises(ModelLoadError) as refused:
        load(folder)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    folder = describe(dense_model(tmp_path / "own", "NCHW"), **{k: v for k, v in GOOD.items() if k != "scores"})
    with pytest.raises(ModelLoadError, match=r"model\.json: scores: required"):
        load(folder)
