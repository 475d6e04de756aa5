"""The running runner's control endpoint, used by ``python -m localedge list|logs|restart|twin|monitor|invoke|upstream``.

A Unix socket, ``runner-<pid>.sock`` in the runner's state folder (:func:`localedge.runner.discovery.state_dir`,
mode 0700; the socket itself 0600): only the user who started the runner can connect, and nothing is
reachable from another host. The runner's state file (``runner-<pid>.json``) names it under ``control``.

Protocol: JSON lines. The client sends one :class:`Request` line (at most :data:`MAX_REQUEST_BYTES`,
within :data:`REQUEST_TIMEOUT_S`); the runner answers with :class:`Reply` lines: one ``result`` or
``error`` line, or, for ``logs`` with ``follow`` and for ``monitor``, a stream of ``line`` / ``message``
lines until the client closes the connection. At most :data:`MAX_CONNECTIONS` connections are served
at once (more get an ``error`` reply); a client that stops reading is dropped after
:data:`SEND_TIMEOUT_S`, so no client can stall the runner.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgekit.redact import redact_url
from localedge.runner.supervisor import LOG_LINES, LogLine

if TYPE_CHECKING:
    from localedge.runner.bus import Bus
    from localedge.runner.supervisor import Supervisor

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
MAX_CONNECTIONS = 16
REQUEST_TIMEOUT_S = 5.0  # to send the whole request line
SEND_TIMEOUT_S = 5.0  # a reply line not taken by the client within this long drops the connection
TWIN_SET_WAIT_S = 10.0  # how long `twin set` waits for the module's desiredStatus (and a model update's outcome)
MODEL_KEYS = frozenset({"modelUrl", "modelSha256"})  # desired properties whose outcome is reported later, as modelUpdate
MAX_SOCKET_PATH = 107  # sun_path, less its terminating NUL

Command = Literal["list", "logs", "restart", "twin_get", "twin_set", "monitor", "invoke", "upstream"]


class Request(BaseModel):
    """One request to the runner. ``module`` names a module of the running solution.

    - ``list``: modules and counters. ``logs``: ``module``, ``tail`` (last N lines), ``since_s`` (lines of
      the last N seconds), ``follow``. ``restart``: ``module``. ``twin_get``: ``module``. ``twin_set``:
      ``module``, ``patch`` (a desired-properties patch), ``wait_s``. ``monitor``. ``invoke``: ``module``,
      ``method``, ``payload`` (JSON), ``timeout_s``. ``upstream``: ``online``.
    """

    model_config = ConfigDict(extra="forbid")

    command: Command
    module: str | None = Field(None, min_length=1, max_length=128)
    tail: int | None = Field(None, ge=0, le=LOG_LINES)
    since_s: float | None = Field(None, ge=0)
    follow: bool = False
    patch: dict[str, Any] | None = None
    wait_s: float = Field(TWIN_SET_WAIT_S, ge=0, le=900)
    method: str | None = Field(None, min_length=1, max_length=128)
    payload: Any = None
    timeout_s: float = Field(30.0, gt=0, le=300)
    online: bool | None = None


class Reply(BaseModel):
    """One answer line: ``result`` (the request's result), ``error`` (why it failed), or in a stream
    ``line`` (a module's log line: ``{"time": epoch s, "text"}``) or ``message`` (an ``$upstream``
    message: module, output, properties, body)."""

    kind: Literal["result", "error", "line", "message"]
    result: Any = None
    error: str | None = None


class ModuleInfo(BaseModel):
    """A module as ``list`` shows it (``uptime_s``: since its last start, 0 when not running)."""

    name: str
    status: str
    uptime_s: float
    restarts: int
    version: str
    restart_policy: str
    exit_code: int | None
    restart_in_s: float | None
    connected: bool


class RequestError(ValueError):
    """A request the runner cannot serve; the message says why."""


def socket_path(folder: Path, pid: int) -> Path:
    """The control socket of runner ``pid`` in state folder ``folder``."""
    return folder / f"runner-{pid}.sock"


class ControlServer:
    """Serves :class:`Request` s on a Unix socket at ``path`` from the runner's ``bus`` and ``supervisor``."""

    def __init__(self, path: Path, bus: Bus, supervisor: Supervisor) -> None:
        if len(str(path).encode()) > MAX_SOCKET_PATH:
            raise OSError(f"the control socket path {path} is longer than {MAX_SOCKET_PATH} bytes: "
                          "set LOCALEDGE_STATE_DIR to a shorter folder")
        self.path = path
        self.bus = bus
        self.supervisor = supervisor
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closed = threading.Event()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        path.chmod(0o600)
        self._sock.listen(MAX_CONNECTIONS)

    def start(self) -> None:
        threading.Thread(target=self._accept_loop, name="control-accept", daemon=True).start()

    def close(self) -> None:
        """Stop serving and remove the socket; streams end within a second."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self.path.unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.1)
                continue
            conn.settimeout(SEND_TIMEOUT_S)
            if not self._slots.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    _send(conn, Reply(kind="error", error=f"the runner is serving {MAX_CONNECTIONS} commands already; try again"))
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), name="control-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = _read_request(conn)
            for reply in self._answer(request, conn):
                _send(conn, reply)
        except RequestError as exc:
            with contextlib.suppress(OSError):
                _send(conn, Reply(kind="error", error=str(exc)))
        except OSError:
            pass  # the client went away or stopped reading
        except Exception:  # noqa: BLE001 - a request must never take the runner down
            logger.exception("the control endpoint failed to answer a request")
            with contextlib.suppress(OSError):
                _send(conn, Reply(kind="error", error="the runner failed to answer (see its log)"))
        finally:
            conn.close()
            self._slots.release()

    def _module(self, request: Request) -> str:
        names = [m.name for m in self.supervisor.modules]
        if request.module is None:
            raise RequestError("name a module")
        if request.module not in names:
            raise RequestError(f"no module {request.module!r} runs here (modules: {', '.join(names)})")
        return request.module

    def _answer(self, request: Request, conn: socket.socket) -> Iterator[Reply]:
        if request.command == "list":
            yield Reply(kind="result", result={"modules": [m.model_dump() for m in self.modules()],
                                                "counters": self.bus.counters()._asdict()})
        elif request.command == "logs":
            yield from self._logs(self._module(request), request, conn)
        elif request.command == "restart":
            name = self._module(request)
            yield Reply(kind="result", result={"module": name, "action": self.supervisor.restart(name)})
        elif request.command == "twin_get":
            desired, reported = self.bus.twin(self._module(request))
            yield Reply(kind="result", result={"desired": desired, "reported": reported})
        elif request.command == "twin_set":
            yield from self._twin_set(self._module(request), request)
        elif request.command == "monitor":
            yield from self._monitor(conn)
        elif request.command == "invoke":
            if request.method is None:
                raise RequestError("name the direct method to invoke")
            module = self._module(request)  # one that runs here, or the list of those that do
            status, payload = self.bus.invoke(module, request.method, request.payload, request.timeout_s)
            yield Reply(kind="result", result={"status": status, "payload": payload})
        elif request.command == "upstream":
            if request.online is None:
                raise RequestError("say online or offline")
            delivered = self.bus.set_upstream_online(request.online)
            yield Reply(kind="result", result={"online": request.online, "delivered": delivered,
                                                "counters": self.bus.counters()._asdict()})

    def modules(self) -> list[ModuleInfo]:
        """Each module's state now."""
        now = time.monotonic()
        infos = []
        for m in self.supervisor.modules:
            infos.append(ModuleInfo(
                name=m.name, status=m.status, uptime_s=round(m.uptime_s(now), 1), restarts=m.restarts, version=m.version,
                restart_policy=m.restart_policy, exit_code=m.exit_codes[-1] if m.exit_codes else None,
                restart_in_s=round(max(0.0, m.next_start - now), 1) if m.status == "backoff" else None,
                connected=self.bus.connected(m.name)))
        return infos

    def _logs(self, name: str, request: Request, conn: socket.socket) -> Iterator[Reply]:
        module = self.supervisor.get(name)
        assert module is not None
        since = time.time() - request.since_s if request.since_s is not None else None
        lines = module.log.lines(since=since)
        if request.tail is not None:
            lines = lines[len(lines) - request.tail:] if request.tail else []
        yield from (_line(line) for line in lines)
        if not request.follow:
            yield Reply(kind="result", result={"lines": len(lines)})
            return
        seq = lines[-1].seq if lines else max((line.seq for line in module.log.lines()), default=0)
        while not self._closed.is_set() and not _hung_up(conn):
            for line in module.log.wait(seq, 1.0):
                seq = line.seq
                yield _line(line)

    def _twin_set(self, name: str, request: Request) -> Iterator[Reply]:
        """Patch, wait for the module's desiredStatus (the result). When the patch asks for a model (``modelUrl``,
        ``modelSha256``) and was applied (``modelUpdateFollows``), also wait for the update's outcome, reported
        asynchronously as ``modelUpdate``: a ``line`` per pending status, then a second result with ``modelUpdate``
        (None when it did not come in time, with a ``note``); all within ``wait_s``."""
        if not request.patch:
            raise RequestError("give a desired-properties patch, a JSON object such as '{\"threshold\": 0.9}'")
        deadline = time.monotonic() + request.wait_s
        before = self.bus.twin(name)[1].get("modelUpdate")
        version = self.bus.patch_desired(name, request.patch)
        if not self.bus.connected(name):
            yield Reply(kind="result", result={"version": version, "desiredStatus": None,
                                               "note": f"{name} is not connected: it gets the patch when it connects"})
            return
        reported = self.bus.wait_reported(
            name, lambda r: isinstance(r.get("desiredStatus"), dict) and r["desiredStatus"].get("version") == version,
            request.wait_s)
        if reported is None:
            yield Reply(kind="result", result={
                "version": version, "desiredStatus": None,
                "note": f"{name} did not report a desiredStatus for version {version} within {request.wait_s:g} s"})
            return
        answer = {"version": version, "desiredStatus": reported["desiredStatus"], "settings": reported.get("settings"),
                  "modelUpdateFollows": bool(MODEL_KEYS & set(request.patch))
                  and reported["desiredStatus"].get("status") == "applied"}
        yield Reply(kind="result", result=answer)
        if answer["modelUpdateFollows"]:  # a second result: the outcome, after a line per pending status
            outcome: dict[str, Any] = {}
            yield from self._model_update(name, before, deadline, outcome)
            yield Reply(kind="result", result=outcome)

    def _model_update(self, name: str, before: Any, deadline: float, answer: dict[str, Any]) -> Iterator[Reply]:
        """Wait until ``deadline`` for the outcome (``applied`` or ``failed``) of the model update the desired
        ``modelUrl`` / ``modelSha256`` asked for; put it in ``answer['modelUpdate']`` (None: none in time, with a
        ``note``). A model already serving as asked is the outcome at once (the module does not load it again)."""
        desired = self.bus.twin(name)[0]
        url, sha256 = redact_url(str(desired.get("modelUrl") or "")), str(desired.get("modelSha256") or "").lower()
        if isinstance(before, dict) and before.get("status") == "applied" and before.get("url") == url and \
                (not sha256 or before.get("sha256") == sha256):
            answer["modelUpdate"] = before
            return
        model = self.bus.twin(name)[1].get("model")
        if before is None and not url and isinstance(model, dict):  # no update since its start: its own model serves
            answer["modelUpdate"] = {"status": "applied", "url": "", "sha256": model.get("sha256", ""), "reason": ""}
            return
        yield Reply(kind="line", result={"time": time.time(), "text": f"model update pending: {url or 'the module folder'}"
                                                                       f"; waiting up to {max(0.0, deadline - time.monotonic()):.0f} s"})
        seen: list[Any] = []

        def changed(reported: dict[str, Any]) -> bool:
            update = reported.get("modelUpdate")
            if not isinstance(update, dict) or update.get("url") != url or (update == before and not seen):
                return False
            return update not in seen[-1:]

        while (left := deadline - time.monotonic()) > 0:
            reported = self.bus.wait_reported(name, changed, left)
            if reported is None:
                break
            update = reported["modelUpdate"]
            seen.append(update)
            if update.get("status") in ("applied", "failed"):
                answer["modelUpdate"] = update
                return
            yield Reply(kind="line", result={"time": time.time(), "text": f"model update {update.get('status')}"})
        answer["modelUpdate"] = None
        answer["note"] = (f"the model update did not finish in time (last: {seen[-1].get('status') if seen else 'not started'}); "
                          f"`python -m localedge twin get {name}` shows modelUpdate when it does, or give --wait more seconds")

    def _monitor(self, conn: socket.socket) -> Iterator[Reply]:
        try:
            watcher = self.bus.monitor()
        except RuntimeError as exc:
            raise RequestError(str(exc)) from None
        try:
            while not self._closed.is_set() and not _hung_up(conn):
                try:
                    record = watcher.get(timeout=1.0)
                except queue.Empty:
                    continue
                yield Reply(kind="message", result=record)
        finally:
            self.bus.unmonitor(watcher)


def _line(line: LogLine) -> Reply:
    return Reply(kind="line", result={"time": line.time, "text": line.text})


def _hung_up(conn: socket.socket) -> bool:
    """True when the client closed its end (a stream's only way to end)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _read_request(conn: socket.socket) -> Request:
    conn.settimeout(REQUEST_TIMEOUT_S)
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    data = b""
    while b"\n" not in data:
        if len(data) > MAX_REQUEST_BYTES:
            raise RequestError(f"a request is at most {MAX_REQUEST_BYTES} bytes")
        if time.monotonic() > deadline:
            raise RequestError(f"the request did not arrive within {REQUEST_TIMEOUT_S:g} s")
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            raise RequestError(f"the request did not arrive within {REQUEST_TIMEOUT_S:g} s") from None
        if not chunk:
            break
        data += chunk
    conn.settimeout(SEND_TIMEOUT_S)
    line = data.split(b"\n", 1)[0]
    if len(line) > MAX_REQUEST_BYTES:
        raise RequestError(f"a request is at most {MAX_REQUEST_BYTES} bytes")
    try:
        return Request.model_validate_json(line)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in exc.errors()[:5])
        raise RequestError(f"bad request: {problems}") from None


def _send(conn: socket.socket, reply: Reply) -> None:
    conn.sendall(reply.model_dump_json().encode("utf-8") + b"\n")
