"""CameraCapture: reads frames from VIDEO_PATH, has them classified, sends tag changes on its output.

Wiring root: settings (env < module twin) -> hub -> capture pipeline, stopped by SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys

from capture.pipeline import CapturePipeline
from capture.settings import CaptureSettings
from edgekit.runtime import configure_logging, connect_hub, stop_event
from edgekit.settings import SettingsStore

logger = logging.getLogger("CameraCapture")


def main() -> int:
    configure_logging()
    stop = stop_event()
    hub = connect_hub(stop)
    if hub is None:
        return 0
    try:
        store = SettingsStore(CaptureSettings, os.environ, hub)
        store.start()
        CapturePipeline(store, hub, stop).run()
        return 0
    finally:
        hub.close()


if __name__ == "__main__":
    sys.exit(main())
