"""A circuit breaker per engine: an engine that keeps failing is skipped for a cool-down, then probed once.

closed (used) --FAILURES_TO_OPEN failures in a row--> open (skipped) --cool-down--> half-open (one call
allowed, the probe) --success--> closed, --failure--> open again. One call per engine is in flight at a
time (``busy``): a hung engine holds one thread until its timeout, never more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

FAILURES_TO_OPEN = 2
COOL_DOWN_S = 30.0


class Breaker:
    def __init__(self, failures_to_open: int = FAILURES_TO_OPEN, cool_down_s: float = COOL_DOWN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open = failures_to_open
        self.cool_down_s = cool_down_s
        self._clock = clock
        self._lock = threading.Lock()
        self.state = "closed"
        self.failures = 0  # in a row
        self.total_failures = 0
        self.busy = False
        self._opened_at = 0.0
        self.last_error = ""

    def acquire(self) -> bool:
        """True when a call may start now (then :meth:`success` or :meth:`failure` must follow)."""
        with self._lock:
            if self.busy:
                return False
            if self.state == "open":
                if self._clock() - self._opened_at < self.cool_down_s:
                    return False
                self.state = "half-open"
            self.busy = True
            return True

    def available(self) -> bool:
        """True when :meth:`acquire` would succeed (without taking the slot)."""
        with self._lock:
            return not self.busy and (self.state != "open" or self._clock() - self._opened_at >= self.cool_down_s)

    def success(self) -> None:
        with self._lock:
            self.busy = False
            self.state = "closed"
            self.failures = 0

    def failure(self, reason: str) -> None:
        with self._lock:
            self.busy = False
            self.failures += 1
            self.total_failures += 1
            self.last_error = reason[:200]
            if self.state == "half-open" or self.failures >= self.failures_to_open:
                self.state = "open"
                self._opened_at = self._clock()

    def reported(self) -> dict[str, Any]:
        with self._lock:
            return {"state": self.state, "failures": self.total_failures, "lastError": self.last_error}
