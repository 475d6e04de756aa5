"""Process plumbing every module's ``main.py`` shares: logging, SIGTERM, backoff, hub connection.

IoT Edge stops a module with SIGTERM and kills it after a grace period, and restarts a module
that exits; so modules wait on a stop event, never exit on recoverable errors, and retry with
capped exponential backoff.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping

from edgekit.heap import keep_trimmed
from edgekit.hub import Hub, HubConfigurationError, HubUnavailableError, connect
from edgekit.redact import RedactingFormatter
from edgekit.workers import backoff, install_excepthook  # backoff: also imported from here by the modules

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0  # after SIGTERM a module that has not exited by then exits at once (a stuck shutdown)
SIGNAL_CHECK_S = 0.5  # a wait on the stop event wakes at least this often, s, so that a signal is handled


class StopEvent(threading.Event):
    """A :class:`threading.Event` whose ``wait`` in the main thread wakes every ``SIGNAL_CHECK_S`` s until set
    or timed out (in any other thread it is the plain wait).

    Python runs signal handlers in the main thread only, between bytecodes. The kernel hands a process's
    SIGTERM to any thread not blocking it (another one when the main thread already has a signal pending),
    and a main thread blocked in a plain ``Event.wait()`` is then never woken to run the handler: the module
    would not stop until killed. Waking to check costs nothing measurable (a few per second).
    """

    def wait(self, timeout: float | None = None) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return super().wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SIGNAL_CHECK_S if deadline is None else min(SIGNAL_CHECK_S, deadline - time.monotonic())
            if super().wait(max(0.0, left)):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Configure root logging once, level from ``LOG_LEVEL`` (default INFO), to stderr, credentials masked."""
    env = os.environ if environ is None else environ
    level = env.get("LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level, logging.INFO), handlers=[handler], force=True)
    for noisy in ("azure.iot.device", "azure.core.pipeline.policies.http_logging_policy", "paho", "urllib3", "waitress.queue"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # The SDK warns twice per background reconnection attempt (every 10 s of an outage); the hub logs
    # each connection state change once instead.
    logging.getLogger("azure.iot.device.common.handle_exceptions").setLevel(logging.ERROR)


def stop_event(timeout_s: float = STOP_TIMEOUT_S) -> StopEvent:
    """An event set by SIGTERM or SIGINT (Ctrl-C), whichever thread the kernel hands the signal to (see
    :class:`StopEvent`); call from the main thread. A process that has not exited ``timeout_s`` s after the
    first signal exits then with code 1 (a shutdown stuck on a dead peer must not leave the module running
    when nobody is left to kill it, e.g. after the local runner was killed)."""
    event = StopEvent()

    def on_signal(signum: int, _frame: object) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        if not event.is_set():
            watchdog = threading.Timer(timeout_s, _exit_now, args=(timeout_s,))
            watchdog.daemon = True
            watchdog.start()
        event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return event


def _exit_now(timeout_s: float) -> None:
    logger.error("still running %g s after the stop signal; exiting now", timeout_s)
    for stream in (sys.stderr, sys.stdout):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(1)


def connect_hub(stop: threading.Event, *, required: bool = True) -> Hub | None:
    """Connect to edgeHub (or the local runner), retrying with backoff until ``stop`` is set.

    With ``required=False`` a process outside IoT Edge and the runner gets ``None`` (a module that
    also works standalone, such as the classifier's REST service); otherwise HubUnavailableError.
    A configuration or credential error raises HubConfigurationError at once (retrying cannot help);
    any other failure (edgeHub not started yet) is retried, logged once, then at debug level.
    """
    attempts = 0
    for delay in backoff():
        try:
            return connect()
        except HubConfigurationError:
            raise
        except HubUnavailableError:
            if required:
                raise
            logger.info("no IoT Edge environment: running standalone, without module twin")
            return None
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried
            attempts += 1
            log = logger.warning if attempts == 1 else logger.debug
            log("edgeHub does not answer yet (%s); retrying with backoff until it does", exc)
        if stop.wait(delay):
            return None
    return None


def run_module(body: Callable[[Hub | None, threading.Event], int | None], *, hub_required: bool = True) -> int:
    """The process frame of every module's ``main``: logging, SIGTERM, worker-thread failures
    counted (:func:`edgekit.workers.install_excepthook`), the hub connection, the heap kept trimmed
    (:func:`edgekit.heap.keep_trimmed`), cleanup.

    ``body(hub, stop)`` builds the module's settings and workers and returns when ``stop`` is set;
    its return value (default 0) is the exit code. ``hub`` is None only with ``hub_required=False``
    outside IoT Edge and the runner. The hub is closed after ``body`` returns or raises.
    """
    configure_logging()
    install_excepthook()
    stop = stop_event()
    try:
        hub = connect_hub(stop, required=hub_required)
    except HubUnavailableError as exc:
        logger.error("cannot start: %s", exc)
        return 2
    if hub is None and (hub_required or stop.is_set()):
        return 0
    keep_trimmed(stop)  # what start-up leaves free in the heap goes back to the system
    try:
        return body(hub, stop) or 0
    finally:
        if hub is not None:
            hub.close()
