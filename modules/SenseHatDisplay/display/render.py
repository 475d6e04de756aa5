"""Pictures as they are lit and recorded: brightness applied, drawn as a PNG and as ANSI colour text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from display.icons import RGB, Picture

SNAPSHOT_SCALE_PX = 32
OFF_IN_TEXT: RGB = (24, 24, 24)  # an unlit LED in the log rendering (dark grey, so the 8x8 grid is visible)


def dimmed(picture: Sequence[RGB], brightness: float) -> Picture:
    """Every colour value scaled by ``brightness`` (0-1) and rounded: what the LEDs are set to."""
    if brightness >= 1.0:
        return list(picture)
    return [(round(r * brightness), round(g * brightness), round(b * brightness)) for r, g, b in picture]


def as_text(pixels: Sequence[RGB]) -> list[str]:
    """8 lines, one per matrix row: each LED two spaces on a 24-bit ANSI background of its colour."""
    lines = []
    for y in range(8):
        cells = []
        for r, g, b in pixels[y * 8:(y + 1) * 8]:
            if r == g == b == 0:
                r, g, b = OFF_IN_TEXT
            cells.append(f"\x1b[48;2;{r};{g};{b}m  ")
        lines.append("".join(cells) + "\x1b[0m")
    return lines


def write_snapshot(pixels: Sequence[RGB], path: Path) -> None:
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


def led_colours(png: Path) -> list[RGB]:
    """The 64 LED colours in a snapshot (the centre of each square), row by row."""
    image = np.asarray(Image.open(png).convert("RGB"))
    half = SNAPSHOT_SCALE_PX // 2
    return [tuple(int(v) for v in image[y * SNAPSHOT_SCALE_PX + half, x * SNAPSHOT_SCALE_PX + half])  # type: ignore[misc]
            for y in range(8) for x in range(8)]
