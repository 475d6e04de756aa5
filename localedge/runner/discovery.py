"""Finding the running local runners: each ``python -m localedge run`` keeps a state file,
``.localedge/runner-<pid>.json`` (mode 0600, in a 0700 folder at the project root; ``LOCALEDGE_STATE_DIR``
moves it), naming its control socket (``control``, see :mod:`localedge.runner.control`) and each module's
metrics URL as the module reports it (reported property ``metrics``: ``port``, ``path``). The file is
removed when the runner stops; a file left by a runner that was killed is ignored and removed by the
next reader. The commands that talk to a runner (:mod:`localedge.runner.commands`), ``metrics`` and
``captures`` find it here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localedge import ROOT

logger = logging.getLogger("localedge")

STATE_DIR_ENV = "LOCALEDGE_STATE_DIR"


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where runners keep their state files: ``$LOCALEDGE_STATE_DIR``, else ``<project>/.localedge``."""
    env = os.environ if environ is None else environ
    return Path(env.get(STATE_DIR_ENV) or ROOT / ".localedge")


def private_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """:func:`state_dir`, made if missing and private: mode 0700 (an existing folder open to others is closed, with
    a warning). Raises PermissionError naming the folder when another user owns it (its keys could not be kept private)."""
    folder = state_dir(environ)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.stat()
    if status.st_uid != os.geteuid():
        raise PermissionError(f"the state folder {folder} belongs to another user (uid {status.st_uid}); "
                              f"use one of your own ({STATE_DIR_ENV}=...)")
    if status.st_mode & 0o077:
        logger.warning("the state folder %s was open to others (mode %o); made private (0700)", folder,
                       status.st_mode & 0o777)
        folder.chmod(0o700)
    return folder


def alive(pid: int) -> bool:
    """True while runner ``pid`` runs (on Linux: and is still a localedge process, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        return b"localedge" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc here: the pid is taken as the runner's


class RunnerState:
    """The running runner's state file: module -> metrics URL (or why there is none), kept up to date
    from the modules' reported properties (:meth:`refresh`), removed by :meth:`remove`."""

    def __init__(self, modules: list[str], folder: Path | None = None, extra: Mapping[str, Any] | None = None,
                 hosts: Mapping[str, str] | None = None) -> None:
        self.path = (folder or state_dir()) / f"runner-{os.getpid()}.json"
        self._hosts = dict(hosts or {})  # module -> the address its metrics are reached at (containers); else loopback
        self._modules = modules
        self._extra = dict(extra or {})  # more for the commands, e.g. ``control``: the control socket's path
        self._written: dict[str, Any] | None = None

    def refresh(self, reported: Mapping[str, Mapping[str, Any]]) -> None:
        """Rewrite the file when a module's reported ``metrics`` changed (``reported``: module -> reported
        properties, as the runner's bus holds them)."""
        modules: dict[str, dict[str, str]] = {}
        for name in self._modules:
            try:
                metrics = dict(reported.get(name, {}).get("metrics") or {})
            except RuntimeError:  # changed while read (the bus thread merged a report): read next time
                return
            modules[name] = endpoint(metrics, self._hosts.get(name, "127.0.0.1"))
        state = {"pid": os.getpid(), "modules": modules, **self._extra}
        if state != self._written:
            self._write(state)
            self._written = state

    def _write(self, state: dict[str, Any]) -> None:
        if self._written is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            running_states(self.path.parent)  # clears the files of runners that were killed
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(state, file, indent=1)
        os.replace(temporary, self.path)

    def remove(self) -> None:
        """Remove the file (the runner is stopping)."""
        for path in (self.path, self.path.with_suffix(".tmp")):
            path.unlink(missing_ok=True)


def endpoint(metrics: Mapping[str, Any], host: str = "127.0.0.1") -> dict[str, str]:
    """A module's reported ``metrics`` -> ``{"url"}`` on ``host`` (loopback, or its container's address), or
    ``{"why"}`` there is none."""
    if not metrics:
        return {"why": "has not reported its metrics endpoint (yet)"}
    if metrics.get("error"):
        return {"why": f"serves no metrics: {metrics['error']}"}
    port = metrics.get("port")
    if not isinstance(port, int) or port <= 0:
        return {"why": "metrics turned off (METRICS_PORT=0)"}
    return {"url": f"http://{host}:{port}{metrics.get('path') or '/metrics'}"}


def running_states(folder: Path) -> list[dict[str, Any]]:
    """The state of each runner still running, oldest pid first; files of dead runners are removed."""
    states = []
    for path in sorted(folder.glob("runner-*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            pid = int(state["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if alive(pid):
            states.append(state)
        else:
            path.unlink(missing_ok=True)
            path.with_suffix(".sock").unlink(missing_ok=True)  # its control socket (localedge.runner.control)
    return sorted(states, key=lambda s: int(s["pid"]))
