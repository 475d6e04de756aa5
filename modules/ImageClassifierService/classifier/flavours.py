"""The registry of export flavours: every kind of model folder the service serves, in the order each is asked.

Each flavour is a :class:`classifier.model.Model` subclass that recognises its own folder (``recognises``) and
loads it (``load``), as Roboflow inference's registry of model types and KServe's models. Adding a flavour is one
file holding its class, and one line here. The first that recognises a folder loads it; Custom Vision's classifier
is last and takes every folder the others did not (saying in one sentence what is missing when it cannot load it).
"""

from __future__ import annotations

from classifier.automl import AutomlModel
from classifier.customvision import CustomVisionClassifier, CustomVisionDetector
from classifier.described import DescribedModel
from classifier.folder import ExportFolder
from classifier.model import Model, ModelLoadError

FLAVOURS: tuple[type[Model], ...] = (
    DescribedModel,  # model.json beside the model, no manifest: a model of your own
    AutomlModel,  # labels.json beside model.onnx / model.tflite, no manifest: Azure ML AutoML
    CustomVisionDetector,  # Custom Vision's detector outputs (S1's three, or one compact YOLO grid)
    CustomVisionClassifier,  # every other Custom Vision export (ONNX, ONNX12, Float16, S1, TensorFlow, TFLite)
)


def flavour_of(folder: ExportFolder) -> type[Model]:
    """The first flavour in :data:`FLAVOURS` that recognises ``folder``."""
    for flavour in FLAVOURS:
        if flavour.recognises(folder):
            return flavour
    raise ModelLoadError(f"{folder.directory} holds no export this service knows: put a Custom Vision export there")
