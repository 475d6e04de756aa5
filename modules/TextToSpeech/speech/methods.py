"""TextToSpeech's direct method, to test the speaker from the cloud or ``python -m localedge invoke``.

``say`` ``{"text": "hello", "language": "de-DE"}``: speaks ``text`` (1-500 characters) through the
module's own path, as a tag's phrase is spoken: cached audio first, else the configured engines in
order of preference, hedged (Azure Speech, Piper, espeak-ng), played on the sound device and/or
written to ``AUDIO_OUTPUT_DIR``. ``language`` (optional, BCP 47 such as ``en-US``; default: the
module's ``language``) chooses each engine's voice for this phrase only. It speaks even while the
desired property ``enabled`` is false: it is the operator's test of the speaker.

Answer (200): ``{"engine": "piper" | "espeak-ng" | "azure" | "azure-rest", "language": "en-US",
"text": "hello", "file": "/out/0003-hello.wav" | null}`` (``file``: the WAV written, when
``AUDIO_OUTPUT_DIR`` is set or there is no sound device). Errors: 400 for a missing, empty or
longer text, an unknown field or a malformed language; 500 when no engine could speak it, with
each engine's last error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit.methods import MethodError, MethodHandler, taking
from speech.base import Engine
from speech.engines import select_engines
from speech.piper import PiperEngine
from speech.settings import LANGUAGE, SpeechSettings
from speech.speaker import Speaker

MAX_TEXT_CHARS = 500


class SayRequest(BaseModel):
    """``say``'s payload: ``text``, 1-500 characters; ``language``, BCP 47 (default: the module's)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    language: str | None = Field(default=None, max_length=16, pattern=LANGUAGE)


def handlers(speaker: Speaker) -> dict[str, MethodHandler]:
    """The speaker's direct methods for :meth:`edgekit.hub.Hub.set_method_handlers`."""

    def say(request: SayRequest) -> dict[str, Any]:
        text = request.text.strip()
        if not text:
            raise MethodError(400, "text: nothing to say (only white space)")
        settings = speaker.settings
        language = request.language or settings.language
        voice: tuple[SpeechSettings, list[Engine]] | None = None
        extra: list[Engine] = []
        if language != settings.language:
            configured = speaker.engines
            running = next((e for e in configured if isinstance(e, PiperEngine)), None)
            other = settings.model_copy(update={"language": language})
            engines = select_engines(other, running)
            extra = [e for e in engines if all(e is not c for c in configured)]
            voice = (other, engines)
        try:
            spoken = speaker.speak(text, voice=voice)
        finally:
            for engine in extra:
                engine.close()
        if spoken is None:
            errors = [f"{e.name}: {speaker.breaker(e).reported()['lastError'] or speaker.breaker(e).state}"
                      for e in (voice[1] if voice else speaker.engines)]
            raise MethodError(500, f"no speech engine could say it in {language}"
                                   + (f" ({'; '.join(errors)})" if errors else ": none is installed or configured"))
        engine_name, written = spoken
        return {"engine": engine_name, "language": language, "text": text,
                "file": str(written) if written is not None else None}

    return {"say": taking(SayRequest, say)}
