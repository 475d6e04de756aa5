"""Object detection outputs of Custom Vision exports -> normalised boxes.

contract: docs/customvision.md section 2 (last paragraph). Two output forms:

- compact detectors: one raw YOLO-style grid, ``[1, A*(5+C), H, W]`` (ONNX, NCHW) or
  ``[1, H, W, A*(5+C)]`` (TensorFlow / TFLite, NHWC), with the five Custom Vision anchors; each
  cell and anchor holds x, y (offsets in the cell), w, h (log scale of the anchor), objectness
  (logit), then C class logits. Decoded here, then non-maximum suppression.
- S1 detectors: ``detected_boxes`` ``[1,N,4]`` (x1, y1, x2, y2, normalised), ``detected_classes``
  ``[1,N]`` and ``detected_scores`` ``[1,N]``, already suppressed: read directly.

Azure ML AutoML detectors (classifier.automl) reuse both: their YOLO candidates go through
:func:`non_max_suppression` per class, their Faster R-CNN / RetinaNet outputs through :func:`read_s1`.

Boxes are answered as Custom Vision does: ``left``, ``top``, ``width``, ``height``, each 0-1 of
the image, clipped to the image.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from edgekit.prediction import BoundingBox

# Anchor boxes (width, height in grid cells) of Custom Vision's compact object detectors.
ANCHORS = np.array([[0.573, 0.677], [1.87, 2.06], [3.34, 5.47], [7.88, 3.53], [9.77, 9.17]], dtype=np.float32)
PROBABILITY_THRESHOLD = 0.10  # as the Dockerfile export's detector
MAX_DETECTIONS = 20
IOU_THRESHOLD = 0.45
S1_OUTPUTS = ("detected_boxes", "detected_classes", "detected_scores")


class Detection(NamedTuple):
    """One detected object: index into the labels, probability 0-1, box."""

    label: int
    probability: float
    box: BoundingBox


def grid_channels(num_labels: int) -> int:
    """Channels of a compact detector's grid for ``num_labels`` tags: anchors x (5 + tags)."""
    return len(ANCHORS) * (5 + num_labels)


def _box(x1: float, y1: float, x2: float, y2: float) -> BoundingBox:
    x1, y1 = min(max(x1, 0.0), 1.0), min(max(y1, 0.0), 1.0)
    x2, y2 = min(max(x2, 0.0), 1.0), min(max(y2, 0.0), 1.0)
    return BoundingBox(float(x1), float(y1), float(max(x2 - x1, 0.0)), float(max(y2 - y1, 0.0)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise, without overflow for large ``|x|``."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def decode_grid(output: np.ndarray, layout: str, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw grid -> (corner boxes [K,4] x1,y1,x2,y2 normalised, class probabilities [K,C]).

    output: [1, A*(5+C), H, W] when ``layout`` is "NCHW", [1, H, W, A*(5+C)] when "NHWC".
    Raises ValueError when the channel count does not fit the anchors and ``num_labels``.
    """
    grid = np.asarray(output, dtype=np.float32)[0]
    if layout == "NCHW":
        grid = grid.transpose(1, 2, 0)
    height, width, channels = grid.shape
    if channels != grid_channels(num_labels):
        raise ValueError(f"a detector grid for {num_labels} tags has {grid_channels(num_labels)} channels, not {channels}")
    cells = grid.reshape(height, width, len(ANCHORS), 5 + num_labels)
    cx = (sigmoid(cells[..., 0]) + np.arange(width)[None, :, None]) / width
    cy = (sigmoid(cells[..., 1]) + np.arange(height)[:, None, None]) / height
    w = np.exp(cells[..., 2]) * ANCHORS[:, 0] / width
    h = np.exp(cells[..., 3]) * ANCHORS[:, 1] / height
    boxes = np.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), axis=-1).reshape(-1, 4)
    logits = cells[..., 5:]
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = exp / exp.sum(axis=-1, keepdims=True) * sigmoid(cells[..., 4:5])
    return boxes, probs.reshape(-1, num_labels)


def non_max_suppression(boxes: np.ndarray, probs: np.ndarray, threshold: float = PROBABILITY_THRESHOLD,
                        iou_threshold: float = IOU_THRESHOLD, limit: int = MAX_DETECTIONS,
                        per_class: bool = False) -> list[Detection]:
    """Greedy NMS over each box's best class: most probable first, dropping boxes overlapping a
    kept one by IoU above ``iou_threshold`` (with ``per_class``, only boxes of the kept one's class,
    as YOLO's batched NMS); at most ``limit`` detections above ``threshold``.

    boxes: [K,4] x1, y1, x2, y2, fractions of the image (answered clipped to 0-1); probs: [K,C] 0-1.
    """
    labels = probs.argmax(axis=1)
    scores = probs[np.arange(len(probs)), labels]
    keep = scores > threshold
    boxes, labels, scores = boxes[keep], labels[keep], scores[keep]
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    chosen: list[Detection] = []
    while order.size and len(chosen) < limit:
        best, rest = order[0], order[1:]
        chosen.append(Detection(int(labels[best]), float(scores[best]), _box(*boxes[best])))
        top_left = np.maximum(boxes[best, :2], boxes[rest, :2])
        bottom_right = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        iou = overlap / np.maximum(areas[best] + areas[rest] - overlap, 1e-12)
        order = rest[(iou <= iou_threshold) | (per_class & (labels[rest] != labels[best]))]
    return chosen


def read_s1(boxes: np.ndarray, classes: np.ndarray, scores: np.ndarray, num_labels: int,
            threshold: float = PROBABILITY_THRESHOLD, limit: int = MAX_DETECTIONS) -> list[Detection]:
    """Already-suppressed detections (S1: [1,N,4] x1,y1,x2,y2 normalised; [1,N] class; [1,N] score; any
    leading batch dimension of 1) -> detections above ``threshold``, most probable first; classes
    outside 0..``num_labels``-1 are dropped."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    c = np.asarray(classes).reshape(-1).astype(np.int64)
    s = np.asarray(scores, dtype=np.float32).reshape(-1)
    found = [Detection(int(c[i]), float(s[i]), _box(*b[i])) for i in np.argsort(-s, kind="stable")
             if s[i] > threshold and 0 <= c[i] < num_labels]
    return found[:limit]
