"""SenseHatDisplay settings: environment variables give the defaults, desired properties override."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator

from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup


class DisplaySettings(ModuleSettings):
    """Start-up settings (env only): display_snapshot_dir: folder for a PNG of each new matrix state ("" = none);
    backend: "auto" (the SenseHat on a Pi, else the sense-emu virtual matrix), "sensehat" or
    "emulator"; metrics_port: TCP port of the Prometheus metrics for the IoT Edge metrics collector
    (0: not served). Live settings: rotation: degrees (0, 90, 180, 270); low_light: dim the LEDs."""

    display_snapshot_dir: str = startup("")
    backend: Literal["auto", "sensehat", "emulator"] = startup("auto")
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)
    rotation: Literal[0, 90, 180, 270] = live(0)
    low_light: bool = live(False)

    @field_validator("rotation", mode="before")
    @classmethod
    def _whole_degrees(cls, value: Any) -> Any:
        if isinstance(value, (bool, float)):
            raise ValueError("must be the whole number 0, 90, 180 or 270")
        return value
