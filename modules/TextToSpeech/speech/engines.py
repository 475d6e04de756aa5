"""Speech engines: text -> WAV bytes, behind one interface, each call bounded by a timeout.

- ``azure``: Azure Speech through ``azure-cognitiveservices-speech`` (amd64, arm64v8);
- ``azure-rest``: Azure Speech through its REST API (arm32v7, where the SDK has no wheel);
- ``piper``: Piper neural voices offline (amd64, arm64v8), run as a separate process (GPL-3.0);
- ``espeak-ng``: offline everywhere, the last resort (a separate process too).

Both Azure engines go to the region's endpoint, or to ``SPEECH_HOST`` (Azure's TTS container, a
test server). contract: docs/iotedge.md "Speech": ``POST https://<region>.tts.speech.microsoft.com/
cognitiveservices/v1`` with an SSML body, ``Ocp-Apim-Subscription-Key``, ``Content-Type:
application/ssml+xml``, ``X-Microsoft-OutputFormat: riff-16khz-16bit-mono-pcm``. The SDK never raises
on failure and may wait 80 s on a silent network, so every wait is bounded here. The key never
appears in an error message.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from speech.base import Engine, SynthesisError
from speech.piper import PiperEngine, piper_voice_path
from speech.settings import SpeechSettings
from speech.voices import voice_for

__all__ = ["Engine", "SynthesisError", "EspeakEngine", "AzureEngine", "AzureRestEngine", "PiperEngine", "select_engines"]

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
OUTPUT_FORMAT = "riff-16khz-16bit-mono-pcm"


def ssml(text: str, voice: str, language: str) -> str:
    """The SSML document for ``text`` in ``voice`` and ``language`` (text XML-escaped)."""
    return (f"<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang={quoteattr(language)}>"
            f"<voice name={quoteattr(voice)}>{escape(text)}</voice></speak>")


class EspeakEngine(Engine):
    """espeak-ng (Debian package ``espeak-ng``): offline, instant, robotic."""

    name = "espeak-ng"

    def __init__(self, voice: str, timeout_s: float, language: str = "") -> None:
        self._voice = voice
        self._timeout_s = timeout_s
        self.language = language

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
    """Azure Speech neural voices through ``azure-cognitiveservices-speech`` (16 kHz mono WAV), SSML with the language."""

    name = "azure"

    def __init__(self, key: str, region: str, voice: str, timeout_s: float, language: str = "en-US",
                 host: str = "") -> None:
        import azure.cognitiveservices.speech as speechsdk

        self._sdk = speechsdk
        if host:
            config = speechsdk.SpeechConfig(host=host, subscription=key) if key else speechsdk.SpeechConfig(host=host)
        else:
            config = speechsdk.SpeechConfig(subscription=key, region=region)
        config.speech_synthesis_voice_name = voice
        config.set_speech_synthesis_output_format(speechsdk.SpeechSynthesisOutputFormat.Riff16Khz16BitMonoPcm)
        self._synthesizer = speechsdk.SpeechSynthesizer(speech_config=config, audio_config=None)
        self._voice = voice
        self.language = language
        self._timeout_s = timeout_s

    @property
    def voice(self) -> str:
        return self._voice

    def synthesize(self, text: str) -> bytes:
        document = ssml(text, self._voice, self.language)
        box: queue.Queue[Any] = queue.Queue(maxsize=1)

        def wait_for_sdk() -> None:  # a daemon thread: a wait the SDK stretches to 80 s never holds up the exit
            try:
                box.put(self._synthesizer.speak_ssml_async(document).get())
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                box.put(exc)

        threading.Thread(target=wait_for_sdk, name="azure-speech", daemon=True).start()
        try:
            result = box.get(timeout=self._timeout_s)
        except queue.Empty as exc:
            raise SynthesisError(f"Azure Speech did not answer within {self._timeout_s:g} s") from exc
        if isinstance(result, Exception):
            raise SynthesisError(f"Azure Speech failed ({result.__class__.__name__})")
        if result.reason != self._sdk.ResultReason.SynthesizingAudioCompleted:
            details = getattr(result, "cancellation_details", None)
            why = f"{details.reason}: {str(details.error_details)[:160]}" if details else str(result.reason)
            raise SynthesisError(f"Azure Speech failed ({why})")
        return bytes(result.audio_data)


class AzureRestEngine(Engine):
    """Azure Speech through its REST API: for platforms without the SDK (arm32v7 has no wheel)."""

    name = "azure-rest"

    def __init__(self, key: str, region: str, voice: str, timeout_s: float, language: str = "en-US",
                 host: str = "") -> None:
        import urllib3

        self._http = urllib3.PoolManager(retries=False)
        base = _http_base(host) if host else f"https://{region}.tts.speech.microsoft.com"
        self.url = f"{base}/cognitiveservices/v1"
        self._key = key
        self._voice = voice
        self.language = language
        self._timeout_s = timeout_s

    @property
    def voice(self) -> str:
        return self._voice

    def ssml(self, text: str) -> str:
        """The SSML document for ``text`` in this voice and language."""
        return ssml(text, self._voice, self.language)

    def synthesize(self, text: str) -> bytes:
        import urllib3

        headers = {"Content-Type": "application/ssml+xml", "X-Microsoft-OutputFormat": OUTPUT_FORMAT,
                   "User-Agent": "TextToSpeech-module"}
        if self._key:
            headers["Ocp-Apim-Subscription-Key"] = self._key
        try:
            # (connect, read) timeouts, and the whole body read within the call: a server that answers
            # headers and then stalls is cut off by the read timeout.
            reply = self._http.request("POST", self.url, body=self.ssml(text).encode("utf-8"), headers=headers,
                                       timeout=urllib3.Timeout(connect=min(self._timeout_s, 5.0), read=self._timeout_s))
        except urllib3.exceptions.HTTPError as exc:
            raise SynthesisError(f"Azure Speech REST unreachable: {exc.__class__.__name__}") from exc
        if reply.status != 200 or not reply.data.startswith(b"RIFF"):
            raise SynthesisError(f"Azure Speech REST answered HTTP {reply.status}")
        return reply.data

    def close(self) -> None:
        self._http.clear()


def _http_base(host: str) -> str:
    """``SPEECH_HOST`` for HTTP: the SDK's ``ws://host:5000`` form is ``http://host:5000`` here."""
    for socket, http in (("ws://", "http://"), ("wss://", "https://")):
        if host.startswith(socket):
            host = http + host[len(socket):]
    return host.rstrip("/")


