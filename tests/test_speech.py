"""TextToSpeech's speaker: the change and no-repeat rules, newest wins, enabled and volume live, languages and
phrases, file names that never overwrite, the cache (keyed, bounded, across restarts), falling back to espeak-ng."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
import wave
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from conftest import free_port
from edgekit.inbox import Inbox
from edgekit.messages import Classification
from edgekit.settings import SettingsError, build
from speech.cache import PhraseCache, cache_key
from speech.engines import AzureEngine, AzureRestEngine, EspeakEngine, SynthesisError
from speech.settings import SpeechSettings
from speech.speaker import Speaker
from speech_standin import SpeechService, speech_service


def classification(tag: str | None) -> Classification:
    return Classification(tagName=tag, probability=0.9 if tag else 0.0, predictions=[],
                          captureTime=datetime.now(timezone.utc), frameNumber=1, source="test")


def _samples(wav: Path | bytes) -> tuple[np.ndarray, int]:
    with wave.open(str(wav) if isinstance(wav, Path) else io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def _seconds(wav: Path) -> float:
    samples, rate = _samples(wav)
    assert np.abs(samples).max() > 1000
    return len(samples) / rate


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.wav"))


def espeak_only(settings: SpeechSettings, clock: Callable[[], float] = time.monotonic) -> Speaker:
    """A speaker with espeak-ng alone (Piper, when installed, is tested in test_speech_engines)."""
    return Speaker(settings, [EspeakEngine("en-us", 10, settings.language)], clock=clock)


def test_espeak_writes_a_real_wav(tmp_path: Path) -> None:
    wav = EspeakEngine("en-us", 10).synthesize("You scanned an apple")
    (tmp_path / "a.wav").write_bytes(wav)
    assert 0.8 < _seconds(tmp_path / "a.wav") < 4.0


def test_speaks_each_new_tag_once_with_the_template(tmp_path: Path) -> None:
    speaker = espeak_only(SpeechSettings(audio_output_dir=str(tmp_path / "out"), phrase_template="You scanned {tagName}",
                                         cache_dir=str(tmp_path / "cache"), min_repeat_s=0))
    for tag in ["Apple", "Apple", None, "Apple", "Banana", None, None]:
        speaker.consume(classification(tag))
    files = _names(tmp_path / "out")
    assert files == ["0001-You_scanned_Apple.wav", "0002-You_scanned_Apple.wav", "0003-You_scanned_Banana.wav"]
    assert len(list((tmp_path / "cache").glob("*.wav"))) == 2  # each phrase synthesised once
    assert all(_seconds(tmp_path / "out" / f) > 0.5 for f in files)


def test_the_same_tag_is_not_repeated_within_min_repeat_s_even_across_an_empty_scene(tmp_path: Path) -> None:
    now = [100.0]
    speaker = espeak_only(SpeechSettings(audio_output_dir=str(tmp_path), min_repeat_s=5), clock=lambda: now[0])
    for tag, at in [("Apple", 100), (None, 101), ("Apple", 102), (None, 103), ("Apple", 104.9), ("Banana", 104.95),
                    ("Apple", 104.99), (None, 106), ("Apple", 111), (None, 112), ("Apple", 113)]:
        now[0] = at
        speaker.consume(classification(tag))
    assert _names(tmp_path) == ["0001-Apple.wav", "0002-Banana.wav", "0003-Apple.wav"]
    assert speaker.repeats == 4 and speaker.reported()["repeatsSkipped"] == 4


def test_a_newer_tag_replaces_an_unspoken_older_one_and_a_stale_phrase_is_dropped(tmp_path: Path) -> None:
    held = _HeldEspeak("en-us")
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path), min_repeat_s=0), [held])
    inbox: Inbox[Classification] = Inbox(speaker.consume, capacity=1, name="speaker", coalesce=speaker.supersede)

    def arrive(tag: str) -> None:
        speaker.arrived()
        inbox.put(classification(tag))

    arrive("Apple")
    assert held.started.wait(10)  # Apple is being made
    for tag in ["Banana", "Cherry", "Lemon"]:
        arrive(tag)  # each replaces the one waiting
    held.release.set()
    assert inbox.wait_idle(30)
    inbox.close()
    assert _names(tmp_path) == ["0001-Lemon.wav"]  # Apple was overtaken while being made; Banana and Cherry never started
    assert speaker.superseded == 3 and speaker.reported()["superseded"] == 3


def test_enabled_switches_speech_off_and_on_live(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path), min_repeat_s=0)
    speaker = espeak_only(settings)
    speaker.configure(settings.model_copy(update={"enabled": False}), speaker.engines)
    speaker.consume(classification("Apple"))
    assert _names(tmp_path) == []
    speaker.configure(settings, speaker.engines)
    speaker.consume(classification("Banana"))
    assert _names(tmp_path) == ["0001-Banana.wav"]


def test_volume_scales_what_is_written(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path), min_repeat_s=0)
    speaker = espeak_only(settings)
    loud = speaker.say("Apple")
    speaker.configure(settings.model_copy(update={"volume": 0.5}), speaker.engines)
    half = speaker.say("Apple")
    speaker.configure(settings.model_copy(update={"volume": 0.0}), speaker.engines)
    mute = speaker.say("Apple")
    assert loud and half and mute
    (a, rate_a), (b, rate_b), (c, _) = _samples(loud), _samples(half), _samples(mute)
    assert rate_a == rate_b and len(a) == len(b) == len(c)
    ratio = np.sqrt(np.mean(b.astype(float) ** 2)) / np.sqrt(np.mean(a.astype(float) ** 2))
    assert 0.49 < ratio < 0.51 and not c.any()


def test_file_numbers_continue_after_a_restart_and_never_overwrite(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path))
    espeak_only(settings).say("Apple")
    espeak_only(settings).say("Banana")  # a restarted module
    (tmp_path / "0007-Lemon.wav").write_bytes(b"kept")
    espeak_only(settings).say("Cherry")
    assert _names(tmp_path) == ["0001-Apple.wav", "0002-Banana.wav", "0007-Lemon.wav", "0008-Cherry.wav"]
    assert (tmp_path / "0007-Lemon.wav").read_bytes() == b"kept"


def test_language_speech_map_and_template_make_the_phrase() -> None:
    german = SpeechSettings(language="de-DE", phrase_template="Du hast {tagName} gescannt",
                            speech_map={"de-DE": {"Apple": "einen Apfel"}, "fr-FR": {"Apple": "une pomme"}})
    assert german.phrase_for("Apple") == "Du hast einen Apfel gescannt"
    assert german.phrase_for("Kiwi") == "Du hast Kiwi gescannt"  # not in the map: the tag itself
    assert SpeechSettings(phrase_template="You scanned {tagName}").phrase_for("Apple") == "You scanned Apple"
    rest = AzureRestEngine("", "westeurope", "de-DE-KatjaNeural", 5, "de-DE")
    assert rest.ssml("Fish & <chips>") == (
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang=\"de-DE\">"
        "<voice name=\"de-DE-KatjaNeural\">Fish &amp; &lt;chips&gt;</voice></speak>")


def test_a_german_speech_map_is_spoken_in_german_with_the_default_and_overridden_voices(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path), language="de-DE", speech_map={"de-DE": {"Apple": "ein Apfel"}})
    speaker = Speaker(settings)
    espeak = next(e for e in speaker.engines if e.name == "espeak-ng")
    assert espeak.voice == "de" and "piper" not in [e.name for e in speaker.engines]  # no German Piper voice packaged
    speaker.consume(classification("Apple"))
    assert _names(tmp_path) == ["0001-ein_Apfel.wav"] and _seconds(tmp_path / "0001-ein_Apfel.wav") > 0.4
    speaker.configure(settings.model_copy(update={"voices": {"espeak-ng": {"de-DE": "de+f3"}}}))
    assert next(e for e in speaker.engines if e.name == "espeak-ng").voice == "de+f3"
    speaker.close()


def test_settings_refuse_bad_maps_and_voices_and_read_them_from_the_environment() -> None:
    with pytest.raises(SettingsError, match="speechMap"):
        build(SpeechSettings, {"speech_map": {"de-DE": {f"t{i}": "x" for i in range(65)}}}, strict=True)
    with pytest.raises(SettingsError, match="BCP 47"):
        build(SpeechSettings, {"speech_map": {"Deutsch": {"Apple": "ein Apfel"}}}, strict=True)
    with pytest.raises(SettingsError, match="unknown engine"):
        build(SpeechSettings, {"voices": {"polly": {"en-US": "Joanna"}}}, strict=True)
    with pytest.raises(SettingsError, match="language"):
        build(SpeechSettings, {"language": "german"}, strict=True)
    with pytest.raises(SettingsError, match="volume"):
        build(SpeechSettings, {"volume": 1.5}, strict=True)
    env = SpeechSettings.from_environment({"SPEECH_MAP": '{"de-DE": {"Apple": "ein Apfel"}}', "LANGUAGE": "de-DE"})
    assert build(SpeechSettings, env).speech_map == {"de-DE": {"Apple": "ein Apfel"}}


def test_the_cache_is_keyed_by_engine_voice_language_and_text() -> None:
    keys = {cache_key("espeak-ng", "en-us", "en-US", "Apple"), cache_key("espeak-ng", "de", "de-DE", "Apple"),
            cache_key("espeak-ng", "en-us", "de-DE", "Apple"), cache_key("piper", "en-us", "en-US", "Apple"),
            cache_key("espeak-ng", "en-us", "en-US", "Apples")}
    assert len(keys) == 5


def test_the_cache_is_bounded_in_bytes_least_recently_used_out_on_disk_and_in_memory(tmp_path: Path) -> None:
    cache = PhraseCache(str(tmp_path), max_bytes=3000, memory_bytes=2000)
    for i, name in enumerate("abcd"):
        cache.put(name, bytes([i]) * 1000)
        os.utime(tmp_path / f"{name}.wav", (1000 + i, 1000 + i))  # distinct ages for the restart below
        if name == "c":
            assert cache.get("a") is not None  # a is used again: b is now the oldest
            os.utime(tmp_path / "a.wav", (1003, 1003))
    assert sorted(p.stem for p in tmp_path.glob("*.wav")) == ["a", "c", "d"] and cache.disk_bytes == 3000
    assert cache.evicted == 1 and cache._memory_size <= 2000
    restarted = PhraseCache(str(tmp_path), max_bytes=2000)  # a smaller bound after a restart: the oldest goes
    assert sorted(p.stem for p in tmp_path.glob("*.wav")) == ["a", "d"]
    hit = restarted.get("a")
    assert hit == (bytes([0]) * 1000, "file") and restarted.get("a") == (bytes([0]) * 1000, "memory")


def test_cache_survives_a_restart(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))
    espeak_only(settings).say("Lemon")
    cached = next((tmp_path / "cache").glob("*.wav"))
    again = espeak_only(settings)
    stamp = cached.read_bytes()
    assert again.say("Lemon") is not None
    assert again.from_cache == 1 and again.cache.hits["file"] == 1 and cached.read_bytes() == stamp


KEY = "k3y-" + "5" * 28  # the key the stand-in accepts
WRONG_KEY = "0" * 32


@pytest.fixture
def azure_speech() -> Iterator[SpeechService]:
    """Azure Speech's REST service played on 127.0.0.1 (tests/speech_standin.py), accepting ``KEY``."""
    with speech_service(KEY) as service:
        yield service


