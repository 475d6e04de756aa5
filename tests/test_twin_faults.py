"""Bad and edge desired properties for every live setting of every module, sent to the real module processes.

The four modules run as their own processes on the runner's real bus (routes camera -> display,
speech and $upstream). For each live field of each settings model (``Model.live_fields()``) the
values tried are: wrong JSON types (``true`` for a number, a number for a string, a list), values
out of range, a 100 KB string, a nested object, a 300-character path, a lone surrogate, and
edge-but-valid values (the bounds, the smallest value above an exclusive bound, the longest
string allowed, a credentialed URL). The settings model itself says which are valid (strict
validation and the store's size cap), and the module must agree: a bad value is refused with a
short reason in reported ``desiredStatus.refused`` and the last good settings stay; a valid one is
applied and reported. Throughout, every process stays up, reported properties stay under 32 KB,
no worker thread fails, and at the end tags still flow from the camera to the display, speech and
$upstream, and the classifier still answers. A start-up setting sent as a desired property is
refused with a reason naming its environment variable.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
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
# TextToSpeech's language and object settings (language -> tag -> phrase; engine -> language -> voice): good, bad, edge
SPEECH_CANDIDATES: dict[str, list[Any]] = {
    "language": ["de-DE", "ko-KR", "zh-Hans-CN", "en_US", "EN-us", "english", "", 42],
    "speech_map": [{}, {"de-DE": {"Apple": "ein Apfel"}}, {"de-DE": {"Apple": "Äpfel ✓ 🍎"}}, {"de-DE": {"Apple": "p" * 100}},
                   {"de-DE": {"Apple": "p" * 101}}, {"german": {"Apple": "x"}}, {"de-DE": "ein Apfel"}, {"de-DE": {"Apple": " "}},
                   {"de-DE": {"Apple": 5}}, {f"de-{c}{c}": {} for c in "ABCDEFGHI"}, '{"de-DE": {}}'],
    "voices": [{}, {"espeak-ng": {"en-US": "en-gb"}}, {"azure": {"de-DE": "de-DE-ConradNeural"}}, {"nope": {"en-US": "x"}},
               {"espeak-ng": {"en-US": "../../etc/passwd"}}, {"espeak-ng": {"en-US": "a b"}}, {"espeak-ng": "en-gb"}],
}

MODELS_BY_MODULE: dict[str, type[ModuleSettings]] = {
    "TextToSpeech": SpeechSettings,
    "SenseHatDisplay": DisplaySettings,
    "ImageClassifierService": ClassifierSettings,
    "CameraCapture": CaptureSettings,
}


def candidates(model: type[ModuleSettings], name: str) -> list[Any]:
    """Values a user could type for field ``name``: good, bad and edge ones, from its type and bounds."""
    info = model.model_fields[name]
    kind = info.annotation
    common: list[Any] = [HUGE, NESTED, [1, 2], LONG_PATH, "\ud800"]
    if model is DisplaySettings and name == "icons":  # "Tag=colour or 8x8 pattern" entries separated by ";"
        common += ["Apple=#00ff00", "Kiwi=" + "/".join(["rgbyowpc"] * 8), "; ".join(f"t{i}=red" for i in range(16)),
                   "Apple=#zzzzzz", "Apple=" + "/".join(["r" * 8] * 7), "=red", "a=red; A=blue",
                   "; ".join(f"t{i}=red" for i in range(17))]
    if get_origin(kind) is Literal:
        members = list(get_args(kind))
        numeric = isinstance(members[0], int)
        return [*members, True, "nope", 45 if numeric else 7, str(members[-1]) if numeric else members[-1].upper(),
                float(members[-1]) if numeric else "", *common]
    if kind is bool:
        return [True, False, "true", 1, 0, *common]
    if kind in (int, float):
        values: list[Any] = [True, False, "5", 1e308, -1e308]
        if kind is int:
            values.append(1.5)
        for bound in info.metadata:
            if isinstance(bound, annotated_types.Ge):
                values += [bound.ge, bound.ge - 1]
            elif isinstance(bound, annotated_types.Gt):
                values += [bound.gt, math.nextafter(float(bound.gt), math.inf) if kind is float else bound.gt + 1]
            elif isinstance(bound, annotated_types.Le):
                values += [bound.le, bound.le + 1]
        return [*values, *common]
    if model is SpeechSettings and name in SPEECH_CANDIDATES:
        return [*SPEECH_CANDIDATES[name], *common]
    assert kind is str, f"{model.__name__}.{name}: add candidates for {kind}"
    values = [42, True, 1.5, "", " ", "Äpfel ✓ 🍎", "AB" * 32, "rtsp://user:pw@127.0.0.1:1/live",
              "http://127.0.0.1:1/" + "u" * 900]
    for bound in info.metadata:
        if isinstance(bound, annotated_types.MaxLen):
            values += ["v" * bound.max_length, "v" * (bound.max_length + 1)]
    return [*values, *common]


def valid(model: type[ModuleSettings], name: str, value: Any) -> bool:
    """What the settings say of ``value``: within the store's size cap and strictly valid for the model."""
    if len(json.dumps(value)) > MAX_DESIRED_CHARS:
        return False
    try:
        build(model, {name: value}, strict=True)
    except SettingsError:
        return False
    return True


def sorted_candidates(model: type[ModuleSettings], good: bool) -> dict[str, list[Any]]:
    """Twin name -> the valid (or invalid) candidates of each live field."""
    return {model.twin_name(f): [v for v in candidates(model, f) if valid(model, f, v) == good] for f in model.live_fields()}


def rounds(model: type[ModuleSettings], good: bool) -> list[dict[str, Any]]:
    """Patches (twin name -> value) trying every good (or bad) candidate of every live field, at most
    MAX_REASONS keys each, so each refused key is listed in desiredStatus."""
    per_field = sorted_candidates(model, good)
    patches = []
    for k in range(max(len(v) for v in per_field.values())):
        keys = [(key, values[k]) for key, values in per_field.items() if len(values) > k]
        patches += [dict(keys[i:i + MAX_REASONS]) for i in range(0, len(keys), MAX_REASONS)]
    return patches


def test_the_bad_values_the_issue_names_are_bad_for_every_live_setting() -> None:
    for model in MODELS_BY_MODULE.values():
        for name in model.live_fields():
            for value in (HUGE, NESTED, [1, 2]):
                assert not valid(model, name, value), f"{model.__name__}.{name} accepts {str(value)[:40]}"
            if model.model_fields[name].annotation in (int, float):
                assert not valid(model, name, True), f"{model.__name__}.{name} takes true as a number"


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

    for patch in rounds(model, good=False):
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

    edges = rounds(model, good=True)
    if module == "CameraCapture":  # also every bound at once on a real scene (the rounds above name unreadable sources)
        values = sorted_candidates(model, good=True)
        edges += [{**{key: v[end] for key, v in values.items()}, "videoPath": str(solution.scene),
                   "imageProcessingEndpoint": baseline["imageProcessingEndpoint"]} for end in (0, -1)]
    for n, patch in enumerate(edges):
        objects = {key: None for key, value in patch.items() if isinstance(value, dict)}
        if objects:  # a twin patch merges into an object setting: clear it first so the value stands alone
            solution.patch(module, objects)
        status = solution.patch(module, patch)
        assert status["status"] == "applied", (patch, status)
        settings = solution.reported(module)["settings"]
        for key, value in patch.items():
            name = next(f for f in model.live_fields() if model.twin_name(f) == key)
            assert settings[key] == build(model, {name: value}, strict=True).reported()[key], key
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
