"""What the 8x8 matrix shows: a drawn icon for known tags, else the tag's first letter in its colour;
a question mark for "not sure"; all off for nothing in view.

An icon is 8 strings of 8 characters, each a key of its palette ('.' is off). The ``icons``
setting (tag -> pattern or colour, see :func:`parse_icon`) overrides the built-in ones.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Mapping, Sequence

from display import font

RGB = tuple[int, int, int]
Picture = list[RGB]  # 64 pixels, row by row, top left first
OFF: RGB = (0, 0, 0)
BLANK: Picture = [OFF] * 64
NOT_SURE_COLOUR: RGB = (255, 160, 0)

# The letters a custom pattern may use, and the colour names a custom colour may be.
PALETTE: dict[str, RGB] = {
    "r": (255, 0, 0), "g": (0, 200, 0), "b": (0, 0, 255), "y": (255, 220, 0), "o": (255, 120, 0),
    "w": (255, 255, 255), "p": (160, 0, 255), "c": (0, 255, 255), "m": (255, 0, 255), "n": (120, 70, 0),
}
COLOUR_NAMES: dict[str, str] = {"red": "r", "green": "g", "blue": "b", "yellow": "y", "orange": "o", "white": "w",
                                "purple": "p", "cyan": "c", "magenta": "m", "brown": "n"}
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def _icon(rows: Sequence[str], palette: Mapping[str, RGB]) -> Picture:
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

_COLOURS: dict[str, RGB] = {"red": (255, 0, 0), "green": (0, 200, 0), "blue": (0, 0, 255), "yellow": (255, 220, 0)}
_DISC = ("..xxxx..", ".xxxxxx.", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", ".xxxxxx.", "..xxxx..")


def disc(colour: RGB) -> Picture:
    """A filled circle in ``colour``."""
    return _icon(_DISC, {"x": colour})


def tag_colour(tag: str) -> RGB:
    """A stable, bright colour for any tag name (same tag, same colour, on every device)."""
    hue = int.from_bytes(hashlib.sha1(tag.strip().lower().encode("utf-8")).digest()[:2], "big") / 65535
    r, g, b = colorsys.hsv_to_rgb(hue, 1.0, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def letter(char: str, colour: RGB) -> Picture:
    """``char`` from the built-in 5x7 font, in ``colour``, in columns 1-5 and rows 1-7."""
    pixels = list(BLANK)
    for y, row in enumerate(font.glyph(char)):
        for x, cell in enumerate(row):
            if cell == "#":
                pixels[(y + 1) * 8 + x + 1] = colour
    return pixels


def not_sure() -> Picture:
    """The "not sure" state: an amber question mark."""
    return letter("?", NOT_SURE_COLOUR)


def key(tag: str) -> str:
    """How tags are matched to icons: case and surrounding spaces ignored."""
    return tag.strip().lower()


def for_tag(tag: str, custom: Mapping[str, Picture] | None = None) -> tuple[str, Picture]:
    """(kind, picture) of a tag: "custom" (from the ``icons`` setting), "icon" (a built-in fruit or
    colour), or "letter" (its first letter or digit in the tag's colour)."""
    name = key(tag)
    if custom and name in custom:
        return "custom", custom[name]
    if name in _ICONS:
        return "icon", _ICONS[name]
    if name in _COLOURS:
        return "icon", disc(_COLOURS[name])
    first = next((ch for ch in tag.strip() if ch.isalnum()), "?")
    return "letter", letter(first, tag_colour(tag))


def parse_colour(text: str) -> RGB:
    """``#RRGGBB`` or a colour name (red, green, blue, yellow, orange, white, purple, cyan, magenta, brown)."""
    if _HEX.fullmatch(text):
        return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
    if text.lower() in COLOUR_NAMES:
        return PALETTE[COLOUR_NAMES[text.lower()]]
    raise ValueError(f"a colour is #RRGGBB or one of {', '.join(COLOUR_NAMES)}")


MAX_ICONS = 16  # custom icons at most
MAX_TAG_CHARS = 64


def parse_icon(spec: str) -> Picture:
    """One custom icon: a colour (a filled circle in it), or a pattern of 8 rows of 8 characters
    separated by "/", where '.' is off and r g b y o w p c m n are red, green, blue, yellow, orange,
    white, purple, cyan, magenta and brown. Raises ValueError saying what is wrong."""
    spec = spec.strip()
    if "/" not in spec:
        return disc(parse_colour(spec))
    rows = spec.split("/")
    if len(rows) != 8 or any(len(row) != 8 for row in rows):
        raise ValueError("a pattern is 8 rows of 8 characters, separated by /")
    bad = sorted({ch for row in rows for ch in row if ch != "." and ch not in PALETTE})
    if bad:
        raise ValueError(f"a pattern uses '.' and {' '.join(PALETTE)} only (not {''.join(bad)[:8]!r})")
    return _icon(rows, PALETTE)


def parse_icons(text: str) -> dict[str, Picture]:
    """The ``icons`` setting: ``Tag=icon`` entries separated by ";" (see :func:`parse_icon`), e.g.
    ``Apple=#00ff00; Kiwi=..gggg../.gggggg./gggnnggg/ggnnnngg/ggnnnngg/gggnnggg/.gggggg./..gggg..``;
    empty: none. Returns picture by :func:`key` of the tag. Raises ValueError naming the entry at fault.

    One string, not a JSON object: twin patches merge objects key by key (a removed icon would stay),
    and twin keys may not hold spaces or dots, which tag names may.
    """
    pictures: dict[str, Picture] = {}
    entries = [e for e in text.split(";") if e.strip()]
    if len(entries) > MAX_ICONS:
        raise ValueError(f"at most {MAX_ICONS} icons (got {len(entries)})")
    for n, entry in enumerate(entries, 1):
        tag, sep, spec = entry.partition("=")
        name = key(tag)
        if not sep or not name or len(name) > MAX_TAG_CHARS:
            raise ValueError(f"entry {n}: write Tag=colour or Tag=pattern, the tag 1-{MAX_TAG_CHARS} characters, "
                             "entries separated by ;")
        if name in pictures:
            raise ValueError(f"entry {n}: {tag.strip()[:20]!r} is given twice (tags are matched ignoring case)")
        try:
            pictures[name] = parse_icon(spec)
        except ValueError as exc:
            raise ValueError(f"entry {n} ({tag.strip()[:20]!r}): {exc}") from None
    return pictures
