"""Module processes under the local runner: start in startupOrder, keep their logs, restart, stop.

Like edgeAgent: a module is restarted per its ``restartPolicy`` (``never`` < ``on-failure`` <
``on-unhealthy`` < ``always``: each policy restarts in the cases of the ones before it and more):

- ``on-failure`` restarts a module that exited with a non-zero code;
- ``on-unhealthy`` also restarts a running module whose health check keeps failing (after a grace
  period from its start: :attr:`Supervisor.health_grace_s`);
- ``always`` also restarts a module that exited with code 0;
- ``never`` does not restart.

Restarts follow edgeAgent's crash-loop backoff: the cool-off before a restart doubles from
:data:`COOL_OFF_S` (10 s) up to :data:`MAX_COOL_OFF_S` (5 min), and the restart count is reset once a
module has run for :data:`STABLE_S` (10 min). Stopping sends SIGTERM (IoT Edge's stop signal) and
kills what has not exited after a grace period. On Linux each module also gets SIGTERM when the
runner dies, however it dies (``kill -9`` included), so no module outlives it re-parented to init.

Each module's output is printed prefixed by its name and kept in a bounded ring of timestamped
lines (:class:`LogRing`) for ``python -m localedge logs``.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

logger = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
COOL_OFF_S = 10.0  # edgeAgent's cool-off unit: the first restart waits this long, each next one twice as long
MAX_COOL_OFF_S = 300.0  # ... up to 5 minutes
STABLE_S = 600.0  # a module that has run this long since its start has its restart count reset
HEALTH_GRACE_S = 60.0  # no health verdict in the first minute after a start
HEALTH_INTERVAL_S = 10.0  # a health check every 10 s
UNHEALTHY_CHECKS = 3  # consecutive failed checks before a module is unhealthy
LOG_LINES = 1000  # lines kept per module
LOG_LINE_CHARS = 4096  # a longer line is cut
POLICIES = ("never", "on-failure", "on-unhealthy", "always")
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

Status = Literal["running", "backoff", "stopped", "failed"]
HealthCheck = Callable[[], bool]  # True when the module is healthy; must return within a few seconds


def _terminate_with(parent: int) -> None:
    """Runs in the forked child before exec: SIGTERM this process when the thread that forked it ends.

    The kernel ties the death signal to the forking *thread*, so modules must be started from a thread
    that lives as long as the runner (its main thread). Survives exec; re-checks the parent in case the
    runner died between fork and prctl. Nothing more here: the runner has other threads, whose locks a
    forked child must not wait on.
    """
    assert _LIBC is not None
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


@dataclass(frozen=True)
class LogLine:
    """One line a module printed: ``seq`` counts from 1 per module, ``time`` is epoch seconds."""

    seq: int
    time: float
    text: str


class LogRing:
    """The newest :data:`LOG_LINES` lines of one module, with a condition to follow new ones."""

    def __init__(self, size: int = LOG_LINES) -> None:
        self._lines: deque[LogLine] = deque(maxlen=size)
        self._seq = 0
        self._changed = threading.Condition()

    def append(self, text: str) -> None:
        with self._changed:
            self._seq += 1
            self._lines.append(LogLine(self._seq, time.time(), text[:LOG_LINE_CHARS]))
            self._changed.notify_all()

    def lines(self, after_seq: int = 0, since: float | None = None) -> list[LogLine]:
        """Lines with ``seq > after_seq`` and (when given) ``time >= since`` (epoch s), oldest first."""
        with self._changed:
            return [line for line in self._lines if line.seq > after_seq and (since is None or line.time >= since)]

    def wait(self, after_seq: int, timeout_s: float) -> list[LogLine]:
        """Lines after ``after_seq``, waiting up to ``timeout_s`` for one when there is none yet."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > after_seq, timeout_s)
        return self.lines(after_seq)


@dataclass
class ModuleProcess:
    """One module's process and its restart state (times from time.monotonic unless named otherwise)."""

    name: str
    command: list[str]
    env: dict[str, str]
    restart_policy: str
    version: str = ""
    health: HealthCheck | None = None
    process: subprocess.Popen[bytes] | None = None
    status: Status = "stopped"
    restarts: int = 0  # restarts by policy since the count was last reset (edgeAgent's restartCount)
    started_at: float = 0.0
    next_start: float = 0.0  # when in backoff: the restart time
    exit_codes: list[int] = field(default_factory=list)
    failed_checks: int = 0
    restart_reason: str | None = None  # set when the runner stops the process to restart it
    kill_at: float = 0.0  # SIGKILL then if it has not exited
    log: LogRing = field(default_factory=LogRing)

    def uptime_s(self, now: float | None = None) -> float:
        """Seconds since the last start while running, else 0."""
        if self.status != "running":
            return 0.0
        return (time.monotonic() if now is None else now) - self.started_at


