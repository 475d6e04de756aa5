"""Speaks a phrase each time the tag changes: newest wins, no repeats, cached audio first, engines hedged.

For each phrase: the cached audio of any engine plays at once (the most preferred engine's first),
without asking an engine. Otherwise the most preferred engine whose circuit breaker allows it is
asked; when it has not answered within ``hedge_delay_s`` (or fails), the next one starts in
parallel, and the first audio to arrive is played. An engine that answers later still fills the
cache, so the better voice is ready next time. A phrase overtaken by a newer message while it was
being made is dropped (superseded), never spoken late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edgekit.messages import Classification
from speech.base import Engine, SynthesisError
from speech.cache import PhraseCache, cache_key
from speech.engines import select_engines
from speech.health import Breaker
from speech.metrics import SpeechMetrics
from speech.output import AudioOutput
from speech.piper import PiperEngine
from speech.settings import SpeechSettings

logger = logging.getLogger(__name__)

ENGINE_THREADS = 6  # engine calls in flight at most (one per engine, plus ones still finishing)
MAX_REMEMBERED_TAGS = 512  # tags whose last time is kept for min_repeat_s
_Outcome = tuple[bool, bytes | str]  # (ok, WAV or the reason)


class Speaker:
    """Consumes classifications on one worker; speaks ``phrase_for(tag)`` for each new tag.

    :meth:`configure` (the settings worker) swaps the settings and engines in one assignment and
    never waits for a phrase in progress: that phrase finishes with what it started with.

    metrics: where phrases, cache hits, engine failures and synthesis times are counted (default: a
    :class:`SpeechMetrics` registered nowhere); clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, settings: SpeechSettings, engines: list[Engine] | None = None,
                 metrics: SpeechMetrics | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics or SpeechMetrics()
        self._clock = clock
        self._last_tag: str | None = None
        self._said_at: dict[str, float] = {}
        self._speaking = threading.Lock()  # one phrase at a time (consume() from the inbox, say() from anywhere)
        self._arrived = 0  # messages arrived (see arrived()); a phrase made for an older one is superseded
        self._pool = ThreadPoolExecutor(max_workers=ENGINE_THREADS, thread_name_prefix="speech-engine")
        self._in_flight: set[Future[_Outcome]] = set()  # engine calls still running (hedged ones finish in the background)
        self.breakers: dict[str, Breaker] = {}
        self.cache = PhraseCache(settings.cache_dir, int(settings.cache_max_mb * 1024 * 1024))
        self.output = AudioOutput(settings.audio_output_dir, max_files=settings.audio_output_max_files)  # start-up: once
        self.spoken = 0
        self.from_cache = 0
        self.superseded = 0
        self.repeats = 0
        self.last: dict[str, Any] = {"engine": "", "phrase": "", "at": ""}
        self._voice: tuple[SpeechSettings, list[Engine]] = (settings, [])
        self.configure(settings, engines)
        self.metrics.watch_processes(self.process_resident_bytes)

    @property
    def settings(self) -> SpeechSettings:
        return self._voice[0]

    @property
    def engines(self) -> list[Engine]:
        return self._voice[1]

    def process_resident_bytes(self) -> int:
        """Resident memory of the current engines' own processes (Piper's), bytes."""
        return sum(engine.process_resident_bytes() for engine in self.engines)

    def breaker(self, engine: Engine) -> Breaker:
        return self.breakers.setdefault(engine.name, Breaker(clock=self._clock))

    def configure(self, settings: SpeechSettings, engines: list[Engine] | None = None) -> None:
        """Use ``settings`` (and ``engines``, default: :func:`select_engines`) from the next phrase on.

        Returns without waiting for a phrase in progress; logs one line when nothing can speak.
        """
        old = self._voice[1]
        if engines is None:
            running = next((e for e in old if isinstance(e, PiperEngine)), None)
            engines = select_engines(settings, running)
        self._voice = (settings, engines)  # one assignment: a phrase sees the old pair or the new, never a mix
        for engine in old:
            if all(engine is not e for e in engines):
                self._pool.submit(engine.close)  # after the phrase using it (Piper's lock), off this thread
        for engine in engines:
            self.breaker(engine)
        self.metrics.show_engines([e.name for e in engines])
        if not engines:
            logger.warning(
                "no speech engine: install espeak-ng (apt-get install espeak-ng) or set SPEECH_KEY and "
                "SPEECH_REGION; tags will only be logged"
            )
        else:
            logger.info("speaking %s with %s", settings.language, " then ".join(f"{e.name} ({e.voice})" for e in engines))

    def arrived(self) -> None:
        """A message arrived for :meth:`consume` (any thread): a phrase still being made for an older one is dropped."""
        self._arrived += 1

    def supersede(self, waiting: Classification, new: Classification) -> Classification:
        """Inbox coalescing: the newer message replaces an unspoken older one (counted)."""
        self.superseded += 1
        self.metrics.superseded.inc()
        return new

    def consume(self, classification: Classification) -> None:
        """Speak the phrase for ``classification`` when what is in view (its ``state``, decided by
        CameraCapture) is a tag that differs from the previous one, speech is enabled, and the tag was not
        spoken within ``min_repeat_s``; "notSure" and "empty" are silence."""
        generation = self._arrived
        settings = self.settings
        tag = classification.tagName if classification.state == "tag" else None
        if tag == self._last_tag:
            return
        self._last_tag = tag
        if tag is None or not settings.enabled:
            return
        now = self._clock()
        said = self._said_at.get(tag)
        if said is not None and now - said < settings.min_repeat_s:
            self.repeats += 1
            self.metrics.repeats.inc()
            logger.info("not repeating %r within %g s", tag, settings.min_repeat_s)
            return
        self._said_at[tag] = now
        if len(self._said_at) > MAX_REMEMBERED_TAGS:
            for old in sorted(self._said_at, key=self._said_at.__getitem__)[: MAX_REMEMBERED_TAGS // 2]:
                del self._said_at[old]
        self.say(settings.phrase_for(tag), generation)

    def say(self, text: str, generation: int | None = None) -> Path | None:
        """Emit ``text`` (cached audio, else the engines, hedged); returns the WAV file written, if any.

        generation: the :meth:`arrived` count the phrase answers; when more arrived meanwhile it is not emitted.
        """
        spoken = self.speak(text, generation)
        return spoken[1] if spoken is not None else None

    def speak(self, text: str, generation: int | None = None,
              voice: tuple[SpeechSettings, list[Engine]] | None = None) -> tuple[str, Path | None] | None:
        """:meth:`say`, returning (the engine that spoke, the WAV file written or None), or None when
        nothing was spoken (no engine could, or superseded). voice: (settings, engines) to use instead
        of the configured ones (another language), for this phrase only."""
        settings, engines = voice or self._voice
        with self._speaking:
            found = self._cached(engines, text)
            if found is not None:
                engine, wav = found
                self.from_cache += 1
            else:
                made = self._synthesize(engines, text, settings)
                if made is None:
                    self.metrics.unspoken.inc()
                    logger.info("would say %r (no speech engine could)", text)
                    return None
                engine, wav = made
            if generation is not None and self._arrived != generation:
                self.superseded += 1
                self.metrics.superseded.inc()
                logger.info("not saying %r: a newer message arrived", text)
                return None
            written = self.output.emit(wav, text, settings.volume)
            self.spoken += 1
            self.metrics.spoken.labels(engine.name).inc()
            self.last = {"engine": engine.name, "phrase": text, "at": datetime.now(timezone.utc).isoformat()}
            logger.info("said %r with %s%s%s", text, engine.name, " (cached)" if found else "",
                        f" -> {written}" if written else "")
            return engine.name, written

    def _cached(self, engines: list[Engine], text: str) -> tuple[Engine, bytes] | None:
        for engine in engines:
            hit = self.cache.get(cache_key(engine.name, engine.voice, engine.language, text))
            if hit is not None:
                self.metrics.cache_hits.labels(hit[1]).inc()
                return engine, hit[0]
        return None

    def _synthesize(self, engines: list[Engine], text: str, settings: SpeechSettings) -> tuple[Engine, bytes] | None:
        """The first audio from the engines, asked in order of preference, the next one starting when the
        ones asked have failed or have not answered within ``hedge_delay_s``."""
        running: dict[Future[_Outcome], Engine] = {}
        queue = list(engines)

        def launch() -> None:
            while queue:
                engine = queue.pop(0)
                if self.breaker(engine).acquire():
                    future = self._pool.submit(self._call, engine, text)
                    self._in_flight.add(future)
                    future.add_done_callback(self._in_flight.discard)
                    running[future] = engine
                    return
                logger.debug("skipping %s (%s)", engine.name, self.breaker(engine).state)

        launch()
        while running:
            done, _ = wait(list(running), timeout=settings.hedge_delay_s if queue else None, return_when=FIRST_COMPLETED)
            if not done:
                launch()  # the engines asked are slow: hedge with the next one
                continue
            for future in done:
                engine = running.pop(future)
                ok, result = future.result()
                if ok:
                    assert isinstance(result, bytes)
                    return engine, result
            if not running:
                launch()
        return None

    def _call(self, engine: Engine, text: str) -> _Outcome:
        """One engine call (on the pool): its outcome goes to the breaker, the metrics and the cache."""
        started = time.perf_counter()
        try:
            wav = engine.synthesize(text)
        except Exception as exc:  # noqa: BLE001 - SynthesisError, or a bug in an engine: both are failures
            reason = str(exc) if isinstance(exc, SynthesisError) else f"{exc.__class__.__name__} in {engine.name}"
            self.breaker(engine).failure(reason)
            self.metrics.failures.labels(engine.name).inc()
            logger.warning("%s: %s", engine.name, reason)
            return False, reason
        self.breaker(engine).success()
        self.metrics.synthesis.labels(engine.name).observe(time.perf_counter() - started)
        self.cache.put(cache_key(engine.name, engine.voice, engine.language, text), wav)
        return True, wav

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Wait until the engine calls still running (hedged, answering late) have finished; False after ``timeout_s``."""
        _, pending = wait(list(self._in_flight), timeout=timeout_s)
        return not pending

    def reported(self) -> dict[str, Any]:
        """The reported property ``speech``: engines with their breaker, the last phrase, counters."""
        return {
            "language": self.settings.language,
            "enabled": self.settings.enabled,
            "engines": {e.name: {"voice": e.voice, **self.breaker(e).reported()} for e in self.engines},
            "lastEngine": self.last["engine"], "lastPhrase": self.last["phrase"], "lastSpokenAt": self.last["at"],
            "spoken": self.spoken, "fromCache": self.from_cache, "superseded": self.superseded,
            "repeatsSkipped": self.repeats, "engineFailures": sum(b.total_failures for b in self.breakers.values()),
            "cache": {"diskBytes": self.cache.disk_bytes, "evicted": self.cache.evicted},
        }

    def close(self) -> None:
        """Stop the engines (Piper's process) without waiting for calls still running."""
        for engine in self.engines:
            self._pool.submit(engine.close)
        self._pool.shutdown(wait=False)
