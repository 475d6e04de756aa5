"""Builds the embedded demo: a colour classifier in Custom Vision's ONNX export format, and a clip.

Run ``python demo/make_demo.py`` (``make demo-assets``) to rebuild; the output is deterministic.

- ``modules/ImageClassifierService/model/``: ``model.onnx``, ``labels.txt``,
  ``metadata_properties.json`` and ``cvexport.manifest``, laid out as a current Custom Vision
  compact ONNX export: input ``data`` [N,3,224,224] NCHW, RGB scaled 0-1, stretch resize (all
  read by the classifier from the metadata), output ``model_output`` [N,4] of independent
  (sigmoid) probabilities for Red, Yellow, Green, Blue.
  The network: 1x1 colour-opponent convolution, ReLU, global average pool, then a logistic
  layer trained here with numpy on scenes drawn by the same code as the clip.
- ``modules/ImageClassifierService/model/model.tflite``: the same network for TensorFlow Lite
  (the arm32v7 image's runtime), converted by demo/make_tflite.py with TensorFlow's converter in
  the venv named by TENSORFLOW_PYTHON (default .venv-convert/bin/python, which
  ``make convert-venv`` makes). ``--tflite`` rebuilds only this file from the existing model.onnx.
- ``demo/colours.mp4``: 640x480, 10 fps, mp4v: 2 s each of a red, yellow, (nothing), green,
  blue and red object on a table, so a tag-change pipeline reports Red, Yellow, Green, Blue, Red.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "modules" / "ImageClassifierService" / "model"
CLIP = ROOT / "demo" / "colours.mp4"

LABELS = ("Red", "Yellow", "Green", "Blue")
COLOURS_RGB = {"Red": (200, 30, 35), "Yellow": (235, 205, 40), "Green": (40, 160, 60), "Blue": (35, 70, 190)}
NEGATIVE_RGB = [(235, 235, 235), (25, 25, 25), (128, 128, 128), (150, 120, 95)]
CLIP_SEQUENCE = ("Red", "Yellow", None, "Green", "Blue", "Red")
SIZE = 224
FPS = 10
SEGMENT_FRAMES = 20
WIDTH, HEIGHT = 640, 480

# 1x1 convolution: one colour-opponent detector per label (R, G, B weights).
OPPONENTS = np.array(
    [[1.0, -0.6, -0.6], [0.6, 0.6, -1.0], [-0.6, 1.0, -0.6], [-0.6, -0.3, 1.0]], dtype=np.float32
)


def draw_scene(rng: np.random.Generator, rgb: tuple[int, int, int] | None, t: float = 0.0) -> np.ndarray:
    """A 640x480 RGB uint8 table top, with an object of colour ``rgb`` (None: nothing) swaying with ``t``."""
    top = np.array([150, 140, 125]) + rng.integers(-15, 15, 3)
    bottom = np.array([95, 80, 65]) + rng.integers(-15, 15, 3)
    ramp = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    image = (top * (1 - ramp) + bottom * ramp).repeat(WIDTH, axis=1).astype(np.uint8)
    image = np.ascontiguousarray(image)
    if rgb is not None:
        cx = int(WIDTH / 2 + 60 * np.sin(t * 2.0) + rng.integers(-40, 40))
        cy = int(HEIGHT / 2 + 20 * np.cos(t * 1.5) + rng.integers(-30, 30))
        axes = (int(rng.integers(90, 150)), int(rng.integers(80, 130)))
        shade = tuple(int(np.clip(c * rng.uniform(0.85, 1.1), 0, 255)) for c in rgb)
        cv2.ellipse(image, (cx, cy), axes, float(rng.integers(0, 180)), 0, 360, shade, -1, cv2.LINE_AA)
        highlight = tuple(int(min(255, c + 50)) for c in shade)
        cv2.circle(image, (cx - axes[0] // 3, cy - axes[1] // 3), max(6, axes[1] // 6), highlight, -1, cv2.LINE_AA)
    return image


def features(image_rgb: np.ndarray) -> np.ndarray:
    """What the network computes before its logistic layer: mean ReLU(opponent colour), shape [4]."""
    small = cv2.resize(image_rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    return np.maximum(small.reshape(-1, 3) @ OPPONENTS.T, 0.0).mean(axis=0)


def train(rng: np.random.Generator, per_class: int = 60, steps: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic regression on features of drawn scenes; returns W [4,4], b [4]."""
    xs, ys = [], []
    for index, label in enumerate(LABELS):
        for _ in range(per_class):
            xs.append(features(draw_scene(rng, COLOURS_RGB[label], rng.uniform(0, 10))))
            ys.append(np.eye(len(LABELS))[index])
    for _ in range(per_class * 2):
        negative = None if rng.random() < 0.5 else NEGATIVE_RGB[int(rng.integers(len(NEGATIVE_RGB)))]
        xs.append(features(draw_scene(rng, negative, rng.uniform(0, 10))))
        ys.append(np.zeros(len(LABELS)))
    x, y = np.array(xs) * 10.0, np.array(ys)
    w, b = np.zeros((len(LABELS), x.shape[1])), np.zeros(len(LABELS))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w.T + b)))
        w -= 0.5 * ((p - y).T @ x / len(x) + 1e-3 * w)
        b -= 0.5 * (p - y).mean(axis=0)
    p = 1.0 / (1.0 + np.exp(-(x @ w.T + b)))
    accuracy = ((p >= 0.5) == (y == 1)).all(axis=1).mean()
    print(f"trained on {len(x)} scenes: {accuracy:.1%} exactly right at threshold 0.5")
    return (w * 10.0).astype(np.float32), b.astype(np.float32)


