"""A module whose shutdown is stuck still ends after SIGTERM (edgekit.runtime.stop_event's watchdog)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from conftest import ROOT, wait_for

STUCK = """
import sys, threading, time
from edgekit.runtime import configure_logging, stop_event
configure_logging()
stop = stop_event(timeout_s=1.0)
print("ready", flush=True)
stop.wait()
threading.Event().wait()  # a shutdown that never finishes (a join on a thread stuck on a dead broker)
"""


def test_a_stuck_shutdown_exits_after_the_stop_timeout() -> None:
    process = subprocess.Popen([sys.executable, "-c", STUCK], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    wait_for(lambda: process.poll() is not None, 30)
    assert process.returncode == 1
    assert "still running 1 s after the stop signal; exiting now" in process.stderr.read()


SIGNAL_TO_A_WORKER = """
import signal, sys, threading
from edgekit.runtime import configure_logging, stop_event
configure_logging()
stop = stop_event()
started = threading.Event()

def worker():  # a worker thread (the SDK's, an inbox's), which the kernel may pick to take a process's SIGTERM
    started.set()
    threading.Event().wait()

def deliver():  # SIGTERM to that thread only, as the kernel does when the main thread has a signal pending
    sys.stdin.readline()
    signal.pthread_kill(workers.ident, signal.SIGTERM)

workers = threading.Thread(target=worker, daemon=True)
workers.start()
started.wait()
threading.Thread(target=deliver, daemon=True).start()
print("ready", flush=True)
stop.wait()  # as a module's main thread waits (ImageClassifierService, SenseHatDisplay)
print("stopped", flush=True)
"""


def test_a_sigterm_taken_by_a_worker_thread_still_stops_the_main_thread() -> None:
    """Python runs signal handlers in the main thread only, and a signal the kernel hands to another thread
    does not wake a main thread blocked in ``Event.wait()``: the module must stop all the same (it once
    hung until killed, seen as SenseHatDisplay not exiting on SIGTERM)."""
    process = subprocess.Popen([sys.executable, "-c", SIGNAL_TO_A_WORKER], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().strip() == "ready"
        process.stdin.write("term\n")
        process.stdin.flush()
        wait_for(lambda: process.poll() is not None, 30)
    finally:
        process.kill()
    assert process.returncode == 0
    assert process.stdout.read().strip() == "stopped"
    assert "received SIGTERM, stopping" in process.stderr.read()
