"""Builds TensorFlow Lite exports with TensorFlow's own converter; run in .venv-convert.

Usage: python tests/tf_exports.py FIXTURE_MODELS OUT_DIR

- ``OUT_DIR/<name>-tflite/``: each fixture's frozen graph (``model.pb``) converted to
  ``model.tflite`` as Custom Vision's TensorFlowLite flavour is (same input ``Placeholder``
  NHWC BGR 0-255, output ``loss``), with its ``labels.txt``.
- ``OUT_DIR/s1-tflite/``: an S1-style classifier: input [1,300,300,3] RGB 0-255, output
  ``model_output`` = each channel's mean / 255, labels r, g, b.
- ``OUT_DIR/detector-tflite/``: a compact detector: input [1,128,128,3] BGR 0-255, output the
  raw grid [1,4,4,5*(5+2)] from a 32 px average pool and a 1x1 convolution (see
  ``detector_weights`` in test_export_flavours.py, shared through ``detector.npz``).

:func:`frozen_graph_outputs` runs a fixture's ``model.pb`` itself (any venv with TensorFlow), the
reference test_convert_export.py holds the converted models to.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


def convert_session(build, out: Path, labels: list[str]) -> None:
    graph = tf.Graph()
    with graph.as_default():
        inputs, output = build()
        with v1.Session(graph=graph) as session:
            converter = v1.lite.TFLiteConverter.from_session(session, [inputs], [output])
            content = converter.convert()
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.tflite").write_bytes(content)
    (out / "labels.txt").write_text("\n".join(labels) + "\n")


def main(fixtures: Path, out: Path) -> None:
    for model in ("apples-bananas", "fruits"):
        target = out / f"{model}-tflite"
        target.mkdir(parents=True, exist_ok=True)
        converter = v1.lite.TFLiteConverter.from_frozen_graph(str(fixtures / model / "model.pb"), ["Placeholder"], ["loss"])
        (target / "model.tflite").write_bytes(converter.convert())
        shutil.copy(fixtures / model / "labels.txt", target / "labels.txt")

    def s1():
        data = v1.placeholder(tf.float32, [1, 300, 300, 3], name="data")
        return data, tf.identity(tf.reduce_mean(data, axis=[1, 2]) / 255.0, name="model_output")

    convert_session(s1, out / "s1-tflite", ["r", "g", "b"])

    weights = np.load(out / "detector.npz")

    def detector():
        data = v1.placeholder(tf.float32, [1, 128, 128, 3], name="data")
        pooled = tf.nn.avg_pool2d(data / 255.0, 32, 32, "VALID")  # [1,4,4,3] cell means, BGR 0-1
        kernel = tf.constant(weights["kernel"].reshape(1, 1, 3, -1))  # [1,1,3,35]
        grid = tf.nn.conv2d(pooled, kernel, 1, "VALID") + tf.constant(weights["bias"])
        return data, tf.identity(grid, name="model_outputs0")

    convert_session(detector, out / "detector-tflite", ["red", "blue"])


def frozen_graph_outputs(graph: Path, tensors: Path, out: Path) -> None:
    """Run a TF1 frozen graph in TensorFlow itself, as the original container does: ``graph`` a
    Custom Vision ``model.pb`` (input ``Placeholder:0``, output ``loss:0``), ``tensors`` a .npy of
    prepared float32 images [N,H,W,3]; saves the output [N, labels] to ``out`` (.npy).
    Used by test_convert_export.py as the reference for the converted models."""
    graph_def = v1.GraphDef()
    graph_def.ParseFromString(graph.read_bytes())
    tf_graph = tf.Graph()
    with tf_graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with v1.Session(graph=tf_graph) as session:
        np.save(out, session.run("loss:0", {"Placeholder:0": np.load(tensors)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
