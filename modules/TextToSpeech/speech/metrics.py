"""TextToSpeech's Prometheus metrics (labelled ``engine``: ``azure``, ``azure-rest``, ``piper``, ``espeak-ng``).

- ``texttospeech_phrases_spoken_total{engine}``: phrases emitted (played or written), by the engine that
  made them (a cached phrase counts under the engine that made it);
- ``texttospeech_phrases_unspoken_total``: phrases no engine could make (only logged);
- ``texttospeech_cache_hits_total{cache}``: phrases taken from the cache instead of synthesised,
  ``cache`` = ``memory`` or ``file`` (``CACHE_DIR``);
- ``texttospeech_engine_failures_total{engine}``: synthesis failures (the next engine is tried);
- ``texttospeech_synthesis_seconds{engine}``: time of each successful synthesis, s (cache hits excluded);
- ``texttospeech_phrases_superseded_total``: phrases dropped because a newer message arrived first;
- ``texttospeech_repeats_skipped_total``: tags not spoken again within ``minRepeatS``;
- ``texttospeech_engine_process_resident_bytes``: resident memory of the engines' own processes (Piper's,
  its voice loaded; 0 while stopped after ``PIPER_IDLE_S``), bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "texttospeech"
SYNTHESIS_BUCKETS_S = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class SpeechMetrics:
    """The metrics above, in ``registry`` (None: kept, not registered anywhere)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.spoken = Counter(f"{PREFIX}_phrases_spoken", "Phrases spoken, by engine", ["engine"], registry=registry)
        self.unspoken = Counter(f"{PREFIX}_phrases_unspoken", "Phrases no engine could synthesise", registry=registry)
        self.cache_hits = Counter(f"{PREFIX}_cache_hits", "Phrases taken from the cache, by cache", ["cache"],
                                  registry=registry)
        self.failures = Counter(f"{PREFIX}_engine_failures", "Synthesis failures, by engine", ["engine"],
                                registry=registry)
        self.synthesis = Histogram(f"{PREFIX}_synthesis_seconds", "Synthesis time of a phrase, by engine, s",
                                   ["engine"], buckets=SYNTHESIS_BUCKETS_S, registry=registry)
        self.superseded = Counter(f"{PREFIX}_phrases_superseded", "Phrases dropped for a newer message",
                                  registry=registry)
        self.repeats = Counter(f"{PREFIX}_repeats_skipped", "Tags not spoken again within minRepeatS",
                               registry=registry)
        self.process_memory = Gauge(f"{PREFIX}_engine_process_resident_bytes",
                                    "Resident memory of the engines' own processes (Piper's), bytes", registry=registry)

    def watch_processes(self, resident_bytes: Callable[[], int]) -> None:
        """Read ``texttospeech_engine_process_resident_bytes`` from ``resident_bytes`` at each scrape."""
        self.process_memory.set_function(resident_bytes)

    def show_engines(self, names: list[str]) -> None:
        """Make each engine's series exist at 0 before its first phrase (a scrape sees every engine)."""
        for name in names:
            self.spoken.labels(name)
            self.failures.labels(name)
            self.synthesis.labels(name)