def _configured(env: dict[str, str]) -> SpeechSettings:
    """The module's settings from its environment, as main.py reads them."""
    return build(SpeechSettings, SpeechSettings.from_environment(env))


def test_azure_speech_refusing_the_key_falls_back_to_espeak(tmp_path: Path, azure_speech: SpeechService) -> None:
    """SPEECH_KEY and SPEECH_HOST, the module's own configuration, point both Azure engines at the stand-in,
    which refuses a wrong key with 401 as the service does: each engine fails naming Azure Speech (never the
    key), and the speaker speaks with espeak-ng."""
    settings = _configured({"SPEECH_KEY": WRONG_KEY, "SPEECH_HOST": azure_speech.url,
                            "AUDIO_OUTPUT_DIR": str(tmp_path), "SYNTHESIS_TIMEOUT_S": "20"})
    speaker = Speaker(settings)
    assert [e.name for e in speaker.engines][0] == "azure" and speaker.engines[-1].name == "espeak-ng"
    with pytest.raises(SynthesisError, match=r"Azure Speech failed .*\(401\)") as sdk:
        AzureEngine(WRONG_KEY, "", "en-US-JennyNeural", 20, host=azure_speech.url).synthesize("Apple")
    with pytest.raises(SynthesisError, match="Azure Speech REST answered HTTP 401") as rest:
        AzureRestEngine(WRONG_KEY, "", "en-US-JennyNeural", 20, host=azure_speech.url).synthesize("Apple")
    assert WRONG_KEY not in str(sdk.value) + str(rest.value)
    written = speaker.say("Apple")
    assert written is not None and _seconds(written) > 0.3 and speaker.last["engine"] == "espeak-ng"
    speaker.close()
    assert azure_speech.requests and set(azure_speech.answers()) == {401}  # every request was refused, none spoken
    assert {r["path"] for r in azure_speech.requests} == {"/cognitiveservices/websocket/v1", "/cognitiveservices/v1"}


