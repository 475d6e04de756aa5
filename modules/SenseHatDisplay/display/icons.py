"""What the 8x8 matrix shows for a tag: a drawn icon for known tags, else a coloured letter.

An icon is 8 strings of 8 characters; each character is a key of its palette ('.' is off).
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass

RGB = tuple[int, int, int]
OFF: RGB = (0, 0, 0)


@dataclass(frozen=True)
class Letter:
    """Show ``char`` in ``colour`` (SenseHat ``show_letter``)."""

    char: str
    colour: RGB


Picture = list[RGB]  # 64 pixels, row by row


def _icon(rows: tuple[str, ...], palette: dict[str, RGB]) -> Picture:
    assert len(rows) == 8 and all(len(r) == 8 for r in rows)
    return [palette.get(ch, OFF) for row in rows for ch in row]


_ICONS: dict[str, Picture] = {
    "apple": _icon(
        ("....g...", "...g....", ".rr.rr..", "rrrrrrr.", "rrrrrrr.", "rrrrrrr.", ".rrrrr..", "..r.r..."),
        {"g": (0, 160, 0), "r": (220, 0, 0)},
    ),
    "banana": _icon(
        (".......b", "......yy", ".....yy.", "....yyy.", "...yyy..", ".yyyy...", "yyyy....", ".yy....."),
        {"y": (255, 220, 0), "b": (120, 70, 0)},
    ),
    "orange": _icon(
        ("...g....", "..oooo..", ".oooooo.", "oooooooo", "oooooooo", ".oooooo.", "..oooo..", "........"),
        {"o": (255, 120, 0), "g": (0, 160, 0)},
    ),
    "lemon": _icon(
        ("........", "..yyyy..", ".yyyyyy.", "yyyyyyyy", "yyyyyyyy", ".yyyyyy.", "..yyyy..", "........"),
        {"y": (240, 240, 0)},
    ),
}

_COLOURS: dict[str, RGB] = {
    "red": (255, 0, 0),
    "green": (0, 200, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 220, 0),
}


def _disc(colour: RGB) -> Picture:
    return _icon(
        ("..xxxx..", ".xxxxxx.", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", ".xxxxxx.", "..xxxx.."),
        {"x": colour},
    )


def tag_colour(tag: str) -> RGB:
    """A stable, bright colour for any tag name (same tag, same colour, on every device)."""
    hue = int.from_bytes(hashlib.sha1(tag.lower().encode("utf-8")).digest()[:2], "big") / 65535
    r, g, b = colorsys.hsv_to_rgb(hue, 1.0, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def for_tag(tag: str) -> Picture | Letter:
    """The icon for a known fruit or colour tag, else the tag's first letter in its colour."""
    key = tag.strip().lower()
    if key in _ICONS:
        return _ICONS[key]
    if key in _COLOURS:
        return _disc(_COLOURS[key])
    first = next((ch for ch in tag.strip() if ch.isalnum()), "?")
    return Letter(first.upper(), tag_colour(tag))
