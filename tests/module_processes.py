"""The solution's module processes on a runner bus, for tests that drive them directly (no runner):
each module's real main.py, connected to a :class:`localedge.runner.bus.Bus`, its log in ``<tmp>/<Module>.log``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from conftest import ROOT
from localedge.runner.bus import Bus


def start_modules(bus: Bus, envs: Mapping[str, Mapping[str, str]], tmp: Path) -> dict[str, subprocess.Popen[bytes]]:
    """Start each module of ``envs`` (module -> its env over this process's, IoT Edge and runner variables
    removed; METRICS_PORT 0, as four processes would all want 9600); returns module -> process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALEDGE_", "IOTEDGE_"))}
    base["METRICS_PORT"] = "0"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for module, env in envs.items():
        with (tmp / f"{module}.log").open("wb") as log:
            processes[module] = subprocess.Popen(
                [sys.executable, "-u", str(ROOT / "modules" / module / "main.py")], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, env={**base, **env, **bus.environment(module), "PYTHONPATH": str(ROOT)})
    return processes


def stop_modules(processes: Mapping[str, subprocess.Popen[bytes]], bus: Bus) -> None:
    """SIGTERM every process, SIGKILL those still running after 15 s; then close the bus."""
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    bus.close()
