"""Turns classification messages into matrix states, records each new state (PNG, log), and scrolls.

A state is what a message means under the current settings (:mod:`display.scene`): a tag's icon or
letter, "not sure" (an amber question mark), or nothing in view (all off). A message repeating the
state shown changes nothing. With ``scroll_text`` the tag's name scrolls once (on the display's own
thread, interrupted by the next state) before its icon stays; snapshots, the log and the reported
state are of the resting picture, at the moment the state begins.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from display import font
from display.icons import BLANK, RGB, Picture, for_tag, not_sure, parse_icons
from display.matrix import Matrix
from display.metrics import DisplayCollector
from display.render import as_text, dimmed, write_snapshot
from display.scene import EMPTY, Scene, judge
from display.settings import DisplaySettings
from edgekit.messages import Classification
from edgekit.redact import Verbatim
from edgekit.workers import count_error

logger = logging.getLogger(__name__)

SCROLL_STEP_S = 0.07  # one column of scrolling text, s
MAX_SCROLL_CHARS = 32
_SNAPSHOT = re.compile(r"(\d+)-.*\.png")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Display:
    """Shows the newest classification on ``matrix``; thread-safe, newest wins.

    on_change(status): called with :meth:`status` whenever a new state begins (for reported properties).
    ``updates``: new states shown since start (the first clear not counted).
    """

    def __init__(self, matrix: Matrix, settings: DisplaySettings,
                 on_change: Callable[[dict[str, Any]], None] = lambda _status: None,
                 scroll_step_s: float = SCROLL_STEP_S) -> None:
        self.matrix = matrix
        self.settings = settings
        self.updates = 0
        self._on_change = on_change
        self._step_s = scroll_step_s
        self._cond = threading.Condition()
        self._message: Classification | None = None
        self._scene: Scene = EMPTY
        self._since = _now()
        self._custom = parse_icons(settings.icons)
        self._lit: Picture = list(BLANK)  # the resting picture as lit (brightness applied)
        self._generation = 0
        self._scroll: tuple[int, list[Picture]] | None = None
        self._scrolling = False
        self._closed = False
        self._animator: threading.Thread | None = None
        self._snapshots = _last_snapshot(settings.display_snapshot_dir)
        with self._cond:
            matrix.set_rotation(settings.rotation)
            self._present(scroll=False)

    # --- what arrives --------------------------------------------------------------------------
    def show(self, message: Classification | None) -> bool:
        """Show what ``message`` means (None: nothing in view); returns False when it was already shown."""
        with self._cond:
            self._message = message
            return self._update()

    def apply_settings(self, settings: DisplaySettings) -> None:
        """Every setting takes effect at once: the picture redrawn (brightness, icons), the matrix rotated."""
        with self._cond:
            old, self.settings = self.settings, settings
            if settings.rotation != old.rotation:
                self.matrix.set_rotation(settings.rotation)
            self._custom = parse_icons(settings.icons)
            if self._update() or self._scrolling:
                return
            lit = dimmed(self._resting()[1], settings.brightness)
            if lit != self._lit:
                self._lit = lit
                self.matrix.show(lit)
                self._record(lit)
                self._on_change(self.status())  # the picture may now be a custom icon

    # --- what is reported ----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The ``display`` reported property: backend, state ("tag", "notSure", "empty"), tag and its
        probability (null for "empty"), picture ("icon", "custom", "letter", "notSure", "off"), since (UTC)."""
        with self._cond:
            scene = self._scene
            return {"backend": self.matrix.name, "state": scene.state, "tag": scene.tag,
                    "probability": None if scene.probability is None else round(scene.probability, 4),
                    "picture": self._resting()[0], "since": self._since.isoformat(timespec="milliseconds"),
                    "error": ""}

    def collector(self) -> DisplayCollector:
        """The Prometheus collector of this display's updates."""
        return DisplayCollector(lambda: self.updates)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop scrolling (the matrix itself is the caller's to close)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._animator is not None:
            self._animator.join(timeout_s)

    # --- inside the lock -----------------------------------------------------------------------
    def _update(self) -> bool:
        scene = judge(self._message)
        if scene.same_view(self._scene):
            return False
        self._scene, self._since = scene, _now()
        self.updates += 1
        self._present(scroll=self.settings.scroll_text and scene.state == "tag")
        self._on_change(self.status())
        return True

    def _resting(self) -> tuple[str, Picture]:
        scene = self._scene
        if scene.state == "tag" and scene.tag is not None:
            return for_tag(scene.tag, self._custom)
        if scene.state == "notSure":
            return "notSure", not_sure()
        return "off", BLANK

    def _present(self, scroll: bool) -> None:
        self._generation += 1
        resting = self._resting()[1]
        self._lit = dimmed(resting, self.settings.brightness)
        if scroll and self._scene.tag is not None:
            self._scroll = (self._generation, scroll_frames(self._scene.tag, _main_colour(resting)))
            self._scrolling = True
            self._start_animator()
            self._cond.notify_all()
        else:
            self._scrolling = False
            self._cond.notify_all()
            self.matrix.show(self._lit)
        self._record(self._lit)

    def _record(self, lit: Picture) -> None:
        scene = self._scene
        if scene.state == "tag":
            what, name = f"{scene.tag} ({scene.probability:.2f})", _safe(scene.tag or "")
        elif scene.state == "notSure":
            what, name = f"not sure: {scene.tag} ({scene.probability:.2f})", f"{_safe(scene.tag or '')}-notsure"
        else:
            what, name = "nothing (cleared)", "cleared"
        if self.settings.log_matrix:
            logger.info("showing %s\n%s", what, Verbatim("\n".join(as_text(lit))))
        else:
            logger.info("showing %s", what)
        folder = self.settings.display_snapshot_dir
        if not folder:
            return
        self._snapshots += 1
        path = Path(folder) / f"{self._snapshots:04d}-{name}.png"
        try:
            write_snapshot(lit, path)
        except OSError as exc:
            logger.warning("cannot write snapshot %s: %s", path, exc)

    # --- scrolling, on the display's own thread ------------------------------------------------
    def _start_animator(self) -> None:
        if self._animator is None:
            self._animator = threading.Thread(target=self._animate, name="display-scroll", daemon=True)
            self._animator.start()

    def _animate(self) -> None:
        with self._cond:
            while not self._closed:
                if self._scroll is None:
                    self._cond.wait()
                    continue
                generation, frames = self._scroll
                self._scroll = None
                try:
                    self._play(generation, frames)
                except Exception:  # noqa: BLE001 - a failing frame must not end scrolling for good
                    logger.exception("scrolling failed")
                    count_error("display-scroll")

    def _play(self, generation: int, frames: list[Picture]) -> None:
        for frame in frames:
            if generation != self._generation or self._closed:
                return
            self.matrix.show(dimmed(frame, self.settings.brightness))
            self._cond.wait(self._step_s)
        if generation == self._generation and not self._closed:
            self._scrolling = False
            self._lit = dimmed(self._resting()[1], self.settings.brightness)
            self.matrix.show(self._lit)


def scroll_frames(text: str, colour: RGB) -> list[Picture]:
    """``text`` (first MAX_SCROLL_CHARS characters) entering from the right and leaving on the left, one column a frame."""
    cols = [[False] * font.HEIGHT] * 8 + font.columns(text[:MAX_SCROLL_CHARS]) + [[False] * font.HEIGHT] * 7
    frames = []
    for start in range(len(cols) - 7):
        window = cols[start:start + 8]
        frames.append([colour if y >= 1 and window[x][y - 1] else (0, 0, 0) for y in range(8) for x in range(8)])
    return frames


def _main_colour(picture: Picture) -> RGB:
    lit = [p for p in picture if p != (0, 0, 0)]
    return Counter(lit).most_common(1)[0][0] if lit else (255, 255, 255)


def _safe(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", tag)[:64] or "_"


def _last_snapshot(folder: str) -> int:
    """The highest snapshot number in ``folder`` (0 if none), so a restarted module does not overwrite earlier ones."""
    if not folder or not Path(folder).is_dir():
        return 0
    numbers = [int(m.group(1)) for p in Path(folder).iterdir() if (m := _SNAPSHOT.fullmatch(p.name))]
    return max(numbers, default=0)
