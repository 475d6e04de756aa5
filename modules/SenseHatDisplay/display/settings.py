"""SenseHatDisplay settings: environment variables give the defaults, desired properties override."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import field_validator

from display.icons import parse_icons
from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup

MAX_ICONS_CHARS = 1024


class DisplaySettings(ModuleSettings):
    """Start-up settings (env only): display_snapshot_dir: folder for a PNG of each new matrix state ("" = none);
    backend: "auto" (the Sense HAT on a Pi, else the sense-emu virtual matrix where installed, else the
    built-in virtual matrix), "sensehat", "emulator" or "virtual"; metrics_port: TCP port of the Prometheus
    metrics for the IoT Edge metrics collector (0: not served).

    What is in view (a tag, "not sure", nothing) is decided by CameraCapture (its ``threshold`` and
    ``notSureFloor``) and arrives in each message's ``state``; the display renders it.

    Live settings: brightness: 0-1, scales every
    LED value; rotation: degrees (0, 90, 180, 270); scroll_text: scroll the tag's name once before its
    icon; log_matrix: also draw each new matrix state in the log (ANSI 24-bit colour); icons: "Tag=colour
    or 8x8 pattern" entries separated by ";" (see :func:`display.icons.parse_icons`), overriding the built-in icons.
    """

    display_snapshot_dir: str = startup("")
    backend: Literal["auto", "sensehat", "emulator", "virtual"] = startup("auto")
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)
    MOVED: ClassVar[dict[str, str]] = {
        key: f"what is in view is decided by CameraCapture now: set {key} in CameraCapture's module twin"
        for key in ("threshold", "notSureFloor")}

    brightness: float = live(1.0, ge=0.0, le=1.0)
    rotation: Literal[0, 90, 180, 270] = live(0)
    scroll_text: bool = live(False)
    log_matrix: bool = live(False)
    icons: str = live("", max_length=MAX_ICONS_CHARS)

    @field_validator("rotation", mode="before")
    @classmethod
    def _whole_degrees(cls, value: Any) -> Any:
        if isinstance(value, (bool, float)):
            raise ValueError("must be the whole number 0, 90, 180 or 270")
        return value

    @field_validator("icons", mode="after")
    @classmethod
    def _valid_icons(cls, value: str) -> str:
        parse_icons(value)
        return value
