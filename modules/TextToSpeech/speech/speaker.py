"""Speaks a phrase each time the tag changes, with a cache so a tag is synthesised once per voice."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from edgekit.messages import Classification
from speech.engines import Engine, SynthesisError, select_engines
from speech.output import AudioOutput
from speech.settings import SpeechSettings

logger = logging.getLogger(__name__)


class Speaker:
    """Consumes classifications in order; speaks ``phrase`` for each new tag (no tag resets)."""

    def __init__(self, settings: SpeechSettings) -> None:
        self._last_tag: str | None = None
        self._memory: dict[str, bytes] = {}
        self._lock = threading.RLock()  # configure() comes from the twin thread, consume() from the inbox
        self.spoken = 0
        self.configure(settings)

    def configure(self, settings: SpeechSettings) -> None:
        """(Re)build engines and output from ``settings``; logs one line when nothing can speak."""
        with self._lock:
            self._configure(settings)

    def _configure(self, settings: SpeechSettings) -> None:
        self.settings = settings
        self.engines: list[Engine] = select_engines(settings)
        self.output = AudioOutput(settings.audio_output_dir)
        if not self.engines:
            logger.warning(
                "no speech engine: install espeak-ng (apt-get install espeak-ng) or set SPEECH_KEY and "
                "SPEECH_REGION; tags will only be logged"
            )
        else:
            logger.info("speaking with %s", " then ".join(e.name for e in self.engines))

    def consume(self, classification: Classification) -> None:
        """Speak the phrase for ``classification`` when its tag differs from the previous one."""
        with self._lock:
            tag = classification.tagName
            if tag == self._last_tag:
                return
            self._last_tag = tag
            if tag is not None:
                self.say(self.settings.phrase_for(tag))

    def say(self, text: str) -> Path | None:
        """Synthesise (or take from the cache) and emit ``text``; returns the WAV file written, if any."""
        for engine in self.engines:
            try:
                wav = self._synthesize(engine, text)
            except SynthesisError as exc:
                logger.warning("%s: %s", engine.name, exc)
                continue
            written = self.output.emit(wav, text)
            self.spoken += 1
            logger.info("said %r with %s%s", text, engine.name, f" -> {written}" if written else "")
            return written
        logger.info("would say %r (no speech engine)", text)
        return None

    def _synthesize(self, engine: Engine, text: str) -> bytes:
        key = hashlib.sha256(f"{engine.name}|{engine.voice}|{text}".encode()).hexdigest()[:32]
        if key in self._memory:
            return self._memory[key]
        cached = Path(self.settings.cache_dir) / f"{key}.wav" if self.settings.cache_dir else None
        if cached is not None and cached.is_file():
            wav = cached.read_bytes()
        else:
            wav = engine.synthesize(text)
            if cached is not None:
                try:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(wav)
                except OSError as exc:
                    logger.warning("cannot cache speech in %s: %s", cached.parent, exc)
        self._memory[key] = wav
        return wav
