"""SenseHatDisplay on the sense-emu virtual matrix (the same API as the Sense HAT)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from display.icons import Letter, for_tag, tag_colour
from display.matrix import open_matrix, release
from display.settings import DisplaySettings
from display.show import Display


@pytest.fixture()
def matrix() -> Iterator:
    name, m = open_matrix("emulator")
    assert name == "emulator"
    yield m
    release()


def test_known_tags_have_icons_and_others_a_coloured_letter() -> None:
    apple = for_tag("Apple")
    assert isinstance(apple, list) and len(apple) == 64 and (220, 0, 0) in apple
    assert for_tag("  banana ") == for_tag("Banana")
    cherry = for_tag("cherry tomato")
    assert cherry == Letter("C", tag_colour("cherry tomato"))
    assert tag_colour("Cherry") == tag_colour("cherry") and max(tag_colour("x")) == 255


def test_show_tag_and_clear_write_one_snapshot_per_new_state(matrix, tmp_path: Path) -> None:
    display = Display(matrix, DisplaySettings(display_snapshot_dir=str(tmp_path)))
    assert display.show("Apple") is True
    assert display.show("Apple") is False  # same state: nothing redrawn, no snapshot
    display.show("Zucchini")
    display.show(None)
    names = [p.name for p in sorted(tmp_path.glob("*.png"))]
    assert names == ["0001-cleared.png", "0002-Apple.png", "0003-Zucchini.png", "0004-cleared.png"]
    leds = np.asarray(matrix.get_pixels())
    assert leds.max() == 0  # cleared: every LED off
    apple = np.asarray(Image.open(tmp_path / "0002-Apple.png").convert("RGB")).reshape(-1, 3)
    lit = apple[apple.max(axis=1) > 100]
    assert len(lit) > 0 and lit[:, 0].mean() > 180 and lit[:, 1].mean() < 60  # mostly red LEDs
    letter = np.asarray(Image.open(tmp_path / "0003-Zucchini.png").convert("RGB"))
    assert 0 < (letter.max(axis=2) > 100).mean() < 0.5  # a letter, not a full square


def _physical(matrix) -> np.ndarray:
    """The LEDs as wired (RGB565 framebuffer), whatever the logical rotation."""
    with open(matrix._fb_device, "rb") as fb:
        return np.frombuffer(fb.read(128), dtype=np.uint16).reshape(8, 8)


def test_rotation_takes_effect_live(matrix) -> None:
    display = Display(matrix, DisplaySettings())
    display.show("Banana")
    before = _physical(matrix)
    display.apply_settings(DisplaySettings(rotation=180))
    display.show(None)
    display.show("Banana")
    after = _physical(matrix)
    assert before.any() and (after == before[::-1, ::-1]).all()
