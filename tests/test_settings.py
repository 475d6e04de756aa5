"""Settings: defaults < environment < module-twin desired properties, validated, swapped whole, acknowledged.

The twin travels over the real local transport (the runner's Bus and a module's LocalHub).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from capture.settings import CaptureSettings
from conftest import wait_for
from edgekit.local_hub import LocalHub
from edgekit.settings import SettingsError, SettingsStore, build
from localedge.bus import Bus, UpstreamSink
from speech.settings import SpeechSettings


def desired_status(bus: Bus, version: int) -> dict[str, Any]:
    """The reported desiredStatus once it acknowledges ``version``."""
    return wait_for(lambda: (s := bus.reported["CameraCapture"].get("desiredStatus", {})).get("version") == version and s)


@pytest.fixture()
def bus() -> Iterator[Bus]:
    bus = Bus([], {"CameraCapture": {"frameRate": 4}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    yield bus
    bus.close()


@pytest.fixture()
def hub(bus: Bus) -> Iterator[LocalHub]:
    hub = LocalHub.from_environment(bus.environment("CameraCapture"))
    yield hub
    hub.close()


def test_environment_strings_become_typed_values() -> None:
    store = SettingsStore(CaptureSettings, {"THRESHOLD": "0.7", "FRAME_RATE": "5", "LOOP_VIDEO": "true", "VIDEO_PATH": "clip.mp4"})
    s = store.current
    assert s.threshold == 0.7 and isinstance(s.threshold, float)  # the reference compared a string
    assert s.frame_rate == 5.0 and s.loop_video is True and s.video_path == "clip.mp4"


def test_bad_environment_value_falls_back_to_default_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    store = SettingsStore(CaptureSettings, {"THRESHOLD": "high", "FRAME_RATE": "5"})
    assert store.current.threshold == 0.5 and store.current.frame_rate == 5.0
    assert "ignoring environment variable THRESHOLD" in caplog.text


def test_build_names_each_bad_key() -> None:
    with pytest.raises(SettingsError) as error:
        build(CaptureSettings, {"threshold": 2, "frame_rate": 0})
    assert set(error.value.problems) == {"threshold", "frameRate"}


def test_twin_handshake_applies_desired_and_reports(bus: Bus, hub: LocalHub) -> None:
    store = SettingsStore(CaptureSettings, {"FRAME_RATE": "2"}, hub)
    store.start()
    assert store.current.frame_rate == 4  # desired overrides the environment
    reported = wait_for(lambda: bus.reported["CameraCapture"].get("settings"))
    assert reported["frameRate"] == 4 and reported["videoPath"] == "0"
    assert bus.reported["CameraCapture"]["desiredStatus"]["status"] == "applied"


def test_patch_applies_good_keys_refuses_bad_ones_and_keeps_last_good(bus: Bus, hub: LocalHub) -> None:
    store = SettingsStore(CaptureSettings, {}, hub)
    store.start()
    changes: list[tuple[float, float]] = []
    store.add_listener(lambda old, new: changes.append((old.threshold, new.threshold)))
    bus.patch_desired("CameraCapture", {"threshold": 0.8, "frameRate": -1, "colour": "blue"})
    wait_for(lambda: store.current.threshold == 0.8)
    assert store.current.frame_rate == 4  # the bad value is refused, the last good one stays
    status = desired_status(bus, 2)
    assert status["status"] == "partly applied"
    assert "frameRate: Input should be greater than 0" in status["refused"]
    assert "colour: unknown setting" in status["refused"]
    assert changes == [(0.5, 0.8)]


def test_null_removes_an_override(bus: Bus, hub: LocalHub) -> None:
    store = SettingsStore(CaptureSettings, {"FRAME_RATE": "3"}, hub)
    store.start()
    assert store.current.frame_rate == 4
    bus.patch_desired("CameraCapture", {"frameRate": None})
    wait_for(lambda: store.current.frame_rate == 3)


def test_wholly_bad_patch_is_refused_and_nothing_changes(bus: Bus, hub: LocalHub) -> None:
    store = SettingsStore(CaptureSettings, {}, hub)
    store.start()
    before = store.current
    bus.patch_desired("CameraCapture", {"threshold": "very"})
    status = desired_status(bus, 2)
    assert status["status"] == "refused" and store.current == before


def test_secrets_are_masked_in_reported_properties() -> None:
    s = SpeechSettings(speech_key="0123456789abcdef", speech_region="westeurope")
    assert s.reported()["speechKey"] == "**********"
    assert s.azure_configured
