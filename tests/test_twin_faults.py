"""Bad and edge desired properties for every live setting of every module, sent to the real module processes.

The four modules run as their own processes on the runner's real bus (routes camera -> display,
speech and $upstream). For each live setting a table written by hand from the settings tables of docs/settings.md
and the settings' docstrings (not computed by the settings code) gives the values a module must apply,
each with the value it must then report, and the values it must refuse: wrong JSON types (``true``
for a number, a number for a string, a list, an object), values out of the documented range, a 100 KB
string, a lone surrogate, and edge-but-valid values (the documented bounds, the longest value allowed,
a credentialed URL, reported with its password as ***). A bad value is refused with a short reason in
reported ``desiredStatus.refused`` and the last good settings stay; a good one is applied and reported
as the table says. Throughout, every process stays up, reported properties stay under 32 KB, no
worker thread fails, and at the end tags still flow from the camera to the display, speech and
$upstream, and the classifier still answers. A start-up setting sent as a desired property is
refused with a reason naming its environment variable.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from capture.settings import CaptureSettings
from capture_harness import free_port
from classifier.settings import ClassifierSettings
from module_processes import start_modules, stop_modules
from conftest import IMAGES, MODELS, read_jsonl, wait_for
from display.settings import DisplaySettings
from edgekit import wire
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification
from edgekit.settings import EXCERPT_CHARS, MAX_DESIRED_CHARS, MAX_REASONS, ModuleSettings, SettingsError, build
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route
from speech.settings import SpeechSettings

HUGE = "x" * 100_000
NESTED = {"a": {"b": {"c": [1, {"d": "e"}]}}}
LONG_PATH = "/tmp/" + "p" * 300 + ".mp4"
REPORTED_LIMIT = 32 * 1024  # IoT Hub's limit for a twin's reported properties, bytes
SECRET = "s3cr3t-value-never-echoed"
# Refused for every live setting (docs/settings.md): longer than 1024 characters, the wrong JSON type (an object, a
# list), and text that is not UTF-8 (a lone surrogate).
BAD_FOR_ALL: list[Any] = [HUGE, NESTED, [1, 2], "\ud800"]
LONGEST = "v" * 1022  # 1024 characters of JSON with its quotes: the longest value accepted
TOO_LONG = "v" * 1025
NOT_A_NUMBER: list[Any] = [True, False, "5", "0.5"]  # true is not a number, "5" is not a number (docs/settings.md)
NOT_A_BOOL: list[Any] = ["true", 1, 0, 0.5]


def same(*values: Any) -> list[tuple[Any, Any]]:
    """Values applied and reported as they were sent."""
    return [(value, value) for value in values]


# What each module must do with each live desired property, worked out by hand from docs/settings.md's tables and the
# settings' docstrings: twin name -> (values applied, each with the value then reported; values refused).
# Numbers are JSON numbers within the documented range (a whole number where the setting counts something);
# a password in a URL is reported as ***; speechMap and voices are reported as JSON text.
Table = dict[str, tuple[list[tuple[Any, Any]], list[Any]]]
CAMERA: Table = {
    "videoPath": (same("0", LONG_PATH, "Äpfel ✓ 🍎", LONGEST)
                  + [("rtsp://user:pw@127.0.0.1:1/live", "rtsp://user:***@127.0.0.1:1/live")],
                  ["", " ", 42, True, 1.5, TOO_LONG]),
    "loopVideo": (same(True, False), NOT_A_BOOL),
    "slideshowIntervalS": (same(0.5, 2), [-1, 0, *NOT_A_NUMBER]),
    "imageProcessingEndpoint": (same("http://127.0.0.1:1/image")
                                + [("https://user:pw@127.0.0.1:1/image", "https://user:***@127.0.0.1:1/image")],
                                ["", "ftp://127.0.0.1/image", "ImageClassifierService/image", LONG_PATH, 42]),
    "classifierTimeoutS": (same(0.5, 5), [-1, 0, *NOT_A_NUMBER]),
    "frameRate": (same(0.5, 100), [100.5, 101, -1, 0, *NOT_A_NUMBER]),  # up to 100
    "threshold": (same(0, 0.5, 1), [-0.01, 1.01, *NOT_A_NUMBER]),  # 0-1
    "notSureFloor": (same(0, 0.3, 1), [-0.1, 1.1, *NOT_A_NUMBER]),  # 0-1
    "sceneChangeThreshold": (same(0, 255), [-1, 255.5, *NOT_A_NUMBER]),  # 0-255
    "resizeWidth": (same(0, 320), [-1, 320.5, *NOT_A_NUMBER]),  # px, 0: as captured
    "jpegQuality": (same(1, 100), [0, 101, 90.5, *NOT_A_NUMBER]),  # 1-100
    "sendOn": (same("change", "every"), ["CHANGE", "always", "", 7, True]),
    "heartbeatS": (same(0, 1.5), [-1, *NOT_A_NUMBER]),  # 0: off
    "minIntervalS": (same(0, 2), [-1, *NOT_A_NUMBER]),
    "showVideo": (same(False, True), NOT_A_BOOL),
    "liveViewPort": (same(5013, 65535), [0, 65536, 5012.5, *NOT_A_NUMBER]),  # a TCP port
    "reportIntervalS": (same(1, 60), [-1, 0, *NOT_A_NUMBER]),
    "captureMode": (same("off", "uncertain", "changes", "sample"), ["OFF", "all", "", 1]),
    "captureBand": (same(0, 0.5), [-0.1, 0.51, *NOT_A_NUMBER]),  # 0-0.5
    "captureFraction": (same(0, 1), [-0.01, 1.01, *NOT_A_NUMBER]),  # 0-1
    "captureQuota": (same(1, 500), [-1, 0, 2.5, *NOT_A_NUMBER]),  # captures per tag per day
    "captureMaxPerHour": (same(1, 3600), [0, 3601, 1.5, *NOT_A_NUMBER]),  # 1-3600
    "captureSceneChange": (same(0, 255), [-1, 255.5, *NOT_A_NUMBER]),  # 0-255
    "captureGroupBy": (same("day", "tag"), ["DAY", "month", "", 0]),
}
CLASSIFIER: Table = {
    "modelUrl": (same("", "http://127.0.0.1:1/model.zip")
                 + [("https://user:pw@127.0.0.1:1/m.zip", "https://user:***@127.0.0.1:1/m.zip")],
                 ["ftp://127.0.0.1/m.zip", "model.zip", LONG_PATH, "http://127.0.0.1:1/" + "u" * 1006, 42, True]),
    "modelSha256": (same("", "0123456789abcdef" * 4), ["abc", "g" * 64, "a" * 65, 42]),  # 64 hexadecimal digits
}
DISPLAY: Table = {
    "brightness": (same(0, 0.5, 1), [-0.1, 1.1, *NOT_A_NUMBER]),
    "rotation": (same(0, 90, 180, 270), [45, 90.0, -90, 360, "90", True]),  # degrees: 0, 90, 180 or 270
    "scrollText": (same(True, False), NOT_A_BOOL),
    "logMatrix": (same(True, False), NOT_A_BOOL),
    "icons": (same("", "Apple=#00ff00", "Kiwi=" + "/".join(["rgbyowpc"] * 8),
                   "; ".join(f"t{i}=red" for i in range(16))),  # at most 16
              ["Apple=#zzzzzz", "Apple=rouge", "Apple=" + "/".join(["r" * 8] * 7), "=red", "Apple",
               "; ".join(f"t{i}=red" for i in range(17)), 42]),
}
SPEECH: Table = {
    "enabled": (same(False, True), NOT_A_BOOL),
    "volume": (same(0, 0.5, 1), [-0.1, 1.1, *NOT_A_NUMBER]),  # 0-1
    "minRepeatS": (same(0, 10), [-1, *NOT_A_NUMBER]),
    "language": (same("de-DE", "ko-KR", "zh-Hans-CN"), ["en_US", "EN-us", "english", "", LONG_PATH, 42]),  # BCP 47
    "phraseTemplate": (same("You scanned {tagName}", "{tagName}!"), ["", " ", 42]),
    "speechMap": ([({}, "{}"), ({"de-DE": {"Apple": "ein Apfel"}}, '{"de-DE": {"Apple": "ein Apfel"}}'),
                   ({"de-DE": {"Apple": "Äpfel ✓ 🍎"}}, '{"de-DE": {"Apple": "Äpfel ✓ 🍎"}}'),
                   ({"de-DE": {"Apple": "p" * 100}}, '{"de-DE": {"Apple": "' + "p" * 100 + '"}}')],  # 100 a phrase
                  [{"de-DE": {"Apple": "p" * 101}}, {"german": {"Apple": "x"}}, {"de-DE": "ein Apfel"},
                   {"de-DE": {"Apple": " "}}, {"de-DE": {"Apple": 5}}, {f"de-{c}{c}": {} for c in "ABCDEFGHI"}]),  # 8 langs
    "voices": ([({}, "{}"), ({"espeak-ng": {"en-US": "en-gb"}}, '{"espeak-ng": {"en-US": "en-gb"}}'),
                ({"azure": {"de-DE": "de-DE-ConradNeural"}}, '{"azure": {"de-DE": "de-DE-ConradNeural"}}')],
               [{"nope": {"en-US": "x"}}, {"espeak-ng": {"en-US": "../../etc/passwd"}}, {"espeak-ng": {"en-US": "a b"}},
                {"espeak-ng": "en-gb"}]),
    "synthesisTimeoutS": (same(0.5, 10), [-1, 0, *NOT_A_NUMBER]),
    "hedgeDelayS": (same(0, 1), [-1, *NOT_A_NUMBER]),
}
TABLES: dict[str, Table] = {"TextToSpeech": SPEECH, "SenseHatDisplay": DISPLAY, "ImageClassifierService": CLASSIFIER,
                            "CameraCapture": CAMERA}

MODELS_BY_MODULE: dict[str, type[ModuleSettings]] = {
    "TextToSpeech": SpeechSettings,
    "SenseHatDisplay": DisplaySettings,
    "ImageClassifierService": ClassifierSettings,
    "CameraCapture": CaptureSettings,
}


def good_values(module: str) -> dict[str, list[tuple[Any, Any]]]:
    """Twin name -> (value, reported value) of each value the module must apply."""
    return {key: good for key, (good, _) in TABLES[module].items()}


def bad_values(module: str) -> dict[str, list[Any]]:
    """Twin name -> the values the module must refuse (the setting's own, then those every setting refuses)."""
    return {key: [*bad, *BAD_FOR_ALL] for key, (_, bad) in TABLES[module].items()}


def rounds(per_key: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Patches (twin name -> value) trying every value of every key, at most MAX_REASONS keys each, so each
    refused key is listed in desiredStatus."""
    patches = []
    for k in range(max(len(v) for v in per_key.values())):
        keys = [(key, values[k]) for key, values in per_key.items() if len(values) > k]
        patches += [dict(keys[i:i + MAX_REASONS]) for i in range(0, len(keys), MAX_REASONS)]
    return patches


@pytest.mark.parametrize("module", list(MODELS_BY_MODULE))
def test_the_tables_cover_every_live_setting_and_the_settings_model_agrees(module: str) -> None:
    """Every live setting has its row (a new one must be added here), and the settings model, without the module
    process, applies and refuses what the table says."""
    model = MODELS_BY_MODULE[module]
    assert set(TABLES[module]) == {model.twin_name(f) for f in model.live_fields()}
    field_of = {model.twin_name(f): f for f in model.live_fields()}
    for key, values in good_values(module).items():
        for value, reported in values:
            assert len(json.dumps(value)) <= MAX_DESIRED_CHARS, key
            assert build(model, {field_of[key]: value}, strict=True).reported()[key] == reported, (key, value)
    for key, bad in bad_values(module).items():
        for value in bad:
            if len(json.dumps(value)) > MAX_DESIRED_CHARS:
                continue  # the store refuses it before the model sees it
            with pytest.raises(SettingsError):
                build(model, {field_of[key]: value}, strict=True)


@dataclass
class Solution:
    """The four module processes on one bus, and where their output lands."""

    bus: Bus
    tmp: Path
    classifier_port: int
    scene: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    tried: dict[str, int] = field(default_factory=dict)

    def reported(self, module: str) -> dict[str, Any]:
        return self.bus.reported[module]

    def log(self, module: str) -> str:
        return (self.tmp / f"{module}.log").read_text(errors="replace")

    def patch(self, module: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Send a desired patch; returns the reported desiredStatus acknowledging it."""
        self.bus.patch_desired(module, patch)
        version = self.bus.desired[module]["$version"]
        status = wait_for(lambda: (s := self.reported(module).get("desiredStatus", {})).get("version") == version and s,
                          20)
        self.tried[module] = self.tried.get(module, 0) + len(patch)
        self.assert_healthy(module)
        return status

    def assert_healthy(self, module: str) -> None:
        process = self.processes[module]
        assert process.poll() is None, f"{module} exited with {process.returncode}:\n{self.log(module)[-3000:]}"
        size = len(json.dumps(self.reported(module)))
        assert size < REPORTED_LIMIT, f"{module} reported {size} bytes"
        assert not self.reported(module).get("workerErrors"), f"{module}: {self.reported(module)['workerErrors']}"

    def inject(self, tag: str) -> None:
        """A classification of ``tag`` from CameraCapture's output, as the camera sends it (to display, speech, $upstream)."""
        message = Classification(tagName=tag, probability=0.9, predictions=[], captureTime=datetime.now(timezone.utc),
                                 frameNumber=0, source="test")
        self.bus.route("CameraCapture", {"op": "send", "output": CLASSIFICATION_OUTPUT, "properties": message.properties(),
                                         "body": wire.encode_body(message.model_dump_json().encode()),
                                         "contentType": "application/json", "contentEncoding": "utf-8"})

    def tags(self) -> list[str | None]:
        upstream = self.tmp / "upstream.jsonl"
        return [m["body"]["tagName"] for m in read_jsonl(upstream)] if upstream.exists() else []


def _folder(tmp: Path, name: str, image: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / f"{image}.jpg").write_bytes((IMAGES / f"{image}.jpg").read_bytes())
    return folder


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Solution]:
    tmp = tmp_path_factory.mktemp("faults")
    apples = _folder(tmp, "apples", "apple1")
    port = free_port()
    sinks = ["BrokeredEndpoint(\"/modules/SenseHatDisplay/inputs/classification\")",
             "BrokeredEndpoint(\"/modules/TextToSpeech/inputs/classification\")", "$upstream"]
    routes = [parse_route(f"r{i}", f"FROM /messages/modules/CameraCapture/outputs/classification INTO {sink}")
              for i, sink in enumerate(sinks)]
    camera = {"videoPath": str(apples), "loopVideo": True, "slideshowIntervalS": 0.5, "frameRate": 4.0,
              "imageProcessingEndpoint": f"http://127.0.0.1:{port}/image"}
    bus = Bus(routes, {"CameraCapture": camera}, UpstreamSink(tmp / "upstream.jsonl", io.StringIO()))
    bus.start()
    envs = {
        "ImageClassifierService": {"PORT": str(port), "MODEL_DIR": str(MODELS / "apples-bananas")},
        "CameraCapture": {},
        "TextToSpeech": {"AUDIO_OUTPUT_DIR": str(tmp / "audio")},
        "SenseHatDisplay": {"DISPLAY_SNAPSHOT_DIR": str(tmp / "display"), "BACKEND": "emulator"},
    }
    solution = Solution(bus, tmp, port, apples)
    try:
        solution.processes.update(start_modules(bus, envs, tmp))
        for module in envs:
            wait_for(lambda m=module: solution.reported(m).get("desiredStatus", {}).get("version"), 60)
        wait_for(lambda: solution.tags() == ["Apple"], 60)
        wait_for(lambda: list((tmp / "audio").glob("*Apple.wav")) and list((tmp / "display").glob("*Apple.png")), 30)
        yield solution
    finally:
        stop_modules(solution.processes, bus)


def _echoes(value: Any, text: str) -> bool:
    """True when ``text`` holds more than a short excerpt (EXCERPT_CHARS + 5 characters) of ``value``."""
    span = EXCERPT_CHARS + 5
    pieces = [repr(value)] + ([value] if isinstance(value, str) else [])
    return any(len(p) > span and any(p[i:i + span] in text for i in range(0, len(p) - span, span)) for p in pieces)


@pytest.mark.parametrize("module", list(MODELS_BY_MODULE))
def test_bad_desired_values_are_refused_and_edge_values_applied(solution: Solution, module: str) -> None:
    model = MODELS_BY_MODULE[module]
    baseline = dict(solution.reported(module)["settings"])

    for patch in rounds(bad_values(module)):
        status = solution.patch(module, patch)
        assert status["status"] == "refused", (patch.keys(), status)
        for key, value in patch.items():
            assert f"{key}: " in status["refused"], (key, status["refused"])
            assert not _echoes(value, status["refused"]), (key, status["refused"])
        assert solution.reported(module)["settings"] == baseline  # the last good settings stay

    startup = {model.twin_name(f): SECRET if model.is_secret(f) else "1" for f in model.startup_fields()}
    if startup:
        status = solution.patch(module, startup)
        assert status["status"] == "refused"
        for f in model.startup_fields():
            assert f"{model.twin_name(f)}: " in status["refused"] and model.env_name(f) in status["refused"], status
        assert SECRET not in json.dumps(solution.reported(module))
        assert solution.reported(module)["settings"] == baseline

    good = good_values(module)
    expected = [{key: pairs[k] for key, pairs in good.items() if len(pairs) > k}
                for k in range(max(len(pairs) for pairs in good.values()))]
    if module == "CameraCapture":  # also every bound at once on a real scene (the rounds above name unreadable sources)
        scene = {"videoPath": (str(solution.scene), str(solution.scene)),
                 "imageProcessingEndpoint": (baseline["imageProcessingEndpoint"],) * 2}
        expected += [{**{key: pairs[end] for key, pairs in good.items()}, **scene} for end in (0, -1)]
    edges = [dict(list(one.items())[i:i + MAX_REASONS]) for one in expected for i in range(0, len(one), MAX_REASONS)]
    for n, pairs in enumerate(edges):
        patch = {key: value for key, (value, _) in pairs.items()}
        objects = {key: None for key, value in patch.items() if isinstance(value, dict)}
        if objects:  # a twin patch merges into an object setting: clear it first so the value stands alone
            solution.patch(module, objects)
        status = solution.patch(module, patch)
        assert status["status"] == "applied", (patch, status)
        settings = solution.reported(module)["settings"]
        for key, (value, reported) in pairs.items():
            assert settings[key] == reported, (key, value, settings[key])
        solution.inject(f"Edge{n}")  # display and speech work with these values
        time.sleep(1.0)  # let the module work with these values for a moment
        solution.assert_healthy(module)

    status = solution.patch(module, {key: baseline[key] for key in map(model.twin_name, model.live_fields())})
    assert status["status"] == "applied" and solution.reported(module)["settings"] == baseline
    if module in ("TextToSpeech", "SenseHatDisplay"):  # the worker went through every message and is still there
        solution.inject(f"After{module}")
        wait_for(lambda: list(solution.tmp.glob(f"*/*After{module}.*")), 30)
    print(f"{module}: {solution.tried[module]} values tried")


def test_every_module_still_works_after_the_faults(solution: Solution) -> None:
    """Run last: a new scene flows camera -> classifier -> display, speech and $upstream."""
    bananas = _folder(solution.tmp, "bananas", "banana1")
    solution.patch("CameraCapture", {"videoPath": str(bananas)})
    wait_for(lambda: solution.tags()[-1:] == ["Banana"], 60)
    wait_for(lambda: list((solution.tmp / "audio").glob("*Banana.wav")), 30)
    wait_for(lambda: list((solution.tmp / "display").glob("*Banana.png")), 30)
    image = (IMAGES / "apple2.jpg").read_bytes()
    answer = requests.post(f"http://127.0.0.1:{solution.classifier_port}/image", data=image, timeout=30)
    assert answer.status_code == 200 and answer.json()["predictions"][0]["tagName"] == "Apple"
    for module in MODELS_BY_MODULE:
        solution.assert_healthy(module)
