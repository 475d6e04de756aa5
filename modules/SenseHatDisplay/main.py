"""SenseHatDisplay: shows the tag of each classification message on the 8x8 LED matrix.

Wiring root: settings (env < module twin) -> matrix backend (the Sense HAT on a Pi, else the sense-emu
virtual matrix where installed, else the built-in virtual matrix) -> display fed by the input, its
state reported as ``display`` -> its Prometheus metrics on METRICS_PORT (reported as ``metrics``),
until SIGTERM; then stopped in reverse order. Worker failures are counted and reported as
``workerErrors`` (thread name -> count).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from display import methods
from display.matrix import MatrixUnavailableError, open_matrix
from display.settings import DisplaySettings
from display.show import Display
from edgekit.hub import Hub
from edgekit.messages import classification_inbox
from edgekit.metrics import ModuleMetrics
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore

logger = logging.getLogger("SenseHatDisplay")


def run(hub: Hub | None, stop: threading.Event) -> int:
    assert hub is not None
    store = SettingsStore(DisplaySettings, os.environ, hub)
    store.start()
    metrics = ModuleMetrics("SenseHatDisplay", os.environ)  # served even without a matrix: the collector's list holds
    metrics.serve(store.current.metrics_port, store.current.bind_address)
    try:
        return _show(hub, store, metrics, stop)
    finally:
        metrics.close()
        store.close()


def _show(hub: Hub, store: SettingsStore[DisplaySettings], metrics: ModuleMetrics, stop: threading.Event) -> int:
    try:
        matrix = open_matrix(store.current.backend)
    except MatrixUnavailableError as exc:
        logger.error("no LED matrix: %s; set BACKEND=auto to fall back to a virtual one", exc)
        store.report(display={"backend": "", "error": str(exc)}, metrics=metrics.reported())
        stop.wait()
        return 0
    try:
        settings = store.current
        display = Display(matrix, settings, on_change=lambda status: store.report(display=status))
        try:
            store.add_listener(lambda _old, new: display.apply_settings(new), since=settings)
            metrics.registry.register(display.collector())
            store.report(display=display.status(), metrics=metrics.reported())
            hub.set_method_handlers(methods.handlers(display))  # show, clear
            logger.info("showing tags on the %s matrix", matrix.name)
            inbox = classification_inbox(hub, display.show, 1, "display")
            stop.wait()
            inbox.close()
            return 0
        finally:
            display.close()
    finally:
        matrix.close()


if __name__ == "__main__":
    sys.exit(run_module(run))
