"""Turns classification messages into matrix states, and records each new state as a PNG."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from display.icons import Letter, for_tag
from display.matrix import Matrix, write_snapshot
from display.metrics import DisplayCollector
from display.settings import DisplaySettings

logger = logging.getLogger(__name__)


class Display:
    """Shows the newest tag on ``matrix`` (cleared for no tag); thread-safe, newest wins.

    ``updates``: new states shown since start (the first clear not counted).
    """

    def __init__(self, matrix: Matrix, settings: DisplaySettings) -> None:
        self.matrix = matrix
        self._lock = threading.Lock()
        self._shown: str | None = None
        self._snapshots = 0
        self.updates = 0
        self.settings = settings
        self.apply_settings(settings)
        self.matrix.clear()
        self._snapshot(None)

    def apply_settings(self, settings: DisplaySettings) -> None:
        """Rotation and brightness take effect at once; snapshots go to the new folder from now on."""
        with self._lock:
            self.settings = settings
            self.matrix.set_rotation(settings.rotation)
            if hasattr(self.matrix, "low_light"):
                self.matrix.low_light = settings.low_light

    def show(self, tag: str | None) -> bool:
        """Show ``tag`` (None clears); returns False when it was already shown."""
        with self._lock:
            if tag == self._shown:
                return False
            if tag is None:
                self.matrix.clear()
            else:
                picture = for_tag(tag)
                if isinstance(picture, Letter):
                    self.matrix.show_letter(picture.char, text_colour=list(picture.colour))
                else:
                    self.matrix.set_pixels([list(p) for p in picture])
            self._shown = tag
            self.updates += 1
            self._snapshot(tag)
            logger.info("showing %s", tag or "nothing (cleared)")
            return True

    def collector(self) -> DisplayCollector:
        """The Prometheus collector of this display's updates."""
        return DisplayCollector(lambda: self.updates)

    def _snapshot(self, tag: str | None) -> None:
        self._snapshots += 1
        folder = self.settings.display_snapshot_dir
        if not folder:
            return
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", tag) if tag else "cleared"
        path = Path(folder) / f"{self._snapshots:04d}-{name}.png"
        try:
            write_snapshot(self.matrix.get_pixels(), path)
        except OSError as exc:
            logger.warning("cannot write snapshot %s: %s", path, exc)
