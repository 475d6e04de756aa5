"""ImageClassifierService's direct methods: which model is serving, and loading it again.

``modelInfo`` (no payload) answers the serving model::

    {"source": "/app/model", "sha256": "<hex of the model file>", "flavour": "ONNX (Custom Vision)",
     "runtime": "ONNX Runtime", "task": "classification", "labels": ["Apple", "Banana"],
     "inputSize": {"width": 224, "height": 224}, "layout": "NCHW", "colour": "BGR", "valueRange": "0-255",
     "modelUpdate": {"status": "applied", "url": "...", "sha256": "...", "reason": "", "at": "..."} | null,
     "reloadInProgress": false, "inferenceThreads": 2, "usableCores": 2}

``inferenceThreads``: threads one inference may use (``INFERENCE_THREADS``, or chosen from ``usableCores``,
the cores the container may use: its CPU affinity and quota; classifier/cores.py).

``reloadModel`` (no payload) starts loading the configured model again and answers at once, like
``modelInfo`` (the model serving now) plus ``"reload": "started"``, or ``"already in progress"`` when a
reload is already waiting or running (nothing more is started). The reload runs on a thread of its own,
never on a direct-method worker, so that a slow download holds no method: from the desired ``modelUrl``
when set (downloaded again and checked against ``modelSha256``), else from ``MODEL_DIR`` or the bundled
model; it is checked on a probe image and swapped in while requests go on. Its outcome is reported in
``modelUpdate`` (also in ``modelInfo``): when it fails the previous model keeps serving. A model update
in progress finishes first. ``modelInfo`` says ``"reloadInProgress": true`` meanwhile.
"""

from __future__ import annotations

from typing import Any

from classifier.model import Model
from classifier.serving import ModelSlot, ModelUpdater
from edgekit.methods import MethodError, MethodHandler, NoPayload, taking
from edgekit.redact import redact


def model_info(model: Model, updater: ModelUpdater, threads: int, cores: int) -> dict[str, Any]:
    """``modelInfo``'s answer for ``model`` run on ``threads`` of the ``cores`` usable (see the module docstring)."""
    info = model.info
    return {"source": redact(info.source), "sha256": info.sha256, "flavour": info.flavour, "runtime": info.runtime,
            "task": info.task, "labels": list(info.labels),
            "inputSize": {"width": info.input_size[0], "height": info.input_size[1]},
            "layout": info.layout, "colour": info.colour, "valueRange": info.value_range,
            "modelUpdate": dict(updater.last) or None, "reloadInProgress": updater.reloading,
            "inferenceThreads": threads, "usableCores": cores}


def handlers(slot: ModelSlot, updater: ModelUpdater, threads: int, cores: int) -> dict[str, MethodHandler]:
    """The classifier's direct methods for :meth:`edgekit.hub.Hub.set_method_handlers`; ``threads`` per
    inference of the ``cores`` this container may use, as reported."""

    def info(_request: NoPayload) -> dict[str, Any]:
        model = slot.current
        if model is None:
            raise MethodError(500, "no model is loaded yet")
        return model_info(model, updater, threads, cores)

    def reload(_request: NoPayload) -> dict[str, Any]:
        started = updater.start_reload()
        return {**info(_request), "reload": "started" if started else "already in progress"}

    return {"modelInfo": taking(NoPayload, info), "reloadModel": taking(NoPayload, reload)}
