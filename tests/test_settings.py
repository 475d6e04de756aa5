"""Settings: defaults < environment < module-twin desired properties, validated, swapped whole, acknowledged.

The twin travels over the real local transport (the runner's Bus and a module's LocalHub).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from capture.settings import CaptureSettings
from conftest import wait_for
from edgekit.local_hub import LocalHub
from edgekit.settings import SettingsError, SettingsStore, build
from localedge.runner.bus import Bus, UpstreamSink
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
    assert "frameRate: Input should be greater than or equal to 0.001" in status["refused"]
    assert "colour: unknown setting" in status["refused"]
    assert changes == [(0.5, 0.8)]


def test_a_desired_start_up_variable_is_named_when_refused(bus: Bus, hub: LocalHub) -> None:
    """Issue 22, item 11: desired logLevel matches LOG_LEVEL, which every module reads at start."""
    store = SettingsStore(CaptureSettings, {}, hub)
    store.start()
    bus.patch_desired("CameraCapture", {"logLevel": "DEBUG", "threshold": 0.7})
    wait_for(lambda: store.current.threshold == 0.7)
    status = desired_status(bus, 2)
    assert status["status"] == "partly applied"
    assert ("logLevel: a start-up setting: set LOG_LEVEL in the module's env in the deployment manifest "
            "(read once at start), not as a desired property") in status["refused"]


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


# --- live vs start-up settings, strict types, bounded and credential-free reasons ------------------------


def test_every_field_is_declared_live_or_startup_and_secrets_are_startup() -> None:
    from pydantic import SecretStr

    from classifier.settings import ClassifierSettings
    from display.settings import DisplaySettings
    from edgekit.settings import ModuleSettings, live, startup

    for model in (CaptureSettings, ClassifierSettings, SpeechSettings, DisplaySettings):
        assert set(model.live_fields()) | set(model.startup_fields()) == set(model.model_fields)
    assert ClassifierSettings.live_fields() == ["model_url", "model_sha256"]
    assert SpeechSettings.is_secret("speech_key") and "speech_key" in SpeechSettings.startup_fields()
    assert DisplaySettings.scope("backend") == "startup"
    with pytest.raises(TypeError, match="declare it with live"):
        type("Undeclared", (ModuleSettings,), {"__annotations__": {"x": int}, "x": 1})
    with pytest.raises(TypeError, match="secret must be a startup"):
        type("LiveSecret", (ModuleSettings,), {"__annotations__": {"key": SecretStr}, "key": live(SecretStr(""))})
    assert type("Fine", (ModuleSettings,), {"__annotations__": {"x": int}, "x": startup(1)})().x == 1


def test_a_startup_setting_sent_as_desired_is_refused_with_where_to_set_it() -> None:
    from classifier.settings import ClassifierSettings

    store = SettingsStore(ClassifierSettings, {"PORT": "8080"})
    refused = store.apply({"port": 9090, "threads": 8, "modelSha256": "ab" * 32, "$version": 3}, full=False)
    assert set(refused) == {"port", "threads"}
    assert "set PORT in the module's env in the deployment manifest" in refused["port"]
    assert store.current.port == 8080 and store.current.threads == 4  # start-up values stay as started
    assert store.current.model_sha256 == "ab" * 32  # the live key in the same patch is applied


def test_a_secret_is_never_a_desired_property_and_never_echoed(caplog: pytest.LogCaptureFixture) -> None:
    store = SettingsStore(SpeechSettings, {"SPEECH_KEY": "env-key-0123", "SPEECH_REGION": "westeurope"})
    refused = store.apply({"speechKey": "desired-key-4567"}, full=False)
    assert "SPEECH_KEY" in refused["speechKey"] and "never desired properties" in refused["speechKey"]
    assert store.current.speech_key.get_secret_value() == "env-key-0123"
    assert "desired-key-4567" not in caplog.text and "env-key-0123" not in caplog.text
    assert store.current.reported()["speechKey"] == "**********"


@pytest.mark.parametrize("key, value", [("threshold", True), ("frameRate", "5"), ("loopVideo", 1), ("jpegQuality", 90.5),
                                        ("resizeWidth", None.__class__.__name__), ("sendOn", ["change"]),
                                        ("videoPath", {"path": "clip.mp4"})])
def test_desired_values_are_strictly_typed(key: str, value: Any) -> None:
    store = SettingsStore(CaptureSettings, {})
    before = store.current
    refused = store.apply({key: value}, full=False)
    assert key in refused and store.current == before


def test_numbers_in_json_are_accepted_for_float_settings() -> None:
    store = SettingsStore(CaptureSettings, {})
    assert store.apply({"frameRate": 5, "threshold": 1, "jpegQuality": 80}, full=False) == {}
    assert store.current.frame_rate == 5.0 and isinstance(store.current.frame_rate, float)


def test_a_huge_desired_value_is_refused_with_a_short_reason_and_a_small_report(bus: Bus, hub: LocalHub) -> None:
    import json

    store = SettingsStore(CaptureSettings, {}, hub)
    store.start()
    huge = "x" * 100_000
    bus.patch_desired("CameraCapture", {"videoPath": huge, "phrase": huge, **{f"k{i:04d}{huge[:900]}": i for i in range(200)}})
    status = desired_status(bus, 2)
    assert status["status"] == "refused" and store.current.video_path == "0"
    assert "videoPath: too long: 100002 characters" in status["refused"]
    assert "and 178 more refused keys" in status["refused"]
    reported = json.dumps(bus.reported["CameraCapture"])
    assert len(reported) < 8 * 1024, len(reported)
    assert "x" * 100 not in reported


def test_a_long_value_that_fails_validation_is_echoed_as_a_short_excerpt() -> None:
    store = SettingsStore(CaptureSettings, {})
    refused = store.apply({"sendOn": "y" * 900}, full=False)
    assert "(902 characters)" in refused["sendOn"] and "y" * 41 not in refused["sendOn"]


def test_credentials_in_settings_are_masked_in_reports_and_log_lines() -> None:
    import logging

    from edgekit.redact import RedactingFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    logger = logging.getLogger("edgekit.settings")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        store = SettingsStore(CaptureSettings, {})
        store.apply({"videoPath": "rtsp://admin:hunter2@cam.local:554/live",
                     "imageProcessingEndpoint": "https://cls.example/image?sv=2024&sig=c2VjcmV0"}, full=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    reported = store.current.reported()
    assert reported["videoPath"] == "rtsp://admin:***@cam.local:554/live"
    assert "sig=***" in reported["imageProcessingEndpoint"] and "c2VjcmV0" not in reported["imageProcessingEndpoint"]
    assert "settings changed" in out.getvalue()
    assert "hunter2" not in out.getvalue() and "c2VjcmV0" not in out.getvalue()
    assert store.current.video_path.endswith("hunter2@cam.local:554/live")  # the module itself still has it


def test_patches_are_applied_off_the_transport_thread_newest_wins() -> None:
    import threading

    store = SettingsStore(CaptureSettings, {})
    release, entered = threading.Event(), threading.Event()
    seen: list[tuple[str, float]] = []

    def slow_listener(_old: CaptureSettings, new: CaptureSettings) -> None:
        seen.append((threading.current_thread().name, new.frame_rate))
        entered.set()
        release.wait(10)

    store.add_listener(slow_listener)
    store.submit({"frameRate": 3, "$version": 2})
    assert entered.wait(5)  # the listener is busy with the first patch...
    for rate in (4, 5, 6):
        store.submit({"frameRate": rate, "$version": rate})  # ...and the transport's thread is not held
    store.submit({"threshold": 0.9, "$version": 7})
    release.set()
    assert store.wait_idle(10)
    assert store.current.frame_rate == 6 and store.current.threshold == 0.9
    assert seen == [("settings", 3), ("settings", 6)]  # the waiting patches were merged: newest wins
    store.close()


def test_a_failing_listener_is_counted_and_the_others_still_run() -> None:
    store = SettingsStore(CaptureSettings, {})
    calls: list[float] = []

    def broken(_old: CaptureSettings, _new: CaptureSettings) -> None:
        raise RuntimeError("boom")

    store.add_listener(broken)
    store.add_listener(lambda _old, new: calls.append(new.threshold))
    store.apply({"threshold": 0.7}, full=False)
    assert calls == [0.7] and store.listener_errors == 1 and store.current.threshold == 0.7


@pytest.mark.parametrize("model_name, key, value", [
    ("display", "rotation", 270.0), ("display", "rotation", True), ("speech", "voice", ""), ("speech", "espeakVoice", " "),
    ("speech", "espeakVoice", "rtsp://user:pw@host/x"), ("speech", "phrase", "   "), ("camera", "frameRate", 5e-324),
    ("camera", "slideshowIntervalS", 5e-324), ("camera", "videoPath", "clip\ud800.mp4"), ("camera", "videoPath", "a\x00b"),
])
def test_values_that_would_trip_a_module_later_are_refused_up_front(model_name: str, key: str, value: Any) -> None:
    from display.settings import DisplaySettings

    model = {"display": DisplaySettings, "speech": SpeechSettings, "camera": CaptureSettings}[model_name]
    store: SettingsStore[Any] = SettingsStore(model, {})
    before = store.current
    refused = store.apply({key: value}, full=False)
    assert key in refused and store.current == before
    assert "pw@" not in refused[key]


def test_nested_desired_patches_merge_as_twins_do() -> None:
    """IoT Hub sends only the changed nested keys of an object setting; null deletes one."""
    store = SettingsStore(SpeechSettings, {})
    assert store.apply({"speechMap": {"de-DE": {"Apple": "ein Apfel"}}}, full=False) == {}
    assert store.apply({"speechMap": {"de-DE": {"Banana": "eine Banane"}, "fr-FR": {"Apple": "une pomme"}}}, full=False) == {}
    assert store.current.speech_map == {"de-DE": {"Apple": "ein Apfel", "Banana": "eine Banane"}, "fr-FR": {"Apple": "une pomme"}}
    assert store.apply({"speechMap": {"de-DE": {"Apple": None}, "fr-FR": None}}, full=False) == {}
    assert store.current.speech_map == {"de-DE": {"Banana": "eine Banane"}}
    assert store.apply({"speechMap": {"nl-NL": {"Apple": "een appel"}}, "$version": 9}, full=True) == {}
    assert store.current.speech_map == {"nl-NL": {"Apple": "een appel"}}  # a full document replaces


def test_a_listener_added_after_a_change_catches_up_once() -> None:
    store = SettingsStore(CaptureSettings, {})
    built_from = store.current
    store.apply({"threshold": 0.9}, full=False)  # a patch between building an object and listening
    calls: list[tuple[float, float]] = []
    store.add_listener(lambda old, new: calls.append((old.threshold, new.threshold)), since=built_from)
    store.apply({"frameRate": 3}, full=False)
    assert calls == [(0.5, 0.9), (0.9, 0.9)]


def test_patches_coalesced_in_a_burst_end_as_the_desired_document(tmp_path: Any) -> None:
    """Issue 22 item 2: nine nested speechMap patches over the real local transport, eight of them arriving
    while the worker is busy with the first (they wait and are coalesced): nested keys set, a nested key
    deleted (null), a whole language deleted then set again. The effective speechMap, and the reported one,
    equal the desired document IoT Hub holds, key by key, and desiredStatus says applied."""
    import threading

    bus = Bus([], {"TextToSpeech": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    hub = LocalHub.from_environment(bus.environment("TextToSpeech"))
    store = SettingsStore(SpeechSettings, {}, hub)
    try:
        store.start()
        release, entered = threading.Event(), threading.Event()

        def busy(_old: SpeechSettings, _new: SpeechSettings) -> None:
            entered.set()
            release.wait(10)

        store.add_listener(busy)
        bus.patch_desired("TextToSpeech", {"speechMap": {"de-DE": {"Grape": "eine Traube"}}})
        assert entered.wait(10)  # the worker holds the first patch; the next ones wait
        burst: list[dict[str, Any]] = [
            {"de-DE": {"Apple": "ein Apfel", "Banana": "eine Banane"}},
            {"de-DE": {"Cherry": "eine Kirsche", "Apple": None}, "fr-FR": {"Apple": "une pomme"}},
            {"fr-FR": {"Banana": "une banane", "Cherry": "une cerise"}},
            {"de-DE": {"Date": "eine Dattel", "Banana": "zwei Bananen", "Grape": None}},
            {"fr-FR": None},
            {"fr-FR": {"Date": "une datte"}, "de-DE": {"Elder": "ein Holunder"}},
            {"de-DE": {"Cherry": None, "Fig": "eine Feige"}},
            {"nl-NL": {"Apple": "een appel", "Banana": "een banaan"}},
        ]
        for patch in burst:
            version = bus.patch_desired("TextToSpeech", {"speechMap": patch})
        # The transport hands frames over in order on one thread: once a method call after the burst is
        # answered (404: the store offers none), every patch of the burst is queued behind the busy worker.
        assert bus.invoke("TextToSpeech", "afterTheBurst", None, 10)[0] == 404
        release.set()
        status = wait_for(lambda: (s := bus.reported["TextToSpeech"].get("desiredStatus", {})).get("version") == version and s)
        desired = bus.twin("TextToSpeech")[0]["speechMap"]
        assert desired == {"de-DE": {"Banana": "zwei Bananen", "Date": "eine Dattel", "Elder": "ein Holunder", "Fig": "eine Feige"},
                           "fr-FR": {"Date": "une datte"}, "nl-NL": {"Apple": "een appel", "Banana": "een banaan"}}
        for language in desired.keys() | store.current.speech_map.keys():
            assert store.current.speech_map.get(language) == desired.get(language), language
        assert json.loads(bus.reported["TextToSpeech"]["settings"]["speechMap"]) == desired  # reported as JSON text
        assert status["status"] == "applied" and status["refused"] == ""
    finally:
        release.set()
        store.close()
        hub.close()
        bus.close()
