"""TextToSpeech: espeak-ng for real, Azure Speech falling back when it cannot be reached, the change rule, the cache."""

from __future__ import annotations

import logging
import threading
import wave
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from edgekit.messages import Classification
from speech.engines import AzureEngine, EspeakEngine, SynthesisError
from speech.settings import SpeechSettings
from speech.speaker import Speaker


def classification(tag: str | None) -> Classification:
    return Classification(tagName=tag, probability=0.9 if tag else 0.0, predictions=[],
                          captureTime=datetime.now(timezone.utc), frameNumber=1, source="test")


def _seconds(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        assert np.abs(samples).max() > 1000
        return w.getnframes() / w.getframerate()


def test_espeak_writes_a_real_wav(tmp_path: Path) -> None:
    wav = EspeakEngine("en-us", 10).synthesize("You scanned an apple")
    (tmp_path / "a.wav").write_bytes(wav)
    assert 0.8 < _seconds(tmp_path / "a.wav") < 4.0


def test_speaks_each_new_tag_once_with_the_phrase(tmp_path: Path) -> None:
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path / "out"), phrase="You scanned {tagName}",
                                     cache_dir=str(tmp_path / "cache")))
    for tag in ["Apple", "Apple", None, "Apple", "Banana", None, None]:
        speaker.consume(classification(tag))
    files = sorted(p.name for p in (tmp_path / "out").glob("*.wav"))
    assert files == ["0001-You_scanned_Apple.wav", "0002-You_scanned_Apple.wav", "0003-You_scanned_Banana.wav"]
    assert len(list((tmp_path / "cache").glob("*.wav"))) == 2  # each phrase synthesised once
    assert all(_seconds(tmp_path / "out" / f) > 0.5 for f in files)


def test_cache_survives_a_restart(tmp_path: Path) -> None:
    settings = SpeechSettings(audio_output_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))
    Speaker(settings).say("Lemon")
    cached = next((tmp_path / "cache").glob("*.wav"))
    cached.write_bytes(cached.read_bytes())  # unchanged content, new mtime
    again = Speaker(settings)
    again.configure(settings, [e for e in again.engines if e.name == "espeak-ng"])
    stamp = cached.stat().st_mtime_ns
    assert again.say("Lemon") is not None
    assert cached.stat().st_mtime_ns == stamp  # read from the cache, not re-synthesised


def test_unreachable_azure_speech_falls_back_to_espeak(tmp_path: Path) -> None:
    settings = SpeechSettings(speech_key="0" * 32, speech_region="westeurope", audio_output_dir=str(tmp_path),
                              synthesis_timeout_s=20)
    speaker = Speaker(settings)
    assert [e.name for e in speaker.engines] == ["azure", "espeak-ng"]
    with pytest.raises(SynthesisError, match="Azure Speech"):
        AzureEngine("0" * 32, "westeurope", "en-US-JennyNeural", 20).synthesize("Apple")
    written = speaker.say("Apple")
    assert written is not None and _seconds(written) > 0.3


def test_no_engine_logs_one_clear_line_and_keeps_going(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on PATH, no Azure key
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path / "out")))
    assert speaker.engines == []
    assert "no speech engine: install espeak-ng (apt-get install espeak-ng)" in caplog.text
    speaker.consume(classification("Apple"))
    assert not (tmp_path / "out").exists()
    assert "would say 'Apple'" in caplog.text


def test_rest_engine_posts_ssml_and_falls_back_when_unreachable(tmp_path: Path) -> None:
    """The arm32v7 path (no SDK wheel): a real HTTP call, refused here, then espeak-ng speaks."""
    from speech.engines import AzureRestEngine

    engine = AzureRestEngine("0" * 32, "westeurope", "en-US-JennyNeural", 5)
    assert engine.ssml("Fish & <chips>") == (
        "<speak version='1.0' xml:lang='en-US'><voice name=\"en-US-JennyNeural\">Fish &amp; &lt;chips&gt;</voice></speak>")
    with pytest.raises(SynthesisError, match="Azure Speech REST"):
        engine.synthesize("Apple")
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path), synthesis_timeout_s=5))
    speaker.configure(speaker.settings, [engine, *speaker.engines])
    written = speaker.say("Apple")
    assert written is not None and _seconds(written) > 0.3


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
    old = SpeechSettings(audio_output_dir=str(tmp_path), phrase="{tagName} is here")
    held = _HeldEspeak("en-us")
    speaker = Speaker(old, [held])
    events: list[str] = []
    speaking = threading.Thread(target=lambda: (speaker.consume(classification("Apple")), events.append("phrase done")))
    speaking.start()
    assert held.started.wait(10)  # the phrase is being spoken and cannot finish yet
    new = SpeechSettings(audio_output_dir=str(tmp_path), phrase="now {tagName}", espeak_voice="en-gb")
    configuring = threading.Thread(target=lambda: (speaker.configure(new), events.append("configured")))
    configuring.start()
    configuring.join(10)
    events.append("released")
    held.release.set()
    speaking.join(30)
    assert events == ["configured", "released", "phrase done"]
    assert [e.voice for e in speaker.engines] == ["en-gb"] and speaker.settings.phrase == "now {tagName}"
    speaker.consume(classification("Banana"))
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["0001-Apple_is_here.wav", "0002-now_Banana.wav"]
