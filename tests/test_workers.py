"""edgekit.workers: a worker that raises is logged, counted, reported and restarted; the process goes on."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from conftest import ROOT, wait_for
from edgekit.inbox import Inbox
from edgekit.workers import add_error_listener, count_error, install_excepthook, supervised_thread, worker_errors


@pytest.fixture()
def heard() -> Iterator[list[dict[str, int]]]:
    """Every worker-error report made while the test runs."""
    reports: list[dict[str, int]] = []
    remove = add_error_listener(reports.append)
    yield reports
    remove()


def test_a_failing_worker_is_restarted_until_it_succeeds(heard: list[dict[str, int]],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    before = worker_errors().get("test-flaky", 0)
    runs: list[int] = []

    def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OSError(36, "File name too long")

    stop = threading.Event()
    thread = supervised_thread(flaky, "test-flaky", stop)
    thread.join(10)
    assert not thread.is_alive() and runs == [0, 1]  # failed once, ran again, then returned: done
    assert worker_errors()["test-flaky"] == before + 1
    assert heard[-1]["test-flaky"] == before + 1  # reported at once
    assert "worker test-flaky failed; restarting it in" in caplog.text and "File name too long" in caplog.text


def test_stop_ends_the_backoff_of_a_worker_that_always_fails() -> None:
    def broken() -> None:
        raise ValueError("always")

    stop = threading.Event()
    thread = supervised_thread(broken, "test-broken", stop)
    wait_for(lambda: worker_errors().get("test-broken", 0) >= 1)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_an_inbox_counts_a_bad_item_and_goes_on(heard: list[dict[str, int]]) -> None:
    handled: list[int] = []

    def consume(item: int) -> None:
        if item == 2:
            raise KeyError(item)
        handled.append(item)

    before = worker_errors().get("test-inbox", 0)
    inbox: Inbox[int] = Inbox(consume, capacity=8, name="test-inbox")
    for item in (1, 2, 3):
        inbox.put(item)
    assert inbox.wait_idle(10)
    inbox.close()
    assert handled == [1, 3] and worker_errors()["test-inbox"] == before + 1 and heard


def test_excepthook_logs_and_counts_a_thread_that_dies(heard: list[dict[str, int]],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    previous = threading.excepthook
    install_excepthook()
    try:
        thread = threading.Thread(target=lambda: 1 / 0, name="test-dies")
        thread.start()
        thread.join(10)
    finally:
        threading.excepthook = previous
    assert worker_errors()["test-dies"] >= 1 and heard[-1]["test-dies"] >= 1
    assert "thread test-dies died of an unexpected exception" in caplog.text and "ZeroDivisionError" in caplog.text


def test_a_failing_listener_does_not_fail_the_worker() -> None:
    def bad_listener(_counts: dict[str, int]) -> None:
        raise RuntimeError("report failed")

    remove = add_error_listener(bad_listener)
    try:
        count_error("test-listener")
    finally:
        remove()
    assert worker_errors()["test-listener"] >= 1



TRIMMED = """
import ctypes, ctypes.util, os, sys, threading, time
from edgekit.heap import keep_trimmed

def resident_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
assert libc.mallopt(-3, 32 * 2**20) == 1  # M_MMAP_THRESHOLD: 1 MB blocks from the heap, as a module's buffers
assert libc.mallopt(-1, 512 * 2**20) == 1  # M_TRIM_THRESHOLD: free() alone gives nothing back
blocks = [libc.malloc(2**20) for _ in range(64)]
for block in blocks:
    ctypes.memset(block, 1, 2**20)
keep = libc.malloc(16)  # above them: the heap's top cannot shrink past it
for block in blocks:
    libc.free(block)
held = resident_mb()
stop = threading.Event()
thread = keep_trimmed(stop, first_s=0.0, every_s=0.05)
deadline = time.monotonic() + 10
while resident_mb() > held - 32 and time.monotonic() < deadline:
    time.sleep(0.01)
after = resident_mb()
stop.set()
thread.join(5)
print(round(held - after), thread.is_alive())
"""


def test_the_heap_trimmer_gives_back_what_freed_buffers_held_and_ends_with_the_module() -> None:
    done = subprocess.run([sys.executable, "-c", TRIMMED], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    given_back_mb, alive = done.stdout.split()
    assert int(given_back_mb) >= 32 and alive == "False"  # most of the 64 MB freed is back with the system
