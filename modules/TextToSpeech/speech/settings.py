"""TextToSpeech settings: environment variables give the defaults, desired properties override the live ones."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import SecretStr, field_validator

from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup
from speech.voices import ENGINES

LANGUAGE = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2}|-[0-9]{3})?$"  # BCP 47 as Azure writes it: en-US, zh-Hans-CN
VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_+/.-]{0,127}$")
MAX_MAP_LANGUAGES = 8
MAX_MAP_ENTRIES = 64  # tags per language
MAX_MAP_PHRASE = 100  # characters of one mapped phrase
OBJECT_FIELDS = ("speech_map", "voices")


class SpeechSettings(ModuleSettings):
    """Start-up (env only): speech_key, speech_region, speech_host, audio_output_dir, audio_output_max_files, cache_dir,
    cache_max_mb, piper_voice_dir, piper_idle_s, metrics_port. Live: enabled, volume, min_repeat_s, language, phrase_template,
    speech_map, voices, synthesis_timeout_s, hedge_delay_s.

    speech_key / speech_region: Azure Speech resource (a key and a region, or speech_host, turn the
    Azure engines on); speech_host: another endpoint for both Azure engines (``http://host:port`` of
    Azure's neural TTS container, or a test server) instead of the region's;
    language: BCP 47 language (``en-US``, ``de-DE``), carried in SSML and choosing each engine's voice;
    phrase_template: what is said, ``{tagName}`` replaced by the tag (or its ``speech_map`` phrase);
    speech_map: per language, tag -> phrase (``{"de-DE": {"Apple": "ein Apfel"}}``);
    voices: per engine (``azure``, ``azure-rest``, ``piper``, ``espeak-ng``) and language, a voice
    overriding the built-in default (:mod:`speech.voices`);
    enabled: speak at all; volume: 0-1, scales the samples played and written;
    min_repeat_s: the same tag is not spoken again within this many seconds, s;
    synthesis_timeout_s: longest wait for one engine call, s; hedge_delay_s: how long the preferred
    engine may take before the next one starts in parallel, s;
    audio_output_dir: folder for a WAV of each phrase ("" = only when there is no sound device);
    audio_output_max_files: the most WAV files kept there, the oldest deleted first (0: no bound);
    cache_dir: folder caching synthesised phrases ("" = memory only); cache_max_mb: its bound, MB;
    piper_voice_dir: more Piper voices (``<name>.onnx`` + ``.onnx.json``, e.g. a mounted volume);
    piper_idle_s: the Piper process (about 150 MB with its voice) is stopped after this many seconds
    without a phrase and started again for the next one (0: kept running), s;
    metrics_port: TCP port of the Prometheus metrics (0: not served)."""

    speech_key: SecretStr = startup(SecretStr(""))
    speech_region: str = startup("")
    speech_host: str = startup("", max_length=256, pattern=r"^$|^(https?|wss?)://[^\s/]+(/[^\s]*)?$")
    enabled: bool = live(True)
    volume: float = live(1.0, ge=0.0, le=1.0)
    min_repeat_s: float = live(3.0, ge=0.0, le=3600.0)
    language: str = live("en-US", max_length=16, pattern=LANGUAGE)
    phrase_template: str = live("{tagName}", max_length=256, pattern=r"\S")
    speech_map: dict[str, dict[str, str]] = live({})
    voices: dict[str, dict[str, str]] = live({})
    synthesis_timeout_s: float = live(10.0, ge=0.1, le=120.0)
    hedge_delay_s: float = live(0.3, ge=0.0, le=10.0)
    audio_output_dir: str = startup("")
    audio_output_max_files: int = startup(100, ge=0, le=1_000_000)
    cache_dir: str = startup("")
    cache_max_mb: float = startup(50.0, ge=0.0, le=10000.0)
    piper_voice_dir: str = startup("")
    piper_idle_s: float = startup(120.0, ge=0.0, le=86400.0)
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)

    @field_validator("speech_map", "voices", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        """An environment variable holds the object as JSON text."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("must be a JSON object") from None
        return value

    @field_validator("speech_map")
    @classmethod
    def _speech_map(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if len(value) > MAX_MAP_LANGUAGES:
            raise ValueError(f"at most {MAX_MAP_LANGUAGES} languages")
        for language, phrases in value.items():
            _check_language(language)
            if len(phrases) > MAX_MAP_ENTRIES:
                raise ValueError(f"at most {MAX_MAP_ENTRIES} tags per language")
            for tag, phrase in phrases.items():
                _check_text(tag, 128, "a tag")
                _check_text(phrase, MAX_MAP_PHRASE, "a phrase")
                if not phrase.strip():
                    raise ValueError("a phrase must not be blank")
        return value

    @field_validator("voices")
    @classmethod
    def _voices(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for engine, by_language in value.items():
            if engine not in ENGINES:
                raise ValueError(f"unknown engine (engines: {', '.join(ENGINES)})")
            if len(by_language) > MAX_MAP_LANGUAGES * 2:
                raise ValueError(f"at most {MAX_MAP_LANGUAGES * 2} languages per engine")
            for language, voice in by_language.items():
                _check_language(language)
                if not VOICE.match(voice) or ".." in voice:
                    raise ValueError("a voice name starts with a letter or digit, then letters, digits and :_+/.- (at most 128)")
        return value

    def reported(self) -> dict[str, Any]:
        """As :meth:`ModuleSettings.reported`, with ``speechMap`` and ``voices`` as JSON text: a reported patch
        merges nested objects into the twin (a language or engine removed would stay reported forever)."""
        data = super().reported()
        for name in OBJECT_FIELDS:
            key = self.twin_name(name)
            data[key] = json.dumps(data[key], ensure_ascii=False, sort_keys=True)
        return data

    def phrase_for(self, tag: str) -> str:
        """The sentence to speak for ``tag`` in ``language``: the template around the mapped phrase (or the tag)."""
        words = self.speech_map.get(self.language, {}).get(tag, tag)
        return self.phrase_template.replace("{tagName}", words)

    @property
    def azure_configured(self) -> bool:
        """Both Azure engines have somewhere to go: a key and a region, or a host."""
        return bool(self.speech_key.get_secret_value() and self.speech_region) or bool(self.speech_host)


def _check_language(language: str) -> None:
    if not re.match(LANGUAGE, language):
        raise ValueError("a language is a BCP 47 code such as en-US or de-DE")


def _check_text(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise ValueError(f"{what} is at most {limit} characters")
    if "\x00" in text:
        raise ValueError(f"{what} must not contain a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be UTF-8 text") from None