def _azure(settings: SpeechSettings, voice: str) -> Engine:
    key = settings.speech_key.get_secret_value()
    args = (key, settings.speech_region, voice, settings.synthesis_timeout_s, settings.language, settings.speech_host)
    try:
        return AzureEngine(*args)
    except ImportError:
        return AzureRestEngine(*args)
    except Exception as exc:  # noqa: BLE001 - a broken SDK must not stop speech
        logger.warning("Azure Speech SDK unavailable (%s); using its REST API", exc.__class__.__name__)
        return AzureRestEngine(*args)


def select_engines(settings: SpeechSettings, piper: PiperEngine | None = None) -> list[Engine]:
    """The engines in order of preference for ``settings.language``: Azure (SDK where installed, else
    REST) when configured, Piper when it and a voice for the language are installed, then espeak-ng.

    piper: a running Piper engine to keep when its voice is still the one wanted (loading takes ~1 s).
    """
    engines: list[Engine] = []
    language = settings.language
    if settings.azure_configured:
        voice = voice_for("azure", language, settings.voices)
        if voice is not None:
            engines.append(_azure(settings, voice))
        else:
            logger.warning("no Azure voice for %s: set voices.azure.%s", language, language)
    piper_voice = voice_for("piper", language, settings.voices)
    model = piper_voice_path(piper_voice, settings.piper_voice_dir) if piper_voice else None
    if model is not None:
        if piper is not None and piper.model == model:
            piper.retime(settings.synthesis_timeout_s)
            engines.append(piper)
        else:
            engines.append(PiperEngine(model, settings.synthesis_timeout_s, language, settings.piper_idle_s))
    if EspeakEngine.available():
        voice = voice_for("espeak-ng", language, settings.voices) or "en-us"
        engines.append(EspeakEngine(voice, settings.synthesis_timeout_s, language))
    return engines
