"""CameraCapture: reads frames from VIDEO_PATH, has them classified, sends tag changes on its output.

Wiring root: settings (env < module twin) -> capture pipeline -> its Prometheus metrics on METRICS_PORT
(reported as ``metrics``), until SIGTERM. Worker failures are counted and reported as ``workerErrors``
(thread name -> count).
"""

from __future__ import annotations

import os
import sys
import threading

from capture import methods
from capture.pipeline import CapturePipeline
from capture.settings import CaptureSettings
from edgekit.hub import Hub
from edgekit.metrics import ModuleMetrics
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore


def run(hub: Hub | None, stop: threading.Event) -> int:
    assert hub is not None
    store = SettingsStore(CaptureSettings, os.environ, hub)
    store.start()
    pipeline = CapturePipeline(store, hub, stop)
    hub.set_method_handlers(methods.handlers(pipeline))  # snapshot, captureStatus
    metrics = ModuleMetrics("CameraCapture", os.environ)
    metrics.registry.register(pipeline.collector())
    metrics.registry.register(pipeline.captures.collector())  # captures for retraining
    metrics.serve(store.current.metrics_port, store.current.bind_address)
    store.report(metrics=metrics.reported())
    try:
        pipeline.run()
    finally:
        metrics.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_module(run))
