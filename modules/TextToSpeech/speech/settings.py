"""TextToSpeech settings: environment variables give the defaults, desired properties override."""

from __future__ import annotations

from pydantic import SecretStr

from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup


class SpeechSettings(ModuleSettings):
    """Start-up settings (env only): speech_key / speech_region, audio_output_dir, cache_dir, metrics_port.
    Live: voice, espeak_voice, phrase, synthesis_timeout_s.

    speech_key / speech_region: Azure Speech resource (both set: Azure voice; else espeak-ng);
    voice: Azure voice name; espeak_voice: espeak-ng voice; phrase: what is said, ``{tagName}``
    replaced by the tag; audio_output_dir: folder for a WAV of each phrase ("" = only when
    there is no sound device); cache_dir: folder caching synthesised phrases ("" = memory);
    synthesis_timeout_s: longest wait for one phrase, in s; metrics_port: TCP port of the Prometheus
    metrics for the IoT Edge metrics collector (0: not served)."""

    speech_key: SecretStr = startup(SecretStr(""))
    speech_region: str = startup("")
    voice: str = live("en-US-JennyNeural", max_length=128, pattern=r"^[A-Za-z0-9:_-]+$")
    espeak_voice: str = live("en-us", max_length=64, pattern=r"^[A-Za-z0-9+_/-]+$")
    phrase: str = live("{tagName}", max_length=256, pattern=r"\S")
    audio_output_dir: str = startup("")
    cache_dir: str = startup("")
    synthesis_timeout_s: float = live(10.0, ge=0.1, le=120.0)
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)

    def phrase_for(self, tag: str) -> str:
        """The sentence to speak for ``tag``."""
        return self.phrase.replace("{tagName}", tag)

    @property
    def azure_configured(self) -> bool:
        return bool(self.speech_key.get_secret_value() and self.speech_region)
