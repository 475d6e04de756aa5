"""ImageClassifierService: a Custom Vision compatible REST service over the model in MODEL_DIR.

Wiring root: settings -> model (loaded once, warmed up; the process refuses to start when it
cannot load) -> module twin report (under IoT Edge or the local runner; standalone without)
-> production WSGI server (waitress), until SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from classifier.app import create_app
from classifier.export import ModelLoadError, load
from classifier.settings import ClassifierSettings
from edgekit.http import HttpServer
from edgekit.hub import Hub
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore

logger = logging.getLogger("ImageClassifierService")

BUNDLED_MODEL = Path(__file__).resolve().parent / "model"


def run(hub: Hub | None, stop: threading.Event) -> int:
    store = SettingsStore(ClassifierSettings, os.environ, hub)
    store.start()
    settings = store.current
    try:
        model = load(settings.model_dir or BUNDLED_MODEL, threads=settings.inference_threads)
    except ModelLoadError as exc:
        logger.error("cannot start: %s", exc)
        return 2
    info = model.info
    store.report(model={"source": info.source, "sha256": info.sha256, "flavour": info.flavour,
                        "labels": ",".join(info.labels), "inputSize": f"{info.input_size[0]}x{info.input_size[1]}"})
    server = HttpServer(create_app(model, settings), "0.0.0.0", settings.port, threads=settings.threads, name="waitress")
    server.start()
    logger.info("ready: serving %s on port %d", ", ".join(info.labels), settings.port)
    stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_module(run, hub_required=False))
