"""CameraCapture: reads frames from VIDEO_PATH, has them classified, sends tag changes on its output.

Wiring root: settings (env < module twin) -> capture pipeline, until SIGTERM. Worker failures are
counted and reported as ``workerErrors`` (thread name -> count).
"""

from __future__ import annotations

import os
import sys
import threading

from capture.pipeline import CapturePipeline
from capture.settings import CaptureSettings
from edgekit.hub import Hub
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore


def run(hub: Hub | None, stop: threading.Event) -> int:
    assert hub is not None
    store = SettingsStore(CaptureSettings, os.environ, hub)
    store.start()
    CapturePipeline(store, hub, stop).run()
    return 0


if __name__ == "__main__":
    sys.exit(run_module(run))
