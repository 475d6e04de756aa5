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
            except (OSError, ValueError, subprocess.TimeoutExpired) as exc:  # ValueError: a NUL in the text or voice
                raise SynthesisError(f"espeak-ng failed: {str(exc)[:200]}") from exc
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


class AzureRestEngine(Engine):
    """Azure Speech through its REST API: for platforms without the SDK (arm32v7 has no wheel).

    contract: POST https://<region>.tts.speech.microsoft.com/cognitiveservices/v1 with SSML,
    ``X-Microsoft-OutputFormat: riff-16khz-16bit-mono-pcm`` (docs/iotedge.md "Speech").
    """

    name = "azure-rest"

    def __init__(self, key: str, region: str, voice: str, timeout_s: float) -> None:
        import requests

        self._http = requests.Session()
        self._url = f"https://{region}.tts.speech.microsoft.com/cognitiveservices/v1"
        self._key = key
        self._voice = voice
        self._timeout_s = timeout_s

    @property
    def voice(self) -> str:
        return self._voice

    def ssml(self, text: str) -> str:
        """The SSML document for ``text`` in this voice (text XML-escaped)."""
        from xml.sax.saxutils import escape, quoteattr

        return (f"<speak version='1.0' xml:lang='en-US'><voice name={quoteattr(self._voice)}>"
                f"{escape(text)}</voice></speak>")

    def synthesize(self, text: str) -> bytes:
        import requests

        headers = {"Ocp-Apim-Subscription-Key": self._key, "Content-Type": "application/ssml+xml",
                   "X-Microsoft-OutputFormat": "riff-16khz-16bit-mono-pcm", "User-Agent": "TextToSpeech-module"}
        try:
            reply = self._http.post(self._url, data=self.ssml(text).encode("utf-8"), headers=headers, timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise SynthesisError(f"Azure Speech REST unreachable: {exc.__class__.__name__}") from exc
        if reply.status_code != 200 or not reply.content.startswith(b"RIFF"):
            raise SynthesisError(f"Azure Speech REST answered HTTP {reply.status_code}")
        return reply.content


def select_engines(settings: SpeechSettings) -> list[Engine]:
    """The engines to try in order: Azure (SDK where installed, else REST) when key and region are set, then espeak-ng."""
    engines: list[Engine] = []
    if settings.azure_configured:
        key = settings.speech_key.get_secret_value()
        try:
            engines.append(AzureEngine(key, settings.speech_region, settings.voice, settings.synthesis_timeout_s))
        except ImportError:
            engines.append(AzureRestEngine(key, settings.speech_region, settings.voice, settings.synthesis_timeout_s))
        except Exception as exc:  # noqa: BLE001 - a broken SDK must not stop offline speech
            logger.warning("Azure Speech SDK unavailable (%s); using its REST API", exc)
            engines.append(AzureRestEngine(key, settings.speech_region, settings.voice, settings.synthesis_timeout_s))
    if EspeakEngine.available():
        engines.append(EspeakEngine(settings.espeak_voice, settings.synthesis_timeout_s))
    return engines
