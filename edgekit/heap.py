"""Keeping a module's resident memory flat (glibc only; elsewhere each function does nothing and says so).

Every module: :func:`keep_trimmed` returns the heap's free pages to the system (glibc's ``malloc_trim``,
~1 ms) some seconds after start, when the imports and start-up have left some MB free in the heap,
and then every minute; ``run_module`` starts it. 1-4 MB a module (benchmarks/scene_to_voice.py).

The classifier, where each request allocates a few buffers of 0.1-1 MB (the upload, the decoded image,
the tensor), also calls :func:`limit_heap_growth`. By default glibc gives each worker thread its own
malloc arena, so every thread that has served a request keeps its own set of such buffers resident,
and its dynamic mmap threshold starts by mapping and unmapping them (a page fault per 4 KB, every
request). One arena lets the threads reuse the same freed buffers; a fixed 32 MiB mmap threshold keeps
them in that heap from the first request. benchmarks/classifier_service.py measured on 2 cores: ~21
instead of ~23 ms per request, and 105 / 120 MB resident after one / two concurrent clients instead of
102 / 134 MB. A large photo's buffers (a 1920x1080 image decoded is 8 MB in Pillow, its upload up to
4 MB) stay in that heap after the request; the classifier calls :func:`give_back` after one, so that
200 large photos leave the service at its warm size.
"""

from __future__ import annotations

import ctypes
import logging
import threading

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES  # what glibc's dynamic threshold would use
ARENAS = 1
TRIM_FIRST_S = 10.0  # keep_trimmed's first trim after start, s
TRIM_EVERY_S = 60.0  # and then every, s


# glibc's heap functions, from the symbols already in this process (no library search, no subprocess at
# start-up); None where the C library has no such function (not glibc)
_PROCESS = ctypes.CDLL(None)
_MALLOPT = getattr(_PROCESS, "mallopt", None)
_MALLOC_TRIM = getattr(_PROCESS, "malloc_trim", None)


def limit_heap_growth() -> bool:
    """Apply the settings above; call before starting threads. Returns False where not glibc."""
    if _MALLOPT is None:
        return False
    done = all(_MALLOPT(option, value) == 1 for option, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES), (M_ARENA_MAX, ARENAS)))
    logger.debug("glibc heap limits %s", "applied" if done else "not applied")
    return done


def give_back() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``: the top of the heap and
    whole free pages inside it). Returns False where not glibc."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def keep_trimmed(stop: threading.Event, first_s: float = TRIM_FIRST_S, every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """A daemon thread that calls :func:`give_back` ``first_s`` s from now and then every ``every_s`` s until
    ``stop`` is set; None (no thread) where not glibc."""
    if _MALLOC_TRIM is None:
        return None

    def trim() -> None:
        delay = first_s
        while not stop.wait(delay):
            give_back()
            delay = every_s

    thread = threading.Thread(target=trim, name="heap-trim", daemon=True)
    thread.start()
    return thread
