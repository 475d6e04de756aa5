"""Direct methods on both transports: the hub adapters' contract, and each module's methods on its real process.

Local transport: the runner's real bus (``Bus.invoke``, the ``method`` / ``method_result`` frames) and
the four module processes, started on it as the runner starts them. IoT Edge transport: the real
``azure-iot-device`` SDK against mosquitto playing edgeHub (tests/edgehub_standin.py), which
publishes ``$iothub/methods/POST/{method}/?$rid=`` and reads the module's ``$iothub/methods/res/{status}``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from pydantic import BaseModel, Field

from capture.methods import fitted_jpeg
from capture_harness import free_port
from module_processes import start_modules, stop_modules
from conftest import IMAGES, MODELS, ROOT, wait_for
from edgehub_standin import EdgeHubStandIn
from edgekit import wire
from edgekit.azure_hub import AzureHub
from edgekit.hub import Hub, InputMessage
from edgekit.local_hub import LocalHub
from edgekit.methods import MAX_PAYLOAD_BYTES, MAX_PENDING, MethodError, taking
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route

SECRET = "SharedAccessKey=c2VjcmV0LXZhbHVl"


class Greeting(BaseModel):
    name: str = Field(min_length=1, max_length=20)


def greet(request: Greeting) -> dict[str, str]:
    return {"greeting": f"hello {request.name}"}


def fail(_payload: Any) -> None:
    raise RuntimeError(f"the device said no ({SECRET})")


def refuse(_payload: Any) -> None:
    raise MethodError(400, "colour: not one of red, green")


def too_large(_payload: Any) -> dict[str, str]:
    return {"blob": "x" * (MAX_PAYLOAD_BYTES + 1)}


def not_json(_payload: Any) -> object:
    return object()


def echo(payload: Any) -> Any:
    return {"got": payload}


def offer_test_methods(hub: Hub, gate: threading.Event, entered: threading.Event) -> None:
    def slow(_payload: Any) -> str:
        entered.set()
        gate.wait(30)
        return "done"

    hub.set_method_handlers({"greet": taking(Greeting, greet), "fail": fail, "refuse": refuse, "tooLarge": too_large,
                             "notJson": not_json, "echo": echo, "slow": slow})


def check_contract(invoke: Any) -> None:
    """The answers every transport must give (invoke(method, payload) -> (status, payload))."""
    assert invoke("greet", {"name": "Ada"}) == (200, {"greeting": "hello Ada"})
    assert invoke("echo", None) == (200, {"got": None})
    assert invoke("echo", [1, "two"]) == (200, {"got": [1, "two"]})

    status, answer = invoke("nope", {})
    assert status == 404
    assert answer == {"error": "no method 'nope'; methods: echo, fail, greet, notJson, refuse, slow, tooLarge"}

    for bad in ({}, {"name": ""}, {"name": 5}, {"name": "x" * 21}, "Ada", None):
        status, answer = invoke("greet", bad)
        assert status == 400 and answer["error"].startswith(("name: ", "payload: ")), (bad, answer)
    assert invoke("greet", {"name": "x" * 21})[1]["error"] == "name: String should have at most 20 characters"
    assert invoke("refuse", {}) == (400, {"error": "colour: not one of red, green"})

    status, answer = invoke("fail", {})
    assert status == 500 and answer["error"].startswith("fail failed: RuntimeError: the device said no")
    assert "c2VjcmV0LXZhbHVl" not in answer["error"] and "Traceback" not in answer["error"]
    status, answer = invoke("tooLarge", {})
    assert status == 500 and "over IoT Hub's 128 KB limit" in answer["error"]
    assert invoke("notJson", {}) == (500, {"error": "notJson failed: its answer is not JSON"})


# --- the local transport: LocalHub on the runner's bus ------------------------------------------------------


@pytest.fixture()
def local_hub() -> Iterator[tuple[Bus, LocalHub]]:
    route = parse_route("r", "FROM /messages/modules/Other/outputs/out INTO BrokeredEndpoint(\"/modules/Tester/inputs/in\")")
    bus = Bus([route], {"Tester": {"colour": "red"}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    hub = LocalHub.from_environment(bus.environment("Tester"))
    try:
        wait_for(lambda: bus.invoke("Tester", "any", None, 5)[1] == {"error": "no method 'any'; methods: (none)"}, 10)
        yield bus, hub
    finally:
        hub.close(grace_s=0)
        bus.close()


def test_local_hub_answers_direct_methods_as_iot_hub_does(local_hub: tuple[Bus, LocalHub]) -> None:
    bus, hub = local_hub
    gate, entered = threading.Event(), threading.Event()
    offer_test_methods(hub, gate, entered)
    check_contract(lambda method, payload: bus.invoke("Tester", method, payload, 10))


def test_a_slow_method_holds_up_neither_inputs_nor_twin_patches_and_extra_calls_are_refused(
        local_hub: tuple[Bus, LocalHub]) -> None:
    bus, hub = local_hub
    gate, entered = threading.Event(), threading.Event()
    offer_test_methods(hub, gate, entered)
    inputs: list[InputMessage] = []
    patches: list[dict[str, Any]] = []
    hub.set_input_handler(inputs.append)
    hub.set_desired_handler(patches.append)
    answers: list[tuple[int, Any]] = []
    slow_calls = [threading.Thread(target=lambda: answers.append(bus.invoke("Tester", "slow", None, 30)))
                  for _ in range(MAX_PENDING)]
    for call in slow_calls:
        call.start()
    try:
        assert entered.wait(10)
        # every method slot is taken: an input, a desired patch and a quick method still get through
        bus.route("Other", {"op": "send", "output": "out", "body": wire.encode_body(b'{"tag": "Apple"}'),
                            "properties": {}, "contentType": "application/json", "contentEncoding": "utf-8"})
        bus.patch_desired("Tester", {"colour": "blue"})
        wait_for(lambda: inputs and patches, 10)
        assert inputs[0].json() == {"tag": "Apple"} and patches[0]["colour"] == "blue"
        status, answer = wait_for(lambda: (r := bus.invoke("Tester", "echo", 1, 5))[0] == 503 and r, 10)
        assert answer["error"].startswith(f"busy: {MAX_PENDING} direct methods")
    finally:
        gate.set()
        for call in slow_calls:
            call.join(30)
    assert answers == [(200, "done")] * MAX_PENDING
    assert bus.invoke("Tester", "echo", 2, 10) == (200, {"got": 2})  # the slots are free again


# --- the IoT Edge transport: azure-iot-device against mosquitto --------------------------------------------


def invoke_when_subscribed(edgehub: EdgeHubStandIn, method: str, payload: Any) -> tuple[int, Any]:
    """The first answer: a request sent before the SDK has subscribed to methods is lost, as on IoT Hub."""
    def attempt() -> tuple[int, Any] | None:
        try:
            return edgehub.invoke(method, payload, timeout=2)
        except TimeoutError:
            return None

    return wait_for(attempt, 30)


def test_azure_hub_answers_direct_methods_through_the_sdk(tmp_path: Path) -> None:
    edgehub = EdgeHubStandIn(tmp_path, "Tester")
    hub = AzureHub.from_connection_string(edgehub.connection_string, edgehub.ca.read_text())
    gate, entered = threading.Event(), threading.Event()
    try:
        offer_test_methods(hub, gate, entered)
        assert invoke_when_subscribed(edgehub, "echo", {"a": 1}) == (200, {"got": {"a": 1}})
        check_contract(lambda method, payload: edgehub.invoke(method, payload, timeout=10))

        # a slow method does not hold up inputs
        received: list[InputMessage] = []
        hub.set_input_handler(received.append)
        answer: list[tuple[int, Any]] = []
        caller = threading.Thread(target=lambda: answer.append(edgehub.invoke("slow", None, timeout=30)))
        caller.start()
        assert entered.wait(10)
        wait_for(lambda: (edgehub.send_input("in", {"tag": "Kiwi"}), received)[1], 15)
        assert received[0].json() == {"tag": "Kiwi"}
        gate.set()
        caller.join(30)
        assert answer == [(200, "done")]
    finally:
        gate.set()
        hub.close(grace_s=0)
        edgehub.close()


# --- the four modules' methods on their real processes, local transport -----------------------------------


@dataclass
class Solution:
    bus: Bus
    tmp: Path
    classifier_port: int
    model_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def invoke(self, module: str, method: str, payload: Any = None, timeout: float = 30) -> tuple[int, Any]:
        return self.bus.invoke(module, method, payload, timeout)

    def offers_methods(self, module: str) -> bool:
        status, answer = self.invoke(module, "nope", None, 5)
        return status == 404 and "methods: " in answer["error"] and "(none)" not in answer["error"]

    def log(self, module: str) -> str:
        return (self.tmp / f"{module}.log").read_text(errors="replace")

    def assert_alive(self) -> bool:
        for module, process in self.processes.items():
            assert process.poll() is None, f"{module} exited:\n{self.log(module)[-3000:]}"
        return True


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Solution]:
    tmp = tmp_path_factory.mktemp("methods")
    apples = tmp / "apples"
    apples.mkdir()
    shutil.copy(IMAGES / "apple1.jpg", apples / "apple1.jpg")
    model_dir = tmp / "model"
    shutil.copytree(MODELS / "apples-bananas", model_dir)
    for path in model_dir.iterdir():
        path.chmod(0o644)
    port = free_port()
    routes = [parse_route(f"r{i}", f"FROM /messages/modules/CameraCapture/outputs/classification INTO {sink}")
              for i, sink in enumerate(["BrokeredEndpoint(\"/modules/SenseHatDisplay/inputs/classification\")",
                                        "BrokeredEndpoint(\"/modules/TextToSpeech/inputs/classification\")"])]
    camera = {"videoPath": str(apples), "loopVideo": True, "slideshowIntervalS": 0.5, "frameRate": 2.0,
              "imageProcessingEndpoint": f"http://127.0.0.1:{port}/image"}
    bus = Bus(routes, {"CameraCapture": camera}, UpstreamSink(None, io.StringIO()))
    bus.start()
    envs = {
        "ImageClassifierService": {"PORT": str(port), "MODEL_DIR": str(model_dir)},
        "CameraCapture": {},
        "TextToSpeech": {"AUDIO_OUTPUT_DIR": str(tmp / "audio")},
        "SenseHatDisplay": {"DISPLAY_SNAPSHOT_DIR": str(tmp / "display"), "BACKEND": "virtual"},
    }
    solution = Solution(bus, tmp, port, model_dir)
    try:
        solution.processes.update(start_modules(bus, envs, tmp))
        for module in envs:  # each module offers its methods once it is up; until then 404 without them
            wait_for(lambda m=module: solution.assert_alive() and solution.offers_methods(m), 60)
        yield solution
    finally:
        stop_modules(solution.processes, bus)


def test_display_show_and_clear_drive_the_matrix(solution: Solution) -> None:
    status, answer = solution.invoke("SenseHatDisplay", "show", {"tag": "Kiwi"})
    assert status == 200, answer
    assert answer["state"] == "tag" and answer["tag"] == "Kiwi" and answer["picture"] == "letter"
    assert answer["backend"] == "virtual"
    wait_for(lambda: list((solution.tmp / "display").glob("*-Kiwi.png")), 10)  # the matrix state, as drawn
    wait_for(lambda: solution.bus.reported["SenseHatDisplay"]["display"].get("tag") == "Kiwi", 10)  # and reported

    status, answer = solution.invoke("SenseHatDisplay", "clear")
    assert status == 200 and answer["state"] == "empty" and answer["picture"] == "off", answer
    wait_for(lambda: list((solution.tmp / "display").glob("*-cleared.png")), 10)

    status, answer = solution.invoke("SenseHatDisplay", "show", {"tag": "Apple"})
    assert status == 200 and answer["picture"] == "icon"


def test_a_tag_with_control_characters_cannot_forge_a_log_line(solution: Solution) -> None:
    """Issue 22, item 8: a shown tag's escape sequence and CR/LF are written escaped, on one log line."""
    status, answer = solution.invoke("SenseHatDisplay", "show", {"tag": "\u001b[31mEvil\r\nFAKE LOG LINE"})
    assert status == 200, answer
    line = wait_for(lambda: next((x for x in solution.log("SenseHatDisplay").splitlines() if "Evil" in x), None), 10)
    assert "\\x1b[31mEvil\\r\\nFAKE LOG LINE" in line, line
    log = solution.log("SenseHatDisplay")
    assert "\x1b" not in log and "\r" not in log and not any(x.startswith("FAKE") for x in log.splitlines())


