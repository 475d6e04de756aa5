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
