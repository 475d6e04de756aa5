"""Module processes under the local runner: start in startupOrder, prefix their logs, restart, stop.

Like edgeAgent: a module that exits is restarted per its ``restartPolicy`` with a growing delay;
stopping sends SIGTERM (IoT Edge's stop signal) and kills what has not exited after a grace period.
On Linux each module also gets SIGTERM when the runner dies, however it dies (``kill -9`` included),
so no module outlives it re-parented to init.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
MAX_RESTART_DELAY_S = 60.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


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


@dataclass
class ModuleProcess:
    """One module's process and its restart state."""

    name: str
    command: list[str]
    env: dict[str, str]
    restart_policy: str
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    """Runs module processes with their output prefixed by the module name on ``out``.

    Call ``start_all`` and ``watch`` (which restarts modules) from one long-lived thread, the runner's main
    thread: a module gets SIGTERM when the thread that started it ends (see :func:`_terminate_with`).
    """

    def __init__(self, out: TextIO, cwd: Path) -> None:
        self.out = out
        self.cwd = cwd
        self.modules: list[ModuleProcess] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._width = 0

    def add(self, name: str, script: Path, env: Mapping[str, str], restart_policy: str) -> None:
        self.modules.append(ModuleProcess(name, [sys.executable, "-u", str(script)], dict(env), restart_policy))
        self._width = max(self._width, len(name))

    def _start(self, module: ModuleProcess) -> None:
        module.process = subprocess.Popen(
            module.command, env=module.env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=functools.partial(_terminate_with, os.getpid()) if _LIBC is not None else None,
        )
        threading.Thread(target=self._pump, args=(module, module.process), daemon=True).start()

    def _pump(self, module: ModuleProcess, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip()
            with self._lock:
                self.out.write(f"{module.name:<{self._width}} | {line}\n")
                self.out.flush()

    def start_all(self) -> None:
        for module in self.modules:
            self._start(module)

    def watch(self) -> None:
        """Restart modules that exited, per restartPolicy; call periodically."""
        now = time.monotonic()
        for module in self.modules:
            process = module.process
            if self._stopping or process is None or process.poll() is None:
                continue
            code = process.returncode
            if module.next_start == 0.0:
                module.exit_codes.append(code)
                wanted = module.restart_policy == "always" or (module.restart_policy == "on-failure" and code != 0)
                if not wanted:
                    logger.warning("%s exited with code %s; restartPolicy %s: not restarting", module.name, code, module.restart_policy)
                    module.process = None
                    continue
                delay = min(MAX_RESTART_DELAY_S, 2.0 ** module.restarts)
                module.next_start = now + delay
                logger.warning("%s exited with code %s; restarting in %.0f s", module.name, code, delay)
            elif now >= module.next_start:
                module.restarts += 1
                module.next_start = 0.0
                self._start(module)

    def stop_all(self) -> None:
        """SIGTERM every module (reverse start order), kill those still running after the grace period."""
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
