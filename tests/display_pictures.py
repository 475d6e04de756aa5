"""What SenseHatDisplay must show, written out by hand for the display tests (not computed by the display's code).

A picture is 64 (r, g, b) LEDs, row by row from the top left. The rules (docs/modules.md, SenseHatDisplay): a known fruit
shows its drawn icon; another tag shows its first letter (the built-in 5x7 font, in columns 1-5 and rows 1-7) in
the tag's own colour; "not sure" is an amber question mark; a custom colour is a filled circle; brightness scales
every LED value and rounds it; scrolling moves the name in from the right, one column a frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RGB = tuple[int, int, int]
OFF: RGB = (0, 0, 0)
BLANK: list[RGB] = [OFF] * 64

RED_APPLE, GREEN_STALK = (220, 0, 0), (0, 160, 0)  # the apple icon's colours
AMBER = (255, 160, 0)  # "not sure"
# Each tag's colour: the hue of the first two bytes of SHA-1 of its lower-case name (0-65535 -> 0-360 degrees),
# at full saturation and value, worked out for these tags: kiwi 0x0c58 -> 17.4 degrees -> (255, 74, 0).
KIWI = (255, 74, 0)
CHERRY_TOMATO = (0, 255, 71)  # 0x6133 -> 136.7 degrees
APFEL = (0, 255, 135)  # "äpfel": 0x6bf0 -> 151.8 degrees
ZUCCHINI = (160, 255, 0)  # 0x3a8f -> 82.3 degrees

APPLE_ROWS = ("....g...", "...g....", ".rr.rr..", "rrrrrrr.", "rrrrrrr.", "rrrrrrr.", ".rrrrr..", "..r.r...")
DISC_ROWS = ("..xxxx..", ".xxxxxx.", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", "xxxxxxxx", ".xxxxxx.", "..xxxx..")
# letters as the matrix shows them: the 5x7 glyph one LED in from the left and from the top
LETTER_ROWS = {
    "A": ("........", "..xxx...", ".x...x..", ".x...x..", ".xxxxx..", ".x...x..", ".x...x..", ".x...x.."),
    "C": ("........", "..xxx...", ".x...x..", ".x......", ".x......", ".x......", ".x...x..", "..xxx..."),
    "K": ("........", ".x...x..", ".x..x...", ".x.x....", ".xx.....", ".x.x....", ".x..x...", ".x...x.."),
    "Z": ("........", ".xxxxx..", ".....x..", "....x...", "...x....", "..x.....", ".x......", ".xxxxx.."),
    "?": ("........", "..xxx...", ".x...x..", ".....x..", "....x...", "...x....", "........", "...x...."),
}
# the 5x7 glyphs of "Apple" as they scroll (the font has capitals only)
GLYPHS = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
}


def drawn(rows: Sequence[str], palette: Mapping[str, RGB]) -> list[RGB]:
    """8 rows of 8 characters: '.' off, any other character its colour in ``palette``."""
    assert len(rows) == 8 and all(len(row) == 8 for row in rows), rows
    return [OFF if ch == "." else palette[ch] for row in rows for ch in row]


def apple(red: RGB = RED_APPLE, green: RGB = GREEN_STALK) -> list[RGB]:
    return drawn(APPLE_ROWS, {"r": red, "g": green})


def letter(char: str, colour: RGB) -> list[RGB]:
    return drawn(LETTER_ROWS[char], {"x": colour})


def disc(colour: RGB) -> list[RGB]:
    return drawn(DISC_ROWS, {"x": colour})


def scrolling(word: str, colour: RGB) -> list[list[RGB]]:
    """The frames of ``word`` scrolling: 8 empty columns, each glyph then one empty column, 7 empty columns; frame k
    shows columns k to k+7 in rows 1-7 (row 0 stays off)."""
    strip = ["." * 8 + "".join(GLYPHS[c.upper()][y] + "." for c in word) + "." * 7 for y in range(7)]
    return [drawn(["." * 8] + [row[k:k + 8] for row in strip], {"#": colour}) for k in range(len(strip[0]) - 7)]
