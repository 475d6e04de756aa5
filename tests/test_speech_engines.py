"""TextToSpeech's engines for real: espeak-ng and Piper audio checked as speech; the Azure REST engine
against Azure Speech's REST service played on 127.0.0.1 (speech_standin.py: real audio, 401, 429,
silence); the SDK engine's timeout; breakers and hedging by the order of events (never by timings:
benchmarks/speech.py measures those)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, wait_for
from edgekit import wire
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route
from speech.base import Engine, SynthesisError
from speech.engines import AzureEngine, AzureRestEngine, EspeakEngine, select_engines
from speech.health import Breaker
from speech.piper import PiperEngine, piper_voice_path
from speech.settings import SpeechSettings
from speech.speaker import Speaker
from speech_standin import SpeechService, speech_service

KEY = "k3y-" + "7" * 28  # never to appear in a log, a reason or reported properties


def speech_stats(wav: bytes) -> tuple[float, float]:
    """(seconds, RMS of the 16-bit samples relative to full scale) of a WAV."""
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getsampwidth() == 2
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
        return w.getnframes() / w.getframerate(), float(np.sqrt(np.mean(samples**2)) / 32768)


def assert_speech(wav: bytes, shortest_s: float = 0.4, longest_s: float = 6.0) -> None:
    seconds, rms = speech_stats(wav)
    assert shortest_s < seconds < longest_s, seconds
    assert rms > 0.02, f"too quiet for speech: RMS {rms:.4f}"


@pytest.fixture
def azure() -> Iterator[SpeechService]:
    """Azure Speech's REST service played on 127.0.0.1 (tests/speech_standin.py), accepting ``KEY``; mode "ok"
    answers real espeak-ng audio of the SSML's text."""
    with speech_service(KEY) as service:
        yield service