def test_unreachable_azure_speech_falls_back_to_espeak(tmp_path: Path) -> None:
    """SPEECH_HOST on a loopback port where nothing listens: the Azure engine fails at once and espeak-ng speaks."""
    settings = _configured({"SPEECH_KEY": KEY, "SPEECH_HOST": f"http://127.0.0.1:{free_port()}",
                            "AUDIO_OUTPUT_DIR": str(tmp_path), "SYNTHESIS_TIMEOUT_S": "20"})
    speaker = Speaker(settings)
    assert [e.name for e in speaker.engines][0] == "azure"
    with pytest.raises(SynthesisError, match="Azure Speech"):
        speaker.engines[0].synthesize("Apple")
    written = speaker.say("Apple")
    assert written is not None and _seconds(written) > 0.3 and speaker.last["engine"] == "espeak-ng"
    speaker.close()


def test_no_engine_logs_one_clear_line_and_keeps_going(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on PATH, no Azure key
    monkeypatch.setattr("speech.engines.piper_voice_path", lambda _voice, _folder="": None)  # nor Piper
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path / "out")))
    assert speaker.engines == []
    assert "no speech engine: install espeak-ng (apt-get install espeak-ng)" in caplog.text
    speaker.consume(classification("Apple"))
    assert not (tmp_path / "out").exists()
    assert "would say 'Apple'" in caplog.text


