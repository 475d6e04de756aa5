"""Worker threads that survive their own bugs: an unexpected exception is logged, counted, reported, retried.

A module runs for months; a value that passes validation but trips a worker (a file name the
filesystem refuses, a stream URL a library chokes on) must not take the module down or leave it
silently without that worker. :func:`supervised_thread` runs a worker and restarts it with
backoff after an exception; an :class:`edgekit.inbox.Inbox` counts a failed item the same way;
:func:`install_excepthook` catches what dies in any other thread. Every such failure is counted
per thread name (:func:`worker_errors`, reported by each module as ``workerErrors``), and error
listeners (:func:`add_error_listener`) hear of each one, so the count is reported at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

logger = logging.getLogger(__name__)

MAX_NAMES = 32  # distinct thread names counted; past it failures are counted under "other"
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 60.0

_lock = threading.Lock()
_errors: dict[str, int] = {}
_listeners: list[Callable[[dict[str, int]], None]] = []



def backoff(initial_s: float = 0.5, maximum_s: float = 30.0, factor: float = 2.0) -> Iterator[float]:
    """Endless capped exponential delays in seconds, with +-20 % jitter so retries do not align."""
    delay = initial_s
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(maximum_s, delay * factor)


def worker_errors() -> dict[str, int]:
    """Unexpected exceptions so far in this process, per thread name (a copy; empty when none)."""
    with _lock:
        return dict(_errors)


def add_error_listener(listener: Callable[[dict[str, int]], None]) -> Callable[[], None]:
    """Call ``listener(worker_errors())`` after each counted failure, on the failing thread.

    Returns a function that removes the listener. A listener's own exception is logged, never raised.
    """
    with _lock:
        _listeners.append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def count_error(name: str) -> None:
    """Count one unexpected exception in the thread or worker called ``name``, and tell the listeners."""
    with _lock:
        key = name if name in _errors or len(_errors) < MAX_NAMES else "other"
        _errors[key] = _errors.get(key, 0) + 1
        counts, listeners = dict(_errors), list(_listeners)
    for listener in listeners:
        try:
            listener(counts)
        except Exception:  # noqa: BLE001 - reporting a failure must not fail the worker again
            logger.exception("reporting worker errors failed")


def run_supervised(target: Callable[[], None], name: str, stop: threading.Event) -> None:
    """Run ``target`` on this thread until it returns or ``stop`` is set, restarting it after exceptions.

    Each exception is logged with its traceback and counted under ``name``; the restart waits
    1 s, then twice as long each time up to 60 s (back to 1 s after a run that lasted longer).
    """
    delays = backoff(FIRST_RETRY_S, MAX_RETRY_S)
    while not stop.is_set():
        started = time.monotonic()
        try:
            target()
            return
        except Exception:  # noqa: BLE001 - the point of this function
            if time.monotonic() - started > MAX_RETRY_S:  # it had run well for a while: start over at 1 s
                delays = backoff(FIRST_RETRY_S, MAX_RETRY_S)
            delay = next(delays)
            logger.exception("worker %s failed; restarting it in %.1f s", name, delay)
            count_error(name)
        if stop.wait(delay):
            return


def supervised_thread(target: Callable[[], None], name: str, stop: threading.Event) -> threading.Thread:
    """A started daemon thread running :func:`run_supervised` (``target`` restarted after exceptions until ``stop``)."""
    thread = threading.Thread(target=run_supervised, args=(target, name, stop), name=name, daemon=True)
    thread.start()
    return thread


def install_excepthook() -> None:
    """Log (with traceback) and count an exception that ends any thread not run by this module's helpers."""

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "unknown"
        info: tuple[type[BaseException], BaseException, TracebackType | None] | None = (
            (args.exc_type, args.exc_value, args.exc_traceback) if args.exc_value is not None else None)
        logger.error("thread %s died of an unexpected exception", name, exc_info=info)
        count_error(name)

    threading.excepthook = hook