@pytest.mark.parametrize(("method", "payload", "reason"), [
    ("show", {}, "tag: Field required"),
    ("show", {"tag": ""}, "tag: String should have at least 1 character"),
    ("show", {"tag": "x" * 65}, "tag: String should have at most 64 characters"),
    ("show", {"tag": 5}, "tag: Input should be a valid string"),
    ("show", {"tag": "Apple", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ("show", "Apple", "payload: Input should be a valid dictionary"),
    ("clear", {"now": True}, "now: Extra inputs are not permitted"),
])
def test_display_refuses_a_bad_payload_with_400(solution: Solution, method: str, payload: Any, reason: str) -> None:
    status, answer = solution.invoke("SenseHatDisplay", method, payload)
    assert status == 400 and answer["error"].startswith(reason), answer


def test_every_module_answers_an_unknown_method_with_404_naming_its_methods(solution: Solution) -> None:
    expected = {"CameraCapture": "captureStatus, snapshot", "ImageClassifierService": "modelInfo, reloadModel",
                "TextToSpeech": "say", "SenseHatDisplay": "clear, show"}
    for module, methods in expected.items():
        assert solution.invoke(module, "reboot", {}) == (404, {"error": f"no method 'reboot'; methods: {methods}"})


def test_speech_say_speaks_through_the_configured_engines(solution: Solution) -> None:
    status, answer = solution.invoke("TextToSpeech", "say", {"text": "testing the speaker"}, 60)
    assert status == 200, answer
    assert answer["engine"] in ("piper", "espeak-ng") and answer["language"] == "en-US"
    wav = Path(answer["file"])
    assert wav.parent == solution.tmp / "audio" and wav.name.endswith("-testing_the_speaker.wav")
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 10_000  # real audio, not an empty file

    status, answer = solution.invoke("TextToSpeech", "say", {"text": "guten Tag", "language": "de-DE"}, 60)
    assert status == 200 and answer["language"] == "de-DE", answer
    assert Path(answer["file"]).read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(("payload", "reason"), [
    ({"text": ""}, "text: String should have at least 1 character"),
    ({"text": "x" * 501}, "text: String should have at most 500 characters"),
    ({"text": "   "}, "text: nothing to say"),
    ({"txt": "hello"}, "text: Field required"),
    ({"text": "hello", "language": "german"}, "language: String should match pattern"),
    (None, "text: Field required"),
])
def test_speech_say_refuses_a_bad_payload_with_400(solution: Solution, payload: Any, reason: str) -> None:
    status, answer = solution.invoke("TextToSpeech", "say", payload)
    assert status == 400 and answer["error"].startswith(reason), answer


def decode_jpeg(text: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    return image


def test_camera_snapshot_is_the_newest_frame_as_jpeg_with_its_classification(solution: Solution) -> None:
    status, answer = wait_for(lambda: (r := solution.invoke("CameraCapture", "snapshot"))[0] == 200
                              and r[1]["classification"] and r, 60)
    image = decode_jpeg(answer["image"])
    assert image.shape[:2] == (answer["height"], answer["width"])
    original = cv2.imread(str(IMAGES / "apple1.jpg"))
    assert original is not None and image.shape == original.shape  # the camera's frame as captured
    assert float(np.abs(image.astype(int) - original.astype(int)).mean()) < 8  # the same picture, JPEG-compressed
    assert answer["classification"]["tagName"] == "Apple"
    assert answer["classification"]["predictions"][0]["tagName"] == "Apple"
    assert answer["capturedAt"] and answer["source"] == str(solution.tmp / "apples")

    status, small = solution.invoke("CameraCapture", "snapshot", {"maxWidth": 64, "quality": 50})
    assert status == 200 and small["width"] == 64 and small["quality"] == 50
    decoded = decode_jpeg(small["image"])
    assert decoded.shape[1] == 64 and decoded.shape[0] == small["height"]

    for bad, reason in (({"quality": 0}, "quality: "), ({"maxWidth": 5000}, "maxWidth: "), ({"width": 9}, "width: ")):
        status, answer = solution.invoke("CameraCapture", "snapshot", bad)
        assert status == 400 and answer["error"].startswith(reason), answer


def test_a_large_frame_is_shrunk_to_fit_a_direct_method_answer() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)  # compresses badly
    text, width, height, quality = fitted_jpeg(noise, None, 95)
    assert len(text) <= MAX_PAYLOAD_BYTES - 16 * 1024 and width < 1920 and quality < 95
    decoded = decode_jpeg(text)
    assert decoded.shape[:2] == (height, width)


def test_camera_capture_status_reports_source_counters_and_rates(solution: Solution) -> None:
    status, answer = wait_for(lambda: (r := solution.invoke("CameraCapture", "captureStatus"))[1].get("lastTag") and r, 60)
    assert status == 200, answer
    assert answer["source"] == str(solution.tmp / "apples") and answer["sourceKind"] == "images"
    assert answer["sourceError"] == "" and answer["lastTag"] == "Apple"
    assert answer["counters"]["framesRead"] >= answer["counters"]["framesClassified"] >= 1
    assert answer["counters"]["messagesSent"] >= 1
    assert set(answer) >= {"captureFps", "classifyFps", "outbox", "liveViewError"}
    assert solution.invoke("CameraCapture", "captureStatus", {"verbose": True})[0] == 400


def test_classifier_model_info_and_reload(solution: Solution) -> None:
    onnx_sha = hashlib.sha256((solution.model_dir / "model.onnx").read_bytes()).hexdigest()
    status, info = solution.invoke("ImageClassifierService", "modelInfo")
    assert status == 200, info
    assert info["labels"] == ["Apple", "Banana"] and info["sha256"] == onnx_sha
    assert info["source"] == str(solution.model_dir) and info["runtime"] == "ONNX Runtime"
    assert info["inputSize"]["width"] > 0 and info["flavour"]
    cores = info["usableCores"]  # all of them on 1 or 2 cores, else one left for CameraCapture
    assert 1 <= cores <= len(os.sched_getaffinity(0)) and info["inferenceThreads"] == (cores if cores <= 2 else cores - 1)

    def reloaded(outcome: str) -> dict[str, Any]:
        """modelInfo once the reload started has ended with ``outcome`` (applied or failed)."""
        def done() -> dict[str, Any] | None:
            status, info = solution.invoke("ImageClassifierService", "modelInfo")
            assert status == 200, info
            return info if not info["reloadInProgress"] and info["modelUpdate"]["status"] == outcome else None
        return wait_for(done, 60)

    status, answer = solution.invoke("ImageClassifierService", "reloadModel", None, 60)
    assert status == 200 and answer["reload"] == "started" and answer["sha256"] == onnx_sha, answer
    assert reloaded("applied")["sha256"] == onnx_sha

    # the configured model is now broken: the reload fails with a reason and the old model keeps serving
    saved = {p: p.read_bytes() for p in solution.model_dir.glob("model.*")}
    try:
        for path in saved:
            path.write_bytes(b"this is not a model")
        status, answer = solution.invoke("ImageClassifierService", "reloadModel", None, 60)
        assert status == 200 and answer["reload"] == "started", answer
        info = reloaded("failed")
        assert info["sha256"] == onnx_sha and info["modelUpdate"]["reason"], info
        reply = requests.post(f"http://127.0.0.1:{solution.classifier_port}/image",
                              data=(IMAGES / "apple2.jpg").read_bytes(), timeout=30)
        assert reply.status_code == 200 and reply.json()["predictions"][0]["tagName"] == "Apple"
        wait_for(lambda: solution.bus.reported["ImageClassifierService"]["modelUpdate"]["status"] == "failed", 10)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
    assert solution.invoke("ImageClassifierService", "reloadModel", None, 60)[0] == 200
    reloaded("applied")
    solution.assert_alive()


# --- a module's methods through the real SDK --------------------------------------------------------------


def start_on_sdk(tmp_path: Path, module: str, env: dict[str, str]) -> tuple[EdgeHubStandIn, subprocess.Popen[bytes]]:
    edgehub = EdgeHubStandIn(tmp_path, module)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALEDGE_", "IOTEDGE_"))}
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / module / "main.py")],
                               env={**base, **env, "EdgeHubConnectionString": edgehub.connection_string,
                                    "EdgeModuleCACertificateFile": str(edgehub.ca), "PYTHONPATH": str(ROOT),
                                    "METRICS_PORT": "0"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return edgehub, process


def stop(edgehub: EdgeHubStandIn, process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    try:
        output = process.communicate(timeout=15)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0].decode(errors="replace")
    edgehub.close()
    return output


def test_display_methods_through_the_sdk(tmp_path: Path) -> None:
    edgehub, process = start_on_sdk(tmp_path, "SenseHatDisplay",
                                    {"DISPLAY_SNAPSHOT_DIR": str(tmp_path / "shots"), "BACKEND": "virtual"})
    try:
        status, answer = invoke_when_subscribed(edgehub, "show", {"tag": "Banana"})
        assert status == 200 and answer["tag"] == "Banana" and answer["picture"] == "icon", answer
        wait_for(lambda: list((tmp_path / "shots").glob("*-Banana.png")), 10)
        assert edgehub.invoke("clear", {}, timeout=10)[1]["state"] == "empty"
        assert edgehub.invoke("show", {"tag": ""}, timeout=10) == (
            400, {"error": "tag: String should have at least 1 character"})
        assert edgehub.invoke("blink", {}, timeout=10) == (404, {"error": "no method 'blink'; methods: clear, show"})
    finally:
        output = stop(edgehub, process)
    assert process.returncode == 0, output


def test_speech_say_through_the_sdk(tmp_path: Path) -> None:
    edgehub, process = start_on_sdk(tmp_path, "TextToSpeech", {"AUDIO_OUTPUT_DIR": str(tmp_path / "audio")})
    try:
        status, answer = invoke_when_subscribed(edgehub, "say", {"text": "hello"})
        assert status == 200 and answer["engine"] in ("piper", "espeak-ng"), answer
        assert Path(answer["file"]).read_bytes()[:4] == b"RIFF"
        assert edgehub.invoke("say", {"text": "x" * 501}, timeout=10)[0] == 400
        assert edgehub.invoke("shout", {"text": "hi"}, timeout=10) == (404, {"error": "no method 'shout'; methods: say"})
    finally:
        output = stop(edgehub, process)
    assert process.returncode == 0, output