def test_reported_speech_names_engines_breakers_the_last_phrase_and_counters(tmp_path: Path) -> None:
    speaker = espeak_only(SpeechSettings(audio_output_dir=str(tmp_path), speech_key="s3cr3t" * 6))
    speaker.consume(classification("Apple"))
    report = speaker.reported()
    assert report["engines"] == {"espeak-ng": {"voice": "en-us", "state": "closed", "failures": 0, "lastError": ""}}
    assert report["lastEngine"] == "espeak-ng" and report["lastPhrase"] == "Apple" and report["lastSpokenAt"]
    assert (report["spoken"], report["fromCache"], report["superseded"], report["engineFailures"]) == (1, 0, 0, 0)
    assert "s3cr3t" not in json.dumps(report)


class _HeldEspeak(EspeakEngine):
    """espeak-ng that signals when a phrase starts and finishes it only once ``release`` is set."""

    def __init__(self, voice: str) -> None:
        super().__init__(voice, 30)
        self.started = threading.Event()
        self.release = threading.Event()

    def synthesize(self, text: str) -> bytes:
        self.started.set()
        assert self.release.wait(30)
        return super().synthesize(text)


def test_configure_never_waits_for_the_phrase_in_progress(tmp_path: Path) -> None:
    """A twin patch used to block ~40 s behind a phrase; now it swaps the settings for the next phrase at once."""
    old = SpeechSettings(audio_output_dir=str(tmp_path), phrase_template="{tagName} is here")
    held = _HeldEspeak("en-us")
    speaker = Speaker(old, [held])
    events: list[str] = []
    speaking = threading.Thread(target=lambda: (speaker.consume(classification("Apple")), events.append("phrase done")))
    speaking.start()
    assert held.started.wait(10)  # the phrase is being spoken and cannot finish yet
    new = SpeechSettings(audio_output_dir=str(tmp_path), phrase_template="now {tagName}", voices={"espeak-ng": {"en-US": "en-gb"}})
    configuring = threading.Thread(target=lambda: (speaker.configure(new), events.append("configured")))
    configuring.start()
    configuring.join(10)
    events.append("released")
    held.release.set()
    speaking.join(30)
    assert events == ["configured", "released", "phrase done"]
    espeak = next(e for e in speaker.engines if e.name == "espeak-ng")
    assert espeak.voice == "en-gb" and speaker.settings.phrase_template == "now {tagName}"
    speaker.configure(new, [espeak])
    speaker.consume(classification("Banana"))
    assert _names(tmp_path) == ["0001-Apple_is_here.wav", "0002-now_Banana.wav"]
