"""TextToSpeech's playback (speech.output.AudioOutput.emit): the real ``aplay`` (alsa-utils) plays into ALSA's
``file`` plugin over its ``null`` device, set up by an ALSA configuration of the test's own (ALSA_CONFIG_PATH), so
what the module would have sent to a loudspeaker lands in a file, sample for sample."""

from __future__ import annotations

import array
import io
import logging
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from speech.output import AudioOutput


@pytest.fixture()
def device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ALSA's default device for this test: the file plugin writing the raw samples played to ``played.raw``
    and passing them on to the null device. Returns that file."""
    if shutil.which("aplay") is None:
        pytest.fail("aplay is missing: apt-get install alsa-utils", pytrace=False)
    played = tmp_path / "played.raw"
    config = tmp_path / "asound.conf"
    config.write_text('pcm.!default {\n  type file\n  slave.pcm { type null }\n'
                      f'  file "{played}"\n  format "raw"\n}}\n')
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(config))
    return played


def wav_of(samples: list[int], rate: int = 16000) -> bytes:
    """A mono 16-bit WAV holding ``samples``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(pcm(samples))
    return out.getvalue()


def pcm(samples: list[int]) -> bytes:
    """Little-endian 16-bit samples, as ALSA's S16_LE and a WAV file hold them."""
    data = array.array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def assert_played(played: Path, expected: bytes, rate: int) -> None:
    """``played`` holds ``expected`` and then at most half a second of silence (aplay fills its last period)."""
    assert played.is_file(), "nothing reached the device"
    got = played.read_bytes()
    assert got[:len(expected)] == expected, (len(got), len(expected))
    tail = got[len(expected):]
    assert tail == bytes(len(tail)) and len(tail) <= rate, len(tail)


def test_a_phrase_is_played_on_the_device_sample_for_sample(device: Path, tmp_path: Path) -> None:
    """A phrase synthesised by espeak-ng (one of the module's engines), played with no folder set: what the device
    received is the phrase's samples."""
    wav = tmp_path / "apple.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Apple"], check=True, timeout=30)
    with wave.open(str(wav)) as phrase:
        assert (phrase.getnchannels(), phrase.getsampwidth()) == (1, 2)
        rate, samples = phrase.getframerate(), phrase.readframes(phrase.getnframes())
    assert len(samples) > rate  # about a second of speech, not silence
    assert any(samples)

    output = AudioOutput("", play=True)
    assert output.emit(wav.read_bytes(), "Apple") is None  # played only: no folder was asked for
    assert_played(device, samples, rate)


def test_the_volume_scales_the_samples_played_and_the_file_written_holds_the_same(device: Path, tmp_path: Path) -> None:
    """volume 0.5 halves every sample (docs/settings.md: "0-1, scales the samples played and written"); with a folder set the
    phrase is both played and written, the same audio."""
    pattern = [0, 1000, -1000, 2000, -32768, 32766, 4, -4]
    halved = [0, 500, -500, 1000, -16384, 16383, 2, -2]  # worked out by hand
    output = AudioOutput(str(tmp_path / "audio"), play=True)
    written = output.emit(wav_of(pattern * 2000), "Kiwi", volume=0.5)
    assert written is not None and written.name == "0001-Kiwi.wav"
    assert_played(device, pcm(halved * 2000), 16000)
    with wave.open(str(written)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 16000)
        assert file.readframes(file.getnframes()) == pcm(halved * 2000)


def test_without_aplay_the_phrase_is_still_written_and_the_failure_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no aplay on it
    output = AudioOutput(str(tmp_path / "audio"), play=True)
    written = output.emit(wav_of([100, -100] * 100), "Apple")
    assert written is not None and written.is_file()
    assert any(r.levelno == logging.WARNING and "playback failed" in r.getMessage() for r in caplog.records)