def test_the_stand_in_keeps_azure_speechs_documented_contract(azure: SpeechService) -> None:
    """What the tests below rely on: the token exchange, the key or a bearer token, and the documented refusals."""
    import requests

    def post(path: str, headers: dict[str, str], body: bytes = b"") -> requests.Response:
        return requests.post(azure.url + path, data=body, headers=headers, timeout=10)

    assert post("/sts/v1.0/issueToken", {"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 401
    issued = post("/sts/v1.0/issueToken", {"Ocp-Apim-Subscription-Key": KEY,
                                           "Content-Type": "application/x-www-form-urlencoded"})
    assert issued.status_code == 200 and issued.text
    ssml = AzureRestEngine("", "", "en-US-JennyNeural", 5).ssml("Apple").encode()
    good = {"Content-Type": "application/ssml+xml", "X-Microsoft-OutputFormat": "riff-16khz-16bit-mono-pcm",
            "User-Agent": "tests"}
    spoken = post("/cognitiveservices/v1", {**good, "Authorization": f"Bearer {issued.text}"}, ssml)
    assert spoken.status_code == 200 and spoken.content.startswith(b"RIFF")
    with_key = {**good, "Ocp-Apim-Subscription-Key": KEY}
    assert post("/cognitiveservices/v1", {**good, "Authorization": "Bearer forged"}, ssml).status_code == 401
    assert post("/cognitiveservices/v1", {**with_key, "Content-Type": "text/plain"}, ssml).status_code == 415
    assert post("/cognitiveservices/v1", {**with_key, "X-Microsoft-OutputFormat": ""}, ssml).status_code == 400
    assert post("/cognitiveservices/v1", with_key, b"<speak>Apple</speak>").status_code == 400


@pytest.mark.parametrize(("language", "text"), [("en-US", "You scanned an apple"), ("de-DE", "Du hast einen Apfel gescannt")])
def test_espeak_speaks_each_language(language: str, text: str) -> None:
    engine = next(e for e in select_engines(SpeechSettings(language=language)) if e.name == "espeak-ng")
    assert engine.voice == {"en-US": "en-us", "de-DE": "de"}[language]
    assert_speech(engine.synthesize(text), 0.8)


def test_piper_speaks_with_the_packaged_voice_from_one_process() -> None:
    engines = select_engines(SpeechSettings())
    piper = next(e for e in engines if isinstance(e, PiperEngine))
    try:
        assert [e.name for e in engines] == ["piper", "espeak-ng"] and piper.voice == "en_US-joe-medium"
        assert_speech(piper.synthesize("You scanned an apple"), 0.8)
        process = piper._process
        assert_speech(piper.synthesize("Banana\nand more"), 0.3)  # a newline stays one phrase
        assert piper._process is process  # the voice stays loaded
        again = select_engines(SpeechSettings(synthesis_timeout_s=20), piper)
        assert piper in again  # a new setting keeps the running process
    finally:
        piper.close()


def test_an_idle_piper_process_is_stopped_and_started_again_for_the_next_phrase() -> None:
    """PIPER_IDLE_S: the Piper process (its voice holds ~150 MB) ends after that long without a phrase, and the
    next phrase starts a new one."""
    settings = SpeechSettings(piper_idle_s=0.5)
    piper = next(e for e in select_engines(settings) if isinstance(e, PiperEngine))
    try:
        assert_speech(piper.synthesize("apple"), 0.3)
        first = piper._process
        assert first is not None and first.poll() is None
        voice = piper_voice_path(piper.voice)
        assert voice is not None and piper.process_resident_bytes() >= voice.stat().st_size  # its voice is loaded
        wait_for(lambda: first.poll() is not None, 15)  # idle: stopped
        assert not piper.running and piper.process_resident_bytes() == 0
        assert_speech(piper.synthesize("banana"), 0.3)  # started again on demand
        assert piper.running and piper._process is not first
    finally:
        piper.close()
    assert not piper.running


def test_rest_engine_follows_the_azure_contract_and_returns_its_audio(azure: SpeechService) -> None:
    engine = AzureRestEngine(KEY, "westeurope", "de-DE-KatjaNeural", 10, "de-DE", host=azure.url)
    assert AzureRestEngine(KEY, "westeurope", "v", 10).url == "https://westeurope.tts.speech.microsoft.com/cognitiveservices/v1"
    wav = engine.synthesize("Fish & <chips>")
    assert_speech(wav, 0.5)
    request, = azure.requests
    assert request["path"] == "/cognitiveservices/v1"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["ocp-apim-subscription-key"] == KEY
    assert headers["content-type"] == "application/ssml+xml"
    assert headers["x-microsoft-outputformat"] == "riff-16khz-16bit-mono-pcm"
    speak = ET.fromstring(request["body"])
    assert speak.get("{http://www.w3.org/XML/1998/namespace}lang") == "de-DE"
    voice = speak.find("{http://www.w3.org/2001/10/synthesis}voice")
    assert voice is not None and voice.get("name") == "de-DE-KatjaNeural" and voice.text == "Fish & <chips>"


@pytest.mark.parametrize("mode", ["401", "429"])
def test_rest_engine_refusals_raise_without_the_key(azure: SpeechService, mode: str) -> None:
    azure.mode = mode
    with pytest.raises(SynthesisError, match=f"HTTP {mode}") as caught:
        AzureRestEngine(KEY, "", "en-US-JennyNeural", 5, host=azure.url).synthesize("Apple")
    assert KEY not in str(caught.value)


def test_rest_engine_gives_up_on_a_silent_service(azure: SpeechService) -> None:
    azure.mode = "silent"
    with pytest.raises(SynthesisError, match="unreachable: ReadTimeout"):
        AzureRestEngine(KEY, "", "en-US-JennyNeural", 0.5, host=azure.url).synthesize("Apple")


def test_speech_host_points_both_azure_engines_elsewhere(azure: SpeechService) -> None:
    settings = SpeechSettings(speech_host=azure.url, language="de-DE")
    assert settings.azure_configured  # a host alone (Azure's TTS container) is enough
    engine = select_engines(settings)[0]
    assert engine.name in ("azure", "azure-rest") and engine.voice == "de-DE-KatjaNeural" and engine.language == "de-DE"
    rest = AzureRestEngine("", "", "v", 5, host=azure.url + "/")
    assert rest.url == azure.url + "/cognitiveservices/v1"
    container = AzureRestEngine("", "", "v", 5, host="ws://TextToSpeechContainer:5000")  # the SDK's form of the host
    assert container.url == "http://TextToSpeechContainer:5000/cognitiveservices/v1"


def test_sdk_engine_is_bounded_by_its_timeout_on_a_silent_host(azure: SpeechService) -> None:
    pytest.importorskip("azure.cognitiveservices.speech")
    azure.mode = "silent"
    engine = AzureEngine(KEY, "", "en-US-JennyNeural", 1.0, "en-US", host=azure.url)
    with pytest.raises(SynthesisError, match="Azure Speech") as caught:
        engine.synthesize("Apple")
    assert KEY not in str(caught.value)
    engine.close()


def test_breaker_opens_after_failures_skips_for_the_cool_down_then_probes_once() -> None:
    now = [0.0]
    breaker = Breaker(failures_to_open=2, cool_down_s=30, clock=lambda: now[0])
    assert breaker.acquire() and not breaker.acquire()  # one call in flight at a time
    breaker.failure("HTTP 429")
    assert breaker.acquire()
    breaker.failure("HTTP 429")
    assert breaker.state == "open" and not breaker.acquire()
    now[0] = 29.9
    assert not breaker.available()
    now[0] = 30.0
    assert breaker.acquire() and breaker.state == "half-open" and not breaker.acquire()  # one probe
    breaker.failure("HTTP 429")
    assert breaker.state == "open" and not breaker.acquire()  # a failed probe opens it again at once
    now[0] = 60.0
    assert breaker.acquire()
    breaker.success()
    assert breaker.state == "closed" and breaker.reported() == {"state": "closed", "failures": 3, "lastError": "HTTP 429"}


class Scripted(Engine):
    """An engine whose calls are recorded in ``events``; ``hold`` blocks a call until released; ``fail`` raises."""

    def __init__(self, name: str, events: list[str], hold: bool = False, fail: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail = fail
        self.hold = hold
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    @property
    def voice(self) -> str:
        return f"{self.name}-voice"

    def synthesize(self, text: str) -> bytes:
        self.calls += 1
        self.events.append(f"{self.name} asked")
        self.started.set()
        if self.hold:
            assert self.release.wait(20)
        if self.fail:
            self.events.append(f"{self.name} failed")
            raise SynthesisError(f"{self.name} failed (HTTP 429)")
        wav = EspeakEngine("en-us", 10).synthesize(text)
        self.events.append(f"{self.name} answered")
        return wav


def test_a_slow_preferred_engine_is_hedged_and_its_late_audio_cached_for_next_time(tmp_path: Path) -> None:
    events: list[str] = []
    slow = Scripted("azure", events, hold=True)
    local = Scripted("espeak-ng", events)
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path), hedge_delay_s=0.05), [slow, local])
    written = speaker.say("Apple")
    events.append("said")
    assert written is not None and speaker.last["engine"] == "espeak-ng"
    assert events == ["azure asked", "espeak-ng asked", "espeak-ng answered", "said"]  # not waiting on azure
    slow.release.set()
    assert speaker.settle()  # azure's late answer lands in the cache
    assert events[-1] == "azure answered"
    speaker.say("Apple")
    assert speaker.last["engine"] == "azure" and speaker.from_cache == 1  # the best cached audio first
    assert slow.calls == 1 and local.calls == 1


