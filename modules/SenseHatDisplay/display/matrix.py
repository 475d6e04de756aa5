"""The LED matrix backends, all with the SenseHat API (set_pixels, show_letter, clear, get_pixels).

"sensehat": the real Sense HAT through the ``sense-hat`` library (Raspberry Pi only).
"emulator": the official ``sense-emu`` package's virtual matrix. This process holds the
emulator lock so no GUI is needed; if the sense_emu_gui desktop app is already running, the
matrix shows there too.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

SNAPSHOT_SCALE_PX = 32


class MatrixUnavailableError(RuntimeError):
    """The requested backend cannot drive a matrix here."""


class Matrix(Protocol):
    """The part of the SenseHat API the display uses (pixels are [r, g, b] 0-255)."""

    def set_pixels(self, pixel_list: list[Any]) -> None: ...
    def show_letter(self, s: str, text_colour: list[int] | None = None, back_colour: list[int] | None = None) -> None: ...
    def clear(self, *args: Any) -> None: ...
    def get_pixels(self) -> list[list[int]]: ...
    def set_rotation(self, r: int = 0, redraw: bool = True) -> None: ...


def _sensehat() -> Matrix:
    try:
        from sense_hat import SenseHat  # Raspberry Pi OS: apt install sense-hat
    except ImportError as exc:
        raise MatrixUnavailableError("the sense-hat library is not installed (Raspberry Pi OS only)") from exc
    try:
        return SenseHat()
    except OSError as exc:
        raise MatrixUnavailableError(f"no Sense HAT found: {exc}") from exc


_emulator_lock: Any = None


def _emulator() -> Matrix:
    global _emulator_lock
    from sense_emu.lock import EmulatorLock

    lock = EmulatorLock("sense_emu")
    if not lock._is_held() or lock._is_stale():  # no sense_emu_gui running: drive the matrix ourselves
        lock.acquire()
        _emulator_lock = lock
    from sense_emu import SenseHat

    return SenseHat()


BACKENDS = {"sensehat": _sensehat, "emulator": _emulator}


def open_matrix(backend: str) -> tuple[str, Matrix]:
    """Open ``backend`` ("auto" tries the Sense HAT, then the emulator); returns (name, matrix)."""
    names = ["sensehat", "emulator"] if backend == "auto" else [backend]
    problems = []
    for name in names:
        try:
            return name, BACKENDS[name]()
        except MatrixUnavailableError as exc:
            problems.append(f"{name}: {exc}")
    raise MatrixUnavailableError("; ".join(problems))


def release() -> None:
    """Release the emulator lock if this process took it."""
    global _emulator_lock
    if _emulator_lock is not None:
        _emulator_lock.release()
        _emulator_lock = None


def write_snapshot(pixels: list[list[int]], path: Path) -> None:
    """Save the 8x8 matrix state as a PNG, each LED a 32 px square inside a dark 2 px border."""
    size = SNAPSHOT_SCALE_PX
    leds = np.asarray(pixels, dtype=np.uint8).reshape(8, 8, 3)
    image = np.kron(leds, np.ones((size, size, 1), dtype=np.uint8))
    border = np.zeros(8 * size, dtype=bool)
    for i in range(8):
        border[i * size : i * size + 2] = border[(i + 1) * size - 2 : (i + 1) * size] = True
    image[border, :] = image[:, border] = 24
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
