"""The LED matrix backends: a small base class and a registry keyed by name.

- "sensehat": the real Sense HAT through the ``sense-hat`` library (Raspberry Pi only).
- "emulator": the official ``sense-emu`` package's virtual matrix. This process holds the emulator
  lock so no GUI is needed; if the sense_emu_gui desktop app is already running, the matrix shows there too.
- "virtual": a matrix in memory, with no library at all (anywhere else); the display's snapshots and
  log rendering are how it is seen.

"auto" tries them in that order, so the module always starts. Every backend takes the pictures in
logical orientation (row by row, as the viewer should see them) and applies the rotation the way
the Sense HAT does.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from display.icons import RGB

logger = logging.getLogger(__name__)

AUTO_ORDER = ("sensehat", "emulator", "virtual")


class MatrixUnavailableError(RuntimeError):
    """The requested backend cannot drive a matrix here."""


def rotation_map(degrees: int) -> np.ndarray:
    """8x8 array: the physical LED index (0-63) each logical pixel goes to (the sense-hat library's map)."""
    return np.rot90(np.arange(64).reshape(8, 8), degrees // 90)


class Matrix(ABC):
    """An 8x8 RGB LED matrix; pixels are (r, g, b) 0-255, 64 of them, row by row."""

    name: str = ""  # the registry key: "sensehat", "emulator" or "virtual"

    @abstractmethod
    def show(self, pixels: Sequence[RGB]) -> None:
        """Light the LEDs with ``pixels`` (logical orientation)."""

    @abstractmethod
    def set_rotation(self, degrees: int) -> None:
        """Rotate what is shown (0, 90, 180, 270), redrawing it."""

    @abstractmethod
    def pixels(self) -> list[RGB]:
        """What the LEDs hold, in logical orientation (the Sense HAT keeps 5-6-5 bits per colour)."""

    @abstractmethod
    def close(self) -> None:
        """Switch the LEDs off and release the device."""


class SenseHatApiMatrix(Matrix):
    """A matrix driven through the SenseHat API (``sense_hat.SenseHat`` or ``sense_emu.SenseHat``)."""

    def __init__(self, hat: Any, name: str, on_close: Callable[[], None] = lambda: None) -> None:
        self.hat = hat
        self.name = name
        self._on_close = on_close
        hat.low_light = False  # the gamma table persists in the driver across processes: brightness is ours
        hat.set_rotation(0, redraw=False)

    def show(self, pixels: Sequence[RGB]) -> None:
        self.hat.set_pixels([list(p) for p in pixels])

    def set_rotation(self, degrees: int) -> None:
        self.hat.set_rotation(degrees, redraw=True)

    def pixels(self) -> list[RGB]:
        return [(int(r), int(g), int(b)) for r, g, b in self.hat.get_pixels()]

    def close(self) -> None:
        try:
            self.hat.clear()
        finally:
            self._on_close()


class VirtualMatrix(Matrix):
    """The matrix in memory: ``physical`` (8x8x3 uint8) is the LEDs as wired, rotation applied."""

    name = "virtual"

    def __init__(self) -> None:
        self.physical = np.zeros((8, 8, 3), dtype=np.uint8)
        self._map = rotation_map(0)

    def show(self, pixels: Sequence[RGB]) -> None:
        flat = self.physical.reshape(64, 3)
        flat[self._map.ravel()] = np.asarray(pixels, dtype=np.uint8).reshape(64, 3)

    def set_rotation(self, degrees: int) -> None:
        shown = self.pixels()
        self._map = rotation_map(degrees)
        self.show(shown)

    def pixels(self) -> list[RGB]:
        flat = self.physical.reshape(64, 3)[self._map.ravel()]
        return [(int(r), int(g), int(b)) for r, g, b in flat]

    def close(self) -> None:
        self.physical[:] = 0


def _sensehat() -> Matrix:
    try:
        from sense_hat import SenseHat  # Raspberry Pi OS: apt install sense-hat
    except ImportError as exc:
        raise MatrixUnavailableError("the sense-hat library is not installed (Raspberry Pi OS only)") from exc
    try:
        return SenseHatApiMatrix(SenseHat(), "sensehat")
    except OSError as exc:
        raise MatrixUnavailableError(f"no Sense HAT found: {exc}") from exc


def _emulator() -> Matrix:
    try:
        from sense_emu import SenseHat
        from sense_emu.lock import EmulatorLock
    except ImportError as exc:
        raise MatrixUnavailableError("the sense-emu package is not installed") from exc
    try:
        lock = EmulatorLock("sense_emu")
        held = False
        if not lock._is_held() or lock._is_stale():  # no sense_emu_gui running: drive the matrix ourselves
            lock.acquire()
            held = True
        return SenseHatApiMatrix(SenseHat(), "emulator", on_close=lock.release if held else lambda: None)
    except OSError as exc:
        raise MatrixUnavailableError(f"the sense-emu matrix cannot be opened: {exc}") from exc


BACKENDS: dict[str, Callable[[], Matrix]] = {"sensehat": _sensehat, "emulator": _emulator, "virtual": VirtualMatrix}


def open_matrix(backend: str) -> Matrix:
    """Open ``backend`` ("auto": the first of AUTO_ORDER that opens); its ``name`` says which.

    Raises MatrixUnavailableError naming why each one tried could not open.
    """
    names = AUTO_ORDER if backend == "auto" else (backend,)
    problems = []
    for name in names:
        try:
            matrix = BACKENDS[name]()
        except MatrixUnavailableError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if problems:
            logger.info("using the %s matrix (%s)", name, "; ".join(problems))
        return matrix
    raise MatrixUnavailableError("; ".join(problems))
