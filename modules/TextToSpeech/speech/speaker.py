"""Speaks a phrase each time the tag changes, with a cache so a tag is synthesised once per voice."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

from edgekit.messages import Classification
from speech.engines import Engine, SynthesisError, select_engines
from speech.metrics import SpeechMetrics
from speech.output import AudioOutput
from speech.settings import SpeechSettings

logger = logging.getLogger(__name__)

MEMORY_PHRASES = 64  # synthesised phrases kept in memory (least recently used dropped), ~100 KB each


class Speaker:
    """Consumes classifications in order; speaks ``phrase`` for each new tag (no tag resets).

    :meth:`configure` (the settings worker) swaps the settings and engines in one assignment and
    never waits for a phrase being spoken (that holds ``_speaking`` for seconds): the phrase in
    progress finishes with what it started with, the next one uses the new settings.

    metrics: where phrases, cache hits, engine failures and synthesis times are counted (default: a
    :class:`SpeechMetrics` registered nowhere).
    """

    def __init__(self, settings: SpeechSettings, engines: list[Engine] | None = None,
                 metrics: SpeechMetrics | None = None) -> None:
        self.metrics = metrics or SpeechMetrics()
        self._last_tag: str | None = None
        self._memory: OrderedDict[str, bytes] = OrderedDict()  # phrase WAVs, newest last, at most MEMORY_PHRASES
        self._speaking = threading.Lock()  # one phrase at a time (consume() from the inbox, say() from anywhere)
        self.spoken = 0
        self.output = AudioOutput(settings.audio_output_dir)  # a start-up setting: built once
        self._voice: tuple[SpeechSettings, list[Engine]] = (settings, [])
        self.configure(settings, engines)

    @property
    def settings(self) -> SpeechSettings:
        return self._voice[0]

    @property
    def engines(self) -> list[Engine]:
        return self._voice[1]

    def configure(self, settings: SpeechSettings, engines: list[Engine] | None = None) -> None:
        """Use ``settings`` (and ``engines``, default: :func:`select_engines`) from the next phrase on.

        Returns without waiting for a phrase in progress; logs one line when nothing can speak.
        """
        engines = select_engines(settings) if engines is None else engines
        self._voice = (settings, engines)  # one assignment: a phrase sees the old pair or the new, never a mix
        self.metrics.show_engines([e.name for e in engines])
        if not engines:
            logger.warning(
                "no speech engine: install espeak-ng (apt-get install espeak-ng) or set SPEECH_KEY and "
                "SPEECH_REGION; tags will only be logged"
            )
        else:
            logger.info("speaking with %s", " then ".join(e.name for e in engines))

    def consume(self, classification: Classification) -> None:
        """Speak the phrase for ``classification`` when its tag differs from the previous one."""
        tag = classification.tagName
        if tag == self._last_tag:
            return
        self._last_tag = tag
        if tag is not None:
            self.say(self.settings.phrase_for(tag))

    def say(self, text: str) -> Path | None:
        """Synthesise (or take from the cache) and emit ``text``; returns the WAV file written, if any."""
        settings, engines = self._voice
        with self._speaking:
            for engine in engines:
                try:
                    wav = self._synthesize(engine, text, settings.cache_dir)
                except SynthesisError as exc:
                    self.metrics.failures.labels(engine.name).inc()
                    logger.warning("%s: %s", engine.name, exc)
                    continue
                written = self.output.emit(wav, text)
                self.spoken += 1
                self.metrics.spoken.labels(engine.name).inc()
                logger.info("said %r with %s%s", text, engine.name, f" -> {written}" if written else "")
                return written
        self.metrics.unspoken.inc()
        logger.info("would say %r (no speech engine)", text)
        return None

    def _synthesize(self, engine: Engine, text: str, cache_dir: str) -> bytes:
        key = hashlib.sha256(f"{engine.name}|{engine.voice}|{text}".encode(errors="replace")).hexdigest()[:32]
        if key in self._memory:
            self._memory.move_to_end(key)
            self.metrics.cache_hits.labels("memory").inc()
            return self._memory[key]
        cached = Path(cache_dir) / f"{key}.wav" if cache_dir else None
        if cached is not None and cached.is_file():
            wav = cached.read_bytes()
            self.metrics.cache_hits.labels("file").inc()
        else:
            started = time.perf_counter()
            wav = engine.synthesize(text)
            self.metrics.synthesis.labels(engine.name).observe(time.perf_counter() - started)
            if cached is not None:
                try:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(wav)
                except OSError as exc:
                    logger.warning("cannot cache speech in %s: %s", cached.parent, exc)
        self._memory[key] = wav
        while len(self._memory) > MEMORY_PHRASES:
            self._memory.popitem(last=False)
        return wav
