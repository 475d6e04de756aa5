"""What SenseHatDisplay shows for a sequence of messages, pixel by pixel, on the built-in virtual matrix and on
sense-emu (the Sense HAT's own code, which keeps 5-6-5 bits per colour): icons, letters, "not sure",
cleared, brightness, rotation, custom icons, scrolling, and the reported state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import wait_for
from display.icons import RGB, Picture
from display.matrix import Matrix, SenseHatApiMatrix, VirtualMatrix, open_matrix
from display.render import led_colours
from display.settings import DisplaySettings
from display.show import Display
from display_pictures import AMBER, BLANK, CHERRY_TOMATO, KIWI, apple, disc, letter, scrolling
from edgekit.messages import Classification
from edgekit.settings import SettingsError, SettingsStore, build

# expected pictures, written out by hand (tests/display_pictures.py)
APPLE = apple()
APPLE_FIFTH = apple((44, 0, 0), (0, 32, 0))  # brightness 0.2: 220 -> 44, 160 -> 32
APPLE_HALF = apple((110, 0, 0), (0, 80, 0))  # brightness 0.5
K_KIWI = letter("K", KIWI)
K_KIWI_FIFTH = letter("K", (51, 15, 0))  # (255, 74, 0) x 0.2 = (51, 14.8, 0), rounded
NOT_SURE = letter("?", AMBER)


def message(tag: str | None, probability: float = 0.0, predictions: Sequence[tuple[str, float]] = (),
            state: str | None = None) -> Classification:
    """A classification as CameraCapture sends it; ``state`` omitted: a version 1 message (no state)."""
    body: dict[str, Any] = {"tagName": tag, "probability": probability,
                            "predictions": [{"tagName": t, "probability": p} for t, p in predictions],
                            "captureTime": datetime.now(timezone.utc), "frameNumber": 0, "source": "test"}
    return Classification.model_validate(body if state is None else {**body, "state": state})


def stored(matrix: Matrix, pixels: Sequence[RGB]) -> list[RGB]:
    """``pixels`` as ``matrix`` holds them: exact in memory, 5-6-5 bits per colour on the Sense HAT's framebuffer."""
    if isinstance(matrix, VirtualMatrix):
        return list(pixels)
    return [(r & 0xF8, g & 0xFC, b & 0xF8) for r, g, b in pixels]


def physical(matrix: Matrix) -> np.ndarray:
    """The LEDs as wired (8x8x3), whatever the rotation: the virtual matrix's array, or sense-emu's framebuffer."""
    if isinstance(matrix, VirtualMatrix):
        return matrix.physical.copy()
    assert isinstance(matrix, SenseHatApiMatrix)
    with open(matrix.hat._fb_device, "rb") as fb:
        rgb565 = np.frombuffer(fb.read(128), dtype=np.uint16).reshape(8, 8).astype(np.int64)
    return np.stack([(rgb565 >> 11) << 3, ((rgb565 >> 5) & 0x3F) << 2, (rgb565 & 0x1F) << 3], axis=-1)


@pytest.fixture(params=["virtual", "emulator"])
def matrix(request: pytest.FixtureRequest) -> Iterator[Matrix]:
    opened = open_matrix(request.param)
    assert opened.name == request.param
    yield opened
    opened.close()


