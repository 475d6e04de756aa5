"""Speech engines: text -> WAV bytes. Azure Speech (SDK) when configured, espeak-ng offline.

contract: docs/iotedge.md "Speech". The Azure SDK never raises on failure: a result with
``ResultReason.Canceled`` comes back, or nothing for up to 80 s on a silent network, so every
wait is bounded here.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from speech.settings import SpeechSettings

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"


class SynthesisError(RuntimeError):
    """An engine could not produce audio for a phrase."""


class Engine(ABC):
    """Turns a phrase into a RIFF WAV."""

    name: str

    @abstractmethod
    def synthesize(self, text: str) -> bytes:
        """text -> WAV bytes; raises SynthesisError."""

    @property
    @abstractmethod
    def voice(self) -> str:
        """The voice, part of the cache key."""


class EspeakEngine(Engine):
    """espeak-ng (Debian package ``espeak-ng``): offline, instant, robotic."""

    name = "espeak-ng"

    def __init__(self, voice: str, timeout_s: float) -> None:
        self._voice = voice
        self._timeout_s = timeout_s

    @property
    def voice(self) -> str:
        return self._voice

    @staticmethod
    def available() -> bool:
        return shutil.which(ESPEAK) is not None

    def synthesize(self, text: str) -> bytes:
        # -w (not --stdout): espeak-ng can then seek back and write the real length into the WAV header.
        with tempfile.TemporaryDirectory(prefix="espeak-") as folder:
            target = Path(folder) / "speech.wav"
            try:
                done = subprocess.run(
                    [ESPEAK, "-v", self._voice, "-w", str(target), "--", text],
                    capture_output=True, timeout=self._timeout_s, check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SynthesisError(f"espeak-ng failed: {exc}") from exc
            wav = target.read_bytes() if target.is_file() else b""
        if done.returncode != 0 or not wav.startswith(b"RIFF"):
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[:200]}")
        return wav


class AzureEngine(Engine):
    """Azure Speech neural voices through ``azure-cognitiveservices-speech`` (16 kHz mono WAV)."""

    name = "azure"

    def __init__(self, key: str, region: str, voice: str, timeout_s: float) -> None:
        import azure.cognitiveservices.speech as speechsdk

        self._sdk = speechsdk
        config = speechsdk.SpeechConfig(subscription=key, region=region)
        config.speech_synthesis_voice_name = voice
        config.set_speech_synthesis_output_format(speechsdk.SpeechSynthesisOutputFormat.Riff16Khz16BitMonoPcm)
        self._synthesizer = speechsdk.SpeechSynthesizer(speech_config=config, audio_config=None)
        self._voice = voice
        self._timeout_s = timeout_s
        self._waits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="azure-speech")

    @property
    def voice(self) -> str:
        return self._voice

    def synthesize(self, text: str) -> bytes:
        future = self._waits.submit(lambda: self._synthesizer.speak_text_async(text).get())
        try:
            result = future.result(timeout=self._timeout_s)
        except FutureTimeout as exc:
            raise SynthesisError(f"Azure Speech did not answer within {self._timeout_s:.0f} s") from exc
        if result.reason != self._sdk.ResultReason.SynthesizingAudioCompleted:
            details = getattr(result, "cancellation_details", None)
            why = f"{details.reason}: {details.error_details}" if details else str(result.reason)
            raise SynthesisError(f"Azure Speech failed ({why})")
        return bytes(result.audio_data)


def select_engines(settings: SpeechSettings) -> list[Engine]:
    """The engines to try in order: Azure (when key and region are set), then espeak-ng (when installed)."""
    engines: list[Engine] = []
    if settings.azure_configured:
        try:
            engines.append(AzureEngine(settings.speech_key.get_secret_value(), settings.speech_region,
                                       settings.voice, settings.synthesis_timeout_s))
        except Exception as exc:  # noqa: BLE001 - a missing or broken SDK must not stop offline speech
            logger.warning("Azure Speech unavailable (%s); using espeak-ng", exc)
    if EspeakEngine.available():
        engines.append(EspeakEngine(settings.espeak_voice, settings.synthesis_timeout_s))
    return engines
