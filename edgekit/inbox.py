"""Hands messages from the transport's threads to one worker thread (style rule: never block a handler).

A bounded queue: when full, the oldest waiting message is dropped and counted, so a slow
consumer (speech, a display) always works on recent messages and memory stays bounded.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from edgekit.workers import count_error

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Inbox(Generic[T]):
    """``put`` from any thread; ``consume`` runs on the inbox's worker, one item at a time, in order."""

    def __init__(self, consume: Callable[[T], object], capacity: int, name: str,
                 coalesce: Callable[[T, T], T] | None = None) -> None:
        """capacity: items kept waiting (oldest dropped past it); coalesce(waiting, new): when given,
        a new item is merged into the newest waiting one instead of queued behind it (newest wins)."""
        self._consume = consume
        self._coalesce = coalesce
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = False
        self.dropped = 0
        self.consumed = 0
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    def put(self, item: T) -> None:
        with self._cond:
            if self._coalesce is not None and self._items:
                self._items[-1] = self._coalesce(self._items[-1], item)
                self._cond.notify()
                return
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stopped:
                    self._cond.wait()
                if self._stopped and not self._items:
                    return
                item = self._items.popleft()
                self._busy = True
            try:
                self._consume(item)
            except Exception:  # noqa: BLE001 - one bad item must not stop the module
                logger.exception("failed to handle a message")
                count_error(self._worker.name)
            with self._cond:
                self.consumed += 1
                self._busy = False
                self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is queued or being consumed; False after ``timeout_s``."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        """Finish what is queued (up to ``timeout_s``), then stop the worker."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._worker.join(timeout_s)