def test_a_sequence_of_messages_pixel_by_pixel_with_brightness_and_rotation(matrix: Matrix, tmp_path: Path) -> None:
    statuses: list[dict[str, Any]] = []
    settings = DisplaySettings(display_snapshot_dir=str(tmp_path))
    display = Display(matrix, settings, on_change=statuses.append)
    assert matrix.pixels() == BLANK

    steps: list[tuple[Classification, Picture, str, str | None]] = [
        (message("Apple", 0.9, [("Apple", 0.9), ("Banana", 0.1)]), APPLE, "tag", "Apple"),
        (message(None, 0.0, [("Banana", 0.4), ("Apple", 0.35)], "notSure"), NOT_SURE, "notSure", "Banana"),
        (message(None, 0.0, [("Banana", 0.2)], "empty"), BLANK, "empty", None),
        (message("Kiwi", 0.8), K_KIWI, "tag", "Kiwi"),  # no predictions: tagName and probability count
    ]
    for sent, picture, state, tag in steps:
        assert display.show(sent) is True
        assert matrix.pixels() == stored(matrix, picture), state
        assert (statuses[-1]["state"], statuses[-1]["tag"], statuses[-1]["backend"]) == (state, tag, matrix.name)

    display.apply_settings(settings.model_copy(update={"brightness": 0.2}))
    assert matrix.pixels() == stored(matrix, K_KIWI_FIFTH)  # the state is redrawn at once, dimmed
    display.show(message("Apple", 0.9))
    assert matrix.pixels() == stored(matrix, APPLE_FIFTH)
    assert physical(matrix).reshape(64, 3).tolist() == [list(p) for p in stored(matrix, APPLE_FIFTH)]

    # rotation turns what is wired, clockwise (as the Sense HAT's set_rotation): the stalk's LED, logical row 0
    # column 4, is wired at row 4 column 7 after 90 degrees, row 7 column 3 after 180, row 3 column 0 after 270
    stalk = stored(matrix, [(0, 32, 0)])[0]
    for degrees, (row, col) in ((90, (4, 7)), (180, (7, 3)), (270, (3, 0)), (0, (0, 4))):
        display.apply_settings(settings.model_copy(update={"brightness": 0.2, "rotation": degrees}))
        logical = np.asarray(stored(matrix, APPLE_FIFTH)).reshape(8, 8, 3)
        assert (physical(matrix) == np.rot90(logical, -degrees // 90)).all(), degrees
        assert tuple(physical(matrix)[row, col]) == stalk, degrees
        assert matrix.pixels() == stored(matrix, APPLE_FIFTH)  # what the viewer sees is unchanged

    display.apply_settings(settings.model_copy(update={"brightness": 0.0}))
    assert matrix.pixels() == BLANK  # brightness 0: every LED off, the state is kept
    assert statuses[-1]["tag"] == "Apple"

    snapshots = sorted(tmp_path.glob("*.png"))
    assert [p.name.split("-", 1)[1] for p in snapshots] == [
        "cleared.png", "Apple.png", "Banana-notsure.png", "cleared.png", "Kiwi.png", "Kiwi.png", "Apple.png", "Apple.png"]
    assert led_colours(snapshots[1]) == APPLE and led_colours(snapshots[2]) == NOT_SURE
    assert led_colours(snapshots[5]) == K_KIWI_FIFTH and led_colours(snapshots[7]) == BLANK  # the dimming shows
    display.close()


def test_the_display_renders_the_state_the_camera_decided_and_judges_nothing() -> None:
    """CameraCapture decides what is in view (its threshold and notSureFloor); the display shows that state
    whatever the probabilities (it has no threshold of its own), and reads a version 1 message by its tag."""
    matrix = VirtualMatrix()
    display = Display(matrix, DisplaySettings())
    display.show(message(None, 0.0, [("Apple", 0.45), ("Banana", 0.3)], "notSure"))
    assert (display.status()["state"], display.status()["tag"], display.status()["probability"]) == ("notSure", "Apple", 0.45)
    assert matrix.pixels() == NOT_SURE
    display.show(message("Apple", 0.2, [("Apple", 0.2)], "tag"))  # a camera with threshold 0.2: a tag at 0.2
    assert display.status()["state"] == "tag" and matrix.pixels() == APPLE
    display.show(message(None, 0.0, [("Apple", 0.45)], "empty"))  # a camera with floor 0.5: 0.45 is nothing
    assert display.status()["state"] == "empty" and matrix.pixels() == BLANK
    assert display.show(message(None, 0.0, [("Apple", 0.1)], "empty")) is False  # still nothing in view: no update
    display.show(message("Kiwi", 0.8))  # version 1 (no state): a tag
    assert display.status()["state"] == "tag" and matrix.pixels() == K_KIWI
    display.show(message(None, 0.0, [("Apple", 0.45)]))  # version 1 without a tag: nothing
    assert display.status() | {"since": ""} == {"backend": "virtual", "state": "empty", "tag": None, "probability": None,
                                               "picture": "off", "since": "", "error": ""}


def test_threshold_on_the_display_is_refused_with_where_to_set_it() -> None:
    """The operator tunes one threshold, in one twin: the display's old keys are refused, the rest applied."""
    from edgekit.settings import SettingsStore

    store = SettingsStore(DisplaySettings, {})
    refused = store.apply({"threshold": 0.4, "notSureFloor": 0.2, "brightness": 0.5}, full=False)
    where = "what is in view is decided by CameraCapture now: set {} in CameraCapture's module twin"
    assert refused == {"threshold": where.format("threshold"), "notSureFloor": where.format("notSureFloor")}
    assert store.current.brightness == 0.5


def test_custom_icons_override_the_built_in_ones_live(matrix: Matrix) -> None:
    settings = DisplaySettings()
    display = Display(matrix, settings)
    display.show(message("Apple", 0.9))
    rows = ["gggggggg", "g......g", "g.rrrr.g", "g.r..r.g", "g.r..r.g", "g.rrrr.g", "g......g", "gggggggg"]
    icons = f"apple=#00FF00; Cherry Tomato = {'/'.join(rows)} ;"
    display.apply_settings(build(DisplaySettings, {"icons": icons}, strict=True))
    assert matrix.pixels() == stored(matrix, disc((0, 255, 0)))  # #00FF00: a green disc, redrawn at once
    assert display.status()["picture"] == "custom"
    display.show(message("  cherry TOMATO ", 0.9))
    expected = [(0, 200, 0) if ch == "g" else (255, 0, 0) if ch == "r" else (0, 0, 0) for row in rows for ch in row]
    assert matrix.pixels() == stored(matrix, expected)
    display.apply_settings(settings)  # the overrides removed: the letter again
    assert matrix.pixels() == stored(matrix, letter("C", CHERRY_TOMATO))
    display.apply_settings(build(DisplaySettings, {"icons": "Cherry Tomato=brown"}, strict=True))
    assert matrix.pixels() == stored(matrix, disc((120, 70, 0)))  # brown: the palette's n


@pytest.mark.parametrize("icons", [
    "Apple=#12345", "Apple=rouge", "Apple=" + "/".join(["r" * 8] * 7), "Apple=" + "/".join(["r" * 9] * 8),
    "Apple=" + "/".join(["rrrrrrrX"] * 8), "Apple", "=red", " =red", "x" * 65 + "=red", "apple=red; APPLE=blue",
    "; ".join(f"t{i}=red" for i in range(17)), "Apple=red=blue", "A=red\x00", "\ud800=red", "A=red;" * 200,
    {"Apple": "red"}, ["Apple=red"], 7, True, None,
])
def test_bad_icons_are_refused_and_the_last_good_ones_stay(icons: Any) -> None:
    if icons is not None:
        with pytest.raises(SettingsError) as refused:
            build(DisplaySettings, {"icons": icons}, strict=True)
        assert list(refused.value.problems) == ["icons"]
    store = SettingsStore(DisplaySettings, {})
    try:
        assert store.apply({"icons": "Apple=red"}, full=False) == {}
        refused_keys = store.apply({"icons": icons}, full=False)
        if icons is None:  # null deletes the override: back to the default
            assert refused_keys == {} and store.current.icons == ""
        else:
            assert "icons" in refused_keys and store.current.icons == "Apple=red"
    finally:
        store.close()


def test_icons_can_come_from_the_environment() -> None:
    store = SettingsStore(DisplaySettings, {"ICONS": "Apple=" + "/".join(["rrrrrrrr"] + ["r......r"] * 6 + ["rrrrrrrr"])
                                            + "; Kiwi=brown"})
    try:
        assert store.current.icons == ("Apple=" + "/".join(["rrrrrrrr"] + ["r......r"] * 6 + ["rrrrrrrr"])
                                       + "; Kiwi=brown")
    finally:
        store.close()
    bad = SettingsStore(DisplaySettings, {"ICONS": "Apple"})
    try:
        assert bad.current.icons == ""  # a bad variable is ignored (logged), the default kept
    finally:
        bad.close()


class RecordingMatrix(VirtualMatrix):
    """The virtual matrix, keeping every picture it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[list[RGB]] = []

    def show(self, pixels: Sequence[RGB]) -> None:
        self.shown.append(list(pixels))
        super().show(pixels)


def test_scroll_text_scrolls_the_name_once_then_the_icon_stays() -> None:
    matrix = RecordingMatrix()
    display = Display(matrix, DisplaySettings(scroll_text=True, brightness=0.5), scroll_step_s=0.0)
    before = len(matrix.shown)
    display.show(message("Apple", 0.9))
    wait_for(lambda: matrix.pixels() == APPLE_HALF, 10)
    frames = scrolling("Apple", (110, 0, 0))  # in the icon's main colour, (220, 0, 0), at brightness 0.5
    assert frames[0] == BLANK and frames[-1] == BLANK and len(frames) == 8 + 5 * 6
    assert frames[1][2 * 8 + 7] == (110, 0, 0) and frames[1][2 * 8 + 6] == (0, 0, 0)  # the A enters on the right
    assert frames[8][2 * 8 + 0] == (110, 0, 0)  # ... and reaches the left edge
    assert matrix.shown[before:] == [*frames, APPLE_HALF]
    assert display.status()["state"] == "tag"
    display.close()


def test_a_new_state_interrupts_scrolling_at_once() -> None:
    matrix = RecordingMatrix()
    display = Display(matrix, DisplaySettings(scroll_text=True), scroll_step_s=60.0)
    before = len(matrix.shown)
    display.show(message("Banana", 0.9))
    wait_for(lambda: len(matrix.shown) > before, 10)  # the first scroll frame is up
    display.show(message(None))
    assert matrix.pixels() == BLANK
    display.close()  # the scroll thread has stopped; nothing was drawn after the clear
    assert matrix.shown[before:] == [BLANK, BLANK]  # the first (empty) scroll frame, then the clear