def build_model(w: np.ndarray, b: np.ndarray) -> onnx.ModelProto:
    """data [N,3,224,224] -> Conv1x1 -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Sigmoid -> model_output."""
    nodes = [
        helper.make_node("Conv", ["data", "opponent_w"], ["opponent"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["opponent"], ["opponent_relu"]),
        helper.make_node("GlobalAveragePool", ["opponent_relu"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["colour_features"], axis=1),
        helper.make_node("Gemm", ["colour_features", "logistic_w", "logistic_b"], ["logits"], transB=1),
        helper.make_node("Sigmoid", ["logits"], ["model_output"]),
    ]
    initializers = [
        numpy_helper.from_array(OPPONENTS.reshape(len(LABELS), 3, 1, 1), "opponent_w"),
        numpy_helper.from_array(w, "logistic_w"),
        numpy_helper.from_array(b, "logistic_b"),
    ]
    graph = helper.make_graph(
        nodes, "colour_classifier",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["None", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("model_output", TensorProto.FLOAT, ["None", len(LABELS)])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], producer_name="iotedge-vision demo")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_export(model: onnx.ModelProto) -> None:
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    data = model.SerializeToString()
    (MODEL_DIR / "model.onnx").write_bytes(data)
    (MODEL_DIR / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    metadata = {
        "Image.BitmapPixelFormat": "Rgb8",
        "Image.NominalPixelRange": "Normalized_0_1",
        "Image.ColorSpaceGamma": "SRGB",
        "CustomVision.Preprocess.ResizeMethod": "Stretch",
        "CustomVision.Preprocess.CropMethod": "NoCrop",
        "CustomVision.Preprocess.TargetWidth": str(SIZE),
        "CustomVision.Preprocess.TargetHeight": str(SIZE),
    }
    (MODEL_DIR / "metadata_properties.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    manifest = {
        "DomainType": "Classification", "Platform": "ONNX", "Flavor": None, "ExporterVersion": "2.0",
        "ModelFileName": "model.onnx", "LabelFileName": "labels.txt", "MetadataPropsFileName": "metadata_properties.json",
        "ModelFileSHA1": hashlib.sha1(data).hexdigest(),
    }
    (MODEL_DIR / "cvexport.manifest").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")



def write_tflite(model: onnx.ModelProto) -> None:
    """model.tflite beside model.onnx, from the ONNX model's own weights."""
    python = Path(os.environ.get("TENSORFLOW_PYTHON", ROOT / ".venv-convert" / "bin" / "python"))
    if not python.exists():
        raise SystemExit(f"{python} not found: run `make convert-venv` or set TENSORFLOW_PYTHON")
    weights = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "weights.npz"
        np.savez(npz, opponents=weights["opponent_w"].reshape(len(LABELS), 3), w=weights["logistic_w"], b=weights["logistic_b"])
        subprocess.run([str(python), str(ROOT / "demo" / "make_tflite.py"), str(npz), str(MODEL_DIR / "model.tflite")],
                       check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    manifest_path = MODEL_DIR / "cvexport.manifest"  # the manifest vouches for the twin: the loader serves no other file
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["AlternateModelFiles"] = {"model.tflite": hashlib.sha1((MODEL_DIR / "model.tflite").read_bytes()).hexdigest()}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def write_clip(rng: np.random.Generator) -> None:
    writer = cv2.VideoWriter(str(CLIP), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise SystemExit(f"cannot write {CLIP}")
    for segment, label in enumerate(CLIP_SEQUENCE):
        scene_rng = np.random.default_rng(int(rng.integers(1 << 31)))
        state = scene_rng.bit_generator.state
        for frame in range(SEGMENT_FRAMES):
            scene_rng.bit_generator.state = state  # same scene, swaying over time
            rgb = COLOURS_RGB[label] if label else None
            writer.write(cv2.cvtColor(draw_scene(scene_rng, rgb, segment + frame / FPS), cv2.COLOR_RGB2BGR))
    writer.release()


def main() -> None:
    if "--tflite" in sys.argv[1:]:
        write_tflite(onnx.load(MODEL_DIR / "model.onnx"))
        print(f"wrote {MODEL_DIR.relative_to(ROOT)}/model.tflite")
        return
    rng = np.random.default_rng(20261120)
    w, b = train(rng)
    model = build_model(w, b)
    write_export(model)
    write_tflite(model)
    write_clip(rng)
    print(f"wrote {MODEL_DIR.relative_to(ROOT)}/ and {CLIP.relative_to(ROOT)} ({CLIP.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
