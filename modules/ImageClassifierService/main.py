"""ImageClassifierService: a Custom Vision compatible REST service over the model in MODEL_DIR.

Wiring root: settings -> production WSGI server (waitress; answers 503 while loading) -> model
(loaded once, warmed up; the process exits with one clear sentence when it cannot load) ->
module twin (under IoT Edge or the local runner; standalone without): reported ``model``, and
live model updates from the desired ``modelUrl`` / ``modelSha256`` -> until SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from classifier import methods
from classifier.app import SERVER_ERROR_CODES, create_app
from classifier.cores import usable_cores
from classifier.export import load
from classifier.model import ModelLoadError
from classifier.fetch import AddressGuard
from edgekit.heap import limit_heap_growth
from classifier.serving import ModelSlot, ModelUpdater
from classifier.settings import ClassifierSettings
from edgekit.http import HttpServer
from edgekit.hub import Hub
from edgekit.metrics import ModuleMetrics
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore

logger = logging.getLogger("ImageClassifierService")

BUNDLED_MODEL = Path(__file__).resolve().parent / "model"


def run(hub: Hub | None, stop: threading.Event) -> int:
    store = SettingsStore(ClassifierSettings, os.environ, hub)
    settings = store.current
    slot = ModelSlot()
    app = create_app(slot, settings)
    try:
        server = HttpServer(app, settings.bind_address, settings.port, threads=settings.threads, name="waitress",
                            idle_timeout_s=settings.idle_timeout_s, connection_limit=settings.connection_limit,
                            max_body_bytes=settings.max_image_bytes, json_errors=SERVER_ERROR_CODES)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        logger.error("cannot start: cannot listen on %s port %d: %s (set PORT to a free port)", settings.bind_address,
                     settings.port, exc.strerror or exc)
        return 2
    server.start()
    metrics = ModuleMetrics("ImageClassifierService", os.environ, app.extensions["metrics"].registry)
    # the same metrics as /metrics, where the collector looks for every module's
    metrics.serve(settings.metrics_port, settings.bind_address)
    source = settings.model_dir or BUNDLED_MODEL
    try:
        model = load(source, threads=settings.effective_inference_threads)
    except ModelLoadError as exc:
        logger.error("cannot start: %s", exc)
        metrics.close()
        server.close()
        return 2
    slot.swap(model)
    store.report(model=model.info.reported(), metrics=metrics.reported())
    logger.info("ready: serving %s (%s) on port %d", ", ".join(model.labels), model.info.flavour, settings.port)
    updater = ModelUpdater(slot, lambda patch: store.report(**patch), source, threads=settings.effective_inference_threads,
                           timeout_s=max(settings.url_timeout_s, 30.0),
                           guard=AddressGuard(settings.model_url_allowed_hosts.split(","), "MODEL_URL_ALLOWED_HOSTS"))

    def follow(_old: ClassifierSettings, new: ClassifierSettings) -> None:
        updater.request(new.model_url, new.model_sha256)

    store.add_listener(follow)
    if hub is not None:
        hub.set_method_handlers(methods.handlers(slot, updater, settings.effective_inference_threads, usable_cores()))  # modelInfo, reloadModel
    store.start()  # the twin's desired modelUrl, if any, is applied now, while the current model serves
    if store.current.model_url:
        updater.request(store.current.model_url, store.current.model_sha256)
    stop.wait()
    updater.close()
    metrics.close()
    server.close()
    return 0


if __name__ == "__main__":
    limit_heap_growth()  # before any thread (the SDK's, the heap trimmer's) takes an arena of its own
    sys.exit(run_module(run, hub_required=False))
