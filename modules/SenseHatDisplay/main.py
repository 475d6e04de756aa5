"""SenseHatDisplay: shows the tag of each classification message on the 8x8 LED matrix.

Wiring root: settings (env < module twin) -> hub -> matrix backend (Sense HAT on a Pi, the
sense-emu virtual matrix elsewhere) -> input handler -> display worker, stopped by SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys

from display.matrix import MatrixUnavailableError, open_matrix, release
from display.settings import DisplaySettings
from display.show import Display
from edgekit.hub import InputMessage
from edgekit.inbox import Inbox
from edgekit.messages import Classification, parse_classification
from edgekit.runtime import configure_logging, connect_hub, stop_event
from edgekit.settings import SettingsStore

logger = logging.getLogger("SenseHatDisplay")


def main() -> int:
    configure_logging()
    stop = stop_event()
    hub = connect_hub(stop)
    if hub is None:
        return 0
    try:
        store = SettingsStore(DisplaySettings, os.environ, hub)
        store.start()
        try:
            backend, matrix = open_matrix(store.current.backend)
        except MatrixUnavailableError as exc:
            logger.error("no LED matrix: %s; set BACKEND=emulator (or auto) to use the virtual one", exc)
            store.report(display={"backend": "", "error": str(exc)})
            stop.wait()
            return 0
        display = Display(matrix, store.current)
        store.add_listener(lambda _old, new: display.apply_settings(new))
        store.report(display={"backend": backend, "error": ""})
        logger.info("showing tags on the %s matrix", backend)
        inbox: Inbox[Classification] = Inbox(lambda c: display.show(c.tagName), capacity=1, name="display")

        def on_input(message: InputMessage) -> None:
            classification = parse_classification(message)
            if classification is not None:
                inbox.put(classification)

        hub.set_input_handler(on_input)
        stop.wait()
        inbox.close()
        return 0
    finally:
        release()
        hub.close()


if __name__ == "__main__":
    sys.exit(main())