def test_a_phrase_cached_by_any_engine_never_waits_on_a_failing_one(tmp_path: Path) -> None:
    events: list[str] = []
    local = Scripted("espeak-ng", events)
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path)), [local])
    speaker.say("Banana")
    hung = Scripted("azure", events, hold=True)
    speaker.configure(speaker.settings, [hung, local])
    speaker.say("Banana")
    assert not hung.started.is_set() and speaker.from_cache == 1 and speaker.last["engine"] == "espeak-ng"
    hung.release.set()


def test_a_failing_engine_is_skipped_once_its_breaker_opens(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    events: list[str] = []
    failing = Scripted("azure-rest", events, fail=True)
    local = Scripted("espeak-ng", events)
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path)), [failing, local])
    for word in ["One", "Two", "Three", "Four"]:
        assert speaker.say(word) is not None
    assert failing.calls == 2 and local.calls == 4  # open after two failures: phrases 3 and 4 skip it
    report = speaker.reported()
    assert report["engines"]["azure-rest"]["state"] == "open" and report["engineFailures"] == 2
    assert report["engines"]["espeak-ng"]["state"] == "closed"


def test_a_silent_azure_rest_service_is_hedged_by_espeak_and_the_key_is_never_shown(
        tmp_path: Path, azure: SpeechService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    azure.mode = "silent"
    settings = SpeechSettings(audio_output_dir=str(tmp_path), synthesis_timeout_s=1.0, hedge_delay_s=0.1,
                              speech_key=KEY, speech_host=azure.url)
    rest = AzureRestEngine(KEY, "", "en-US-JennyNeural", 1.0, "en-US", host=azure.url)
    speaker = Speaker(settings, [rest, EspeakEngine("en-us", 5, "en-US")])
    written = speaker.say("Apple")
    assert written is not None and speaker.last["engine"] == "espeak-ng"
    assert_speech(written.read_bytes(), 0.3)
    assert len(azure.requests) == 1  # azure was asked first
    assert speaker.settle()  # its timeout passes
    report = speaker.reported()
    assert report["engines"]["azure-rest"]["failures"] == 1
    azure.mode = "401"
    speaker.say("Banana")
    text = caplog.text + json.dumps(report) + json.dumps(speaker.reported())
    assert KEY not in text and "HTTP 401" in text


def test_a_german_speech_map_works_live_through_the_twin_in_the_module_process(tmp_path: Path) -> None:
    """The real TextToSpeech process on the runner's bus: a desired patch switches language, template and map live."""
    route = parse_route("speech", "FROM /messages/modules/CameraCapture/outputs/classification "
                                  "INTO BrokeredEndpoint(\"/modules/TextToSpeech/inputs/classification\")")
    bus = Bus([route], {"TextToSpeech": {"minRepeatS": 0.0}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALEDGE_", "IOTEDGE_"))}
    env.update(bus.environment("TextToSpeech"), PYTHONPATH=str(ROOT), METRICS_PORT="0", AUDIO_OUTPUT_DIR=str(tmp_path / "audio"),
               CACHE_DIR=str(tmp_path / "cache"))
    log = (tmp_path / "module.log").open("wb")
    process = subprocess.Popen([sys.executable, "-u", str(ROOT / "modules" / "TextToSpeech" / "main.py")], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, env=env)

    def inject(tag: str | None) -> None:
        message = Classification(tagName=tag, probability=0.9, predictions=[], captureTime=datetime.now(timezone.utc),
                                 frameNumber=0, source="test")
        bus.route("CameraCapture", {"op": "send", "output": CLASSIFICATION_OUTPUT, "properties": message.properties(),
                                    "body": wire.encode_body(message.model_dump_json().encode()),
                                    "contentType": "application/json", "contentEncoding": "utf-8"})

    try:
        wait_for(lambda: bus.reported.get("TextToSpeech", {}).get("speech"), 60)
        inject("Apple")
        wait_for(lambda: list((tmp_path / "audio").glob("*-Apple.wav")), 30)
        bus.patch_desired("TextToSpeech", {"language": "de-DE", "phraseTemplate": "Du hast {tagName} gescannt",
                                           "speechMap": {"de-DE": {"Apple": "einen Apfel"}}})
        wait_for(lambda: bus.reported["TextToSpeech"]["settings"]["language"] == "de-DE", 30)
        assert bus.reported["TextToSpeech"]["desiredStatus"]["status"] == "applied"
        inject(None)
        inject("Apple")
        german = wait_for(lambda: list((tmp_path / "audio").glob("*-Du_hast_einen_Apfel_gescannt.wav")), 30)
        assert_speech(german[0].read_bytes(), 0.8)
        speech = wait_for(lambda: (s := bus.reported["TextToSpeech"]["speech"])["lastPhrase"].startswith("Du hast") and s, 30)
        assert speech["language"] == "de-DE" and speech["engines"]["espeak-ng"]["voice"] == "de"
        assert speech["spoken"] == 2 and speech["lastEngine"] == "espeak-ng"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        bus.close()
