"""Converts the demo colour classifier to TensorFlow Lite; run in a venv with TensorFlow.

Usage: python demo/make_tflite.py WEIGHTS.npz OUT/model.tflite (called by make_demo.py).

The same network as model.onnx, in TensorFlow's NHWC layout, so the arm32v7 image (TensorFlow
Lite, no ONNX Runtime) serves the embedded demo too: input ``data`` [1,224,224,3] RGB 0-1 ->
1x1 colour-opponent convolution -> ReLU -> spatial mean -> logistic layer -> ``model_output``
[1,4]. Colour order, range and resize come from the export's metadata_properties.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


def main(weights: Path, out: Path) -> None:
    values = np.load(weights)
    graph = tf.Graph()
    with graph.as_default():
        data = v1.placeholder(tf.float32, [1, 224, 224, 3], name="data")
        opponent = tf.nn.relu(tf.nn.conv2d(data, tf.constant(values["opponents"].T.reshape(1, 1, 3, -1)), 1, "VALID"))
        features = tf.reduce_mean(opponent, axis=[1, 2])
        logits = tf.matmul(features, tf.constant(values["w"].T)) + tf.constant(values["b"])
        output = tf.identity(tf.sigmoid(logits), name="model_output")
        with v1.Session(graph=graph) as session:
            content = v1.lite.TFLiteConverter.from_session(session, [data], [output]).convert()
    out.write_bytes(content)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