def restart_wanted(policy: str, reason: Literal["exit", "failure", "unhealthy"]) -> bool:
    """edgeAgent's rule: a module that ``reason`` (exited with 0, failed, became unhealthy) is restarted
    under ``policy`` when the policy reaches that case (never < on-failure < on-unhealthy < always)."""
    rank = POLICIES.index(policy) if policy in POLICIES else POLICIES.index("always")
    needed = {"failure": "on-failure", "unhealthy": "on-unhealthy", "exit": "always"}[reason]
    return rank >= POLICIES.index(needed)


def cool_off_s(restarts: int, unit_s: float = COOL_OFF_S, max_s: float = MAX_COOL_OFF_S) -> float:
    """The wait before the next restart of a module restarted ``restarts`` times: unit, 2x, 4x, ... up to max."""
    return float(min(max_s, unit_s * 2.0 ** min(restarts, 30)))


class Supervisor:
    """Runs module processes with their output prefixed by the module name on ``out``.

    Call ``start_all`` and ``watch`` (which restarts modules) from one long-lived thread, the runner's main
    thread: a module gets SIGTERM when the thread that started it ends (see :func:`_terminate_with`).
    ``restart`` and ``stop_all`` may be called from others. The timing constants default to edgeAgent's
    and can be shortened (tests).
    """

    def __init__(self, out: TextIO, cwd: Path, *, cool_off_s: float = COOL_OFF_S, max_cool_off_s: float = MAX_COOL_OFF_S,
                 stable_s: float = STABLE_S, health_grace_s: float = HEALTH_GRACE_S,
                 health_interval_s: float = HEALTH_INTERVAL_S) -> None:
        self.out = out
        self.cwd = cwd
        self.cool_off_s = cool_off_s
        self.max_cool_off_s = max_cool_off_s
        self.stable_s = stable_s
        self.health_grace_s = health_grace_s
        self.health_interval_s = health_interval_s
        self.modules: list[ModuleProcess] = []
        self._lock = threading.RLock()
        self._print_lock = threading.Lock()
        self._stopping = False
        self._width = 0
        self._health_thread: threading.Thread | None = None
        self._health_stop = threading.Event()

    def add(self, name: str, script: Path, env: Mapping[str, str], restart_policy: str, *, version: str = "",
            health: HealthCheck | None = None) -> ModuleProcess:
        """Add a module run as ``python -u script`` (not started yet); ``health`` is checked for on-unhealthy/always."""
        return self.add_command(name, [sys.executable, "-u", str(script)], env, restart_policy, version=version, health=health)

    def add_command(self, name: str, command: list[str], env: Mapping[str, str], restart_policy: str, *,
                    version: str = "", health: HealthCheck | None = None) -> ModuleProcess:
        """Add a module run as ``command``."""
        module = ModuleProcess(name, command, dict(env), restart_policy, version=version, health=health)
        self.modules.append(module)
        self._width = max(self._width, len(name))
        return module

    def get(self, name: str) -> ModuleProcess | None:
        return next((m for m in self.modules if m.name == name), None)

    def _start(self, module: ModuleProcess) -> None:
        module.process = subprocess.Popen(
            module.command, env=module.env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=functools.partial(_terminate_with, os.getpid()) if _LIBC is not None else None,
        )
        module.status = "running"
        module.started_at = time.monotonic()
        module.next_start = 0.0
        module.failed_checks = 0
        module.restart_reason = None
        module.kill_at = 0.0
        threading.Thread(target=self._pump, args=(module, module.process), daemon=True).start()

    def _pump(self, module: ModuleProcess, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip()
            module.log.append(line)
            with self._print_lock:
                self.out.write(f"{module.name:<{self._width}} | {line}\n")
                self.out.flush()

    def start_all(self) -> None:
        with self._lock:
            for module in self.modules:
                self._start(module)
        if any(m.health is not None and restart_wanted(m.restart_policy, "unhealthy") for m in self.modules):
            self._health_thread = threading.Thread(target=self._check_health, name="health", daemon=True)
            self._health_thread.start()

    def _check_health(self) -> None:
        """Every health_interval_s: each running module past its grace period that restarts when unhealthy."""
        while not self._health_stop.wait(self.health_interval_s):
            for module in list(self.modules):
                if (module.health is None or module.status != "running" or module.restart_reason is not None
                        or not restart_wanted(module.restart_policy, "unhealthy")
                        or time.monotonic() - module.started_at < self.health_grace_s):
                    continue
                try:
                    healthy = module.health()
                except Exception:  # noqa: BLE001 - a failing check is an unhealthy verdict, never a crash
                    healthy = False
                module.failed_checks = 0 if healthy else module.failed_checks + 1
                if module.failed_checks >= UNHEALTHY_CHECKS:
                    logger.warning("%s is unhealthy (%d failed health checks); restartPolicy %s: restarting it",
                                   module.name, module.failed_checks, module.restart_policy)
                    self._stop_for_restart(module, "unhealthy")

    def _stop_for_restart(self, module: ModuleProcess, reason: str) -> None:
        with self._lock:
            process = module.process
            if self._stopping or process is None or process.poll() is not None or module.restart_reason is not None:
                return
            module.restart_reason = reason
            module.kill_at = time.monotonic() + STOP_GRACE_S
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def restart(self, name: str) -> str:
        """Restart module ``name`` now, as ``iotedge restart`` does (a stopped or backing-off one is started
        at once); returns what was done. Raises KeyError for an unknown module."""
        module = self.get(name)
        if module is None:
            raise KeyError(name)
        with self._lock:
            if module.status == "running":
                self._stop_for_restart(module, "restart")
                return "stopping and starting again"
            module.restart_reason = "restart"
            module.status = "backoff"
            module.next_start = time.monotonic()
            return "starting"

    def watch(self) -> None:
        """Restart modules that exited or were found unhealthy, per restartPolicy; call periodically
        from the thread that called :meth:`start_all`."""
        now = time.monotonic()
        with self._lock:
            for module in self.modules:
                if self._stopping:
                    return
                process = module.process
                if module.status == "running" and process is not None:
                    code = process.poll()
                    if code is None:
                        if module.restarts and now - module.started_at >= self.stable_s:
                            logger.info("%s has run stably for %.0f s: restart count reset", module.name, self.stable_s)
                            module.restarts = 0
                        if module.kill_at and now >= module.kill_at:
                            logger.warning("%s did not stop within %.0f s; killing it", module.name, STOP_GRACE_S)
                            try:
                                os.killpg(process.pid, signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                            module.kill_at = 0.0
                        continue
                    self._exited(module, code, now)
                elif module.status == "backoff" and now >= module.next_start:
                    if module.restart_reason != "restart":
                        module.restarts += 1
                    self._start(module)

    def _exited(self, module: ModuleProcess, code: int, now: float) -> None:
        module.exit_codes.append(code)
        if now - module.started_at >= self.stable_s:
            module.restarts = 0  # it had run stably before it stopped
        reason = module.restart_reason
        if reason == "restart":
            logger.info("%s stopped (code %s); starting it again", module.name, code)
            module.status, module.next_start = "backoff", now
            return
        case: Literal["exit", "failure", "unhealthy"] = "unhealthy" if reason == "unhealthy" else ("exit" if code == 0 else "failure")
        if not restart_wanted(module.restart_policy, case):
            logger.warning("%s exited with code %s; restartPolicy %s: not restarting", module.name, code, module.restart_policy)
            module.status = "stopped" if code == 0 else "failed"
            module.restart_reason = None
            return
        delay = cool_off_s(module.restarts, self.cool_off_s, self.max_cool_off_s)
        module.status, module.next_start, module.restart_reason = "backoff", now + delay, None
        logger.warning("%s exited with code %s; restarting in %g s", module.name, code, round(delay, 2))

    def stop_all(self) -> None:
        """SIGTERM every module (reverse start order), kill those still running after the grace period."""
        self._health_stop.set()
        with self._lock:
            self._stopping = True
            running = [m for m in reversed(self.modules) if m.process is not None and m.process.poll() is None]
            for module in running:
                assert module.process is not None
                try:
                    os.killpg(module.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_S
        for module in running:
            assert module.process is not None
            try:
                module.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %.0f s; killing it", module.name, STOP_GRACE_S)
                os.killpg(module.process.pid, signal.SIGKILL)
                module.process.wait()
        for module in self.modules:
            module.status = "stopped" if module.status != "failed" else "failed"
