"""The local runner's stand-in for edgeHub: routes messages between modules and serves module twins.

Modules connect with :class:`edgekit.local_hub.LocalHub` (frames in :mod:`edgekit.wire`), or through
another transport that attaches them (:meth:`Bus.attach`). Messages to a module that is not
connected yet are held (as edgeHub stores them) and delivered when it connects. ``$upstream``
messages go to an :class:`UpstreamSink`; while upstream is offline they are stored and forwarded
(:meth:`Bus.set_upstream_online`). Messages no route takes are dropped and counted. Direct methods
are invoked with :meth:`Bus.invoke`.
"""

from __future__ import annotations

import binascii
import copy
import itertools
import json
import logging
import os
import queue
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from edgekit import wire
from edgekit.hub import apply_patch
from localedge.runner.routes import UNDEFINED, MessageView, Route

logger = logging.getLogger(__name__)

HELD_PER_MODULE = 1000
DEVICE_ID = "local"
DEFAULT_TIME_TO_LIVE_S = 7200.0  # edgeHub's default storeAndForwardConfiguration.timeToLiveSecs
UPSTREAM_STORE_MAX = 10_000  # $upstream messages kept while offline; the oldest are dropped beyond
MONITOR_QUEUE = 1000  # $upstream messages waiting for one monitor
MAX_MONITORS = 8
MAX_PENDING_METHODS = 64
MAX_METHOD_TIMEOUT_S = 300.0  # IoT Hub's longest responseTimeoutInSeconds

Send = Callable[[dict[str, Any]], None]  # a transport's link to one module: writes a frame to it


class UpstreamSink:
    """Appends each ``$upstream`` message as a JSON line to ``path`` and prints a readable line to ``out``."""

    def __init__(self, path: Path | None, out: TextIO) -> None:
        self.path = path
        self.out = out
        self.count = 0
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, module: str, output: str, properties: Mapping[str, str], body: Any) -> None:
        record = {"module": module, "output": output, "properties": dict(properties), "body": body}
        with self._lock:
            self.count += 1
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(record) + "\n")
            self.out.write(f"$upstream <- {module}/{output}: {_summary(body)}\n")
            self.out.flush()


def _summary(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)[:200]
    parts = []
    for key, value in body.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.2f}")
        elif isinstance(value, (str, int, bool)) or value is None:
            parts.append(f"{key}={value}")
    return " ".join(parts)


class StoredMessage(NamedTuple):
    """An ``$upstream`` message kept while upstream is offline (times: time.monotonic, s)."""

    priority: int  # 0 is the highest, as edgeHub's route priority
    seq: int
    enqueued: float
    ttl_s: float
    module: str
    output: str
    properties: dict[str, str]
    body: Any


class UpstreamCounters(NamedTuple):
    """edgeHub-like counters: messages routed (matched a route) and unrouted (matched none: dropped),
    ``$upstream`` messages delivered, queued (kept while offline), expired (their time-to-live ran out
    while queued: dropped) and dropped (the queue was full), whether upstream is online, and the messages on
    which a route's condition failed to evaluate (a runner bug: each such route took the message as not matched)."""

    routed: int
    unrouted: int
    upstream_delivered: int
    upstream_queued: int
    upstream_expired: int
    upstream_dropped: int
    upstream_online: bool
    condition_errors: int = 0


class Bus:
    """Routes frames from module outputs to module inputs and ``$upstream``; serves twins from ``desired``;
    invokes direct methods; keeps ``$upstream`` messages while upstream is offline (store and forward).

    ``time_to_live_s``: the manifest's ``$edgeHub`` ``storeAndForwardConfiguration.timeToLiveSecs``, used
    for routes that set no ``timeToLiveSecs`` of their own.
    """

    def __init__(self, routes: list[Route], desired: Mapping[str, dict[str, Any]], upstream: UpstreamSink,
                 time_to_live_s: float = DEFAULT_TIME_TO_LIVE_S) -> None:
        self.routes = routes
        self.upstream = upstream
        self.time_to_live_s = time_to_live_s
        self.desired = {name: {**doc, "$version": 1} for name, doc in desired.items()}
        self.reported: dict[str, dict[str, Any]] = defaultdict(dict)
        self._reported_version: dict[str, int] = defaultdict(lambda: 1)
        self.authkey = os.urandom(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.authkey)
        self._links: dict[str, Send] = {}
        self._conns: set[Connection] = set()  # the local wire's connections, interrupted by close()
        self._subscribed: set[str] = set()
        self._held: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=HELD_PER_MODULE))
        self._lock = threading.RLock()
        self._reported_changed = threading.Condition(self._lock)
        self._closed = False
        self.delivered = 0
        self.routed = 0
        self.unrouted = 0
        self._up_lock = threading.Lock()  # upstream state; held while a message is written, so order is kept
        self._online = True
        self._stored: list[StoredMessage] = []
        self._seq = itertools.count()
        self.upstream_delivered = 0
        self.upstream_expired = 0
        self.upstream_dropped = 0
        self.condition_errors: Counter[str] = Counter()  # route name -> failed evaluations of its condition
        self._errors_lock = threading.Lock()
        self._monitors: list[queue.Queue[dict[str, Any]]] = []
        self._rids = itertools.count(1)
        self._methods: dict[int, tuple[str, threading.Event, list[dict[str, Any]]]] = {}

    @property
    def address(self) -> str:
        host, port = self._listener.address
        return f"{host}:{port}"

    def environment(self, module: str) -> dict[str, str]:
        """Variables a module process needs to reach this bus."""
        return {wire.ADDRESS_ENV: self.address, wire.AUTHKEY_ENV: self.authkey.hex(), wire.MODULE_ENV: module}

    def start(self) -> None:
        threading.Thread(target=self._accept_loop, name="bus-accept", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = list(self._conns)
        self._listener.close()
        for conn in conns:
            wire.interrupt(conn)  # each connection's thread sees EOF and closes it

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):
                if self._closed:
                    return
                logger.warning("a module failed to connect (bad key?)")
                continue
            threading.Thread(target=self._serve, args=(conn,), name="bus-conn", daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        """One module's connection over the local wire (:mod:`edgekit.wire`): its frames in, the bus's out."""
        try:
            hello = wire.read(conn)
        except (EOFError, OSError, ValueError):
            conn.close()
            return
        module = str(hello.get("module", ""))
        with self._lock:
            self._conns.add(conn)
        write_lock = threading.Lock()

        def send(frame: dict[str, Any]) -> None:
            with write_lock:
                wire.write(conn, frame)

        self.attach(module, send)
        logger.debug("%s connected", module)
        while not self._closed:
            try:
                frame = wire.read(conn)
            except (EOFError, OSError):
                break
            except ValueError:
                logger.warning("%s sent a malformed frame", module)
                continue
            self.handle(module, frame)
        self.detach(module, send)
        with self._lock:
            self._conns.discard(conn)
        conn.close()

    def attach(self, module: str, send: Send) -> None:
        """A transport connected ``module``: frames for it go to ``send`` (which raises OSError once it is gone)."""
        with self._lock:
            self._links[module] = send

    def detach(self, module: str, send: Send) -> None:
        """The transport's link to ``module`` is gone (only if ``send`` is still its current link)."""
        with self._lock:
            if self._links.get(module) is send:
                del self._links[module]
                self._subscribed.discard(module)

    def connected(self, module: str) -> bool:
        """True while a transport has ``module`` attached (its hub connection is up)."""
        with self._lock:
            return module in self._links

    def handle(self, module: str, frame: dict[str, Any]) -> None:
        """A frame from ``module`` (ops ``send``, ``get_twin``, ``subscribe``, ``report``, ``method_result``;
        see :mod:`edgekit.wire`). A malformed frame is logged and ignored."""
        try:
            self._handle(module, frame)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            logger.warning("%s sent a malformed %r frame (%s): ignored", module, frame.get("op"), exc)

    def _handle(self, module: str, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "send":
            self.route(module, frame)
        elif op == "get_twin":
            desired, reported = self.twin(module)
            self._write(module, {"op": "twin", "rid": int(frame["rid"]), "desired": desired, "reported": reported})
        elif op == "subscribe":
            with self._lock:
                self._subscribed.add(module)
                held = list(self._held.pop(module, ()))
            for item in held:
                self._write(module, item)
        elif op == "report":
            patch = frame.get("patch") or {}
            if not isinstance(patch, dict):
                raise ValueError("patch is not an object")
            with self._reported_changed:
                _patch_in_place(self.reported[module], patch)
                self._reported_version[module] += 1
                self._reported_changed.notify_all()
            if any(_takes_twin_changes(route) for route in self.routes):
                self._route_twin_change(module, patch)
        elif op == "method_result":
            with self._lock:
                pending = self._methods.get(int(frame["rid"]))
            if pending is not None and pending[0] == module:
                pending[2].append(frame)
                pending[1].set()

    def _write(self, module: str, frame: dict[str, Any]) -> None:
        with self._lock:
            send = self._links.get(module)
            if send is None or (frame["op"] == "input" and module not in self._subscribed):
                if frame["op"] == "input":
                    self._held[module].append(frame)
                return
            try:
                send(frame)
            except OSError:
                if frame["op"] == "input":
                    self._held[module].append(frame)

    def twin(self, module: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Copies of ``module``'s desired and reported properties, each with its ``$version``."""
        with self._lock:
            desired = copy.deepcopy(self.desired.get(module, {"$version": 1}))
            reported = {**copy.deepcopy(self.reported.get(module, {})), "$version": self._reported_version[module]}
        return desired, reported

    def wait_reported(self, module: str, done: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any] | None:
        """Wait up to ``timeout_s`` until ``done(reported)`` holds for ``module``'s reported properties;
        a copy of them then, None on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._reported_changed:
            while True:
                reported = self.reported.get(module, {})
                if done(reported):
                    return copy.deepcopy(reported)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._reported_changed.wait(left)

    def route(self, module: str, frame: dict[str, Any]) -> None:
        """Deliver a ``send`` frame from ``module`` through every route whose source and condition match;
        a message no route takes is dropped and counted (``unrouted``), as edgeHub does."""
        body_bytes = wire.decode_body(frame["body"])
        body: Any = UNDEFINED
        if frame.get("contentType") == "application/json" and (frame.get("contentEncoding") or "").lower() == "utf-8":
            try:
                body = json.loads(body_bytes.decode("utf-8"))
            except ValueError:
                body = UNDEFINED
        output = str(frame["output"])
        system = {"contentType": frame.get("contentType") or "", "contentEncoding": frame.get("contentEncoding") or "",
                  "connectionModuleId": module, "connectionDeviceId": DEVICE_ID, "outputName": output}
        properties = {str(k): str(v) for k, v in dict(frame.get("properties") or {}).items()}
        view = MessageView(module, output, properties, system, body)
        self._deliver(view, frame["body"], frame.get("contentType"), twin_change=False)

    def _route_twin_change(self, module: str, patch: Mapping[str, Any]) -> None:
        """A reported-property change of ``module`` as edgeHub routes it from /twinChangeNotifications:
        a message from that module whose body is the reported patch (JSON)."""
        raw = json.dumps(patch).encode("utf-8")
        system = {"contentType": "application/json", "contentEncoding": "utf-8", "connectionModuleId": module,
                  "connectionDeviceId": DEVICE_ID, "outputName": "", "messageSchema": "twinChangeNotification"}
        view = MessageView(module, "", {}, system, json.loads(raw))
        self._deliver(view, wire.encode_body(raw), "application/json", twin_change=True)

    def _deliver(self, view: MessageView, body_b64: str, content_type: str | None, twin_change: bool) -> None:
        upstream: list[Route] = []
        matched = False
        for route in self.routes:
            if not (_takes_twin_changes(route) if twin_change else not getattr(route, "twin_changes", False)):
                continue
            if not route.delivers(view, self._condition_failed):
                continue
            matched = True
            self.delivered += 1
            if route.upstream:
                upstream.append(route)
            else:
                assert route.sink_module is not None
                self._write(route.sink_module, {"op": "input", "input": route.sink_input, "body": body_b64,
                                                "properties": dict(view.properties), "contentType": content_type})
        with self._lock:
            if matched:
                self.routed += 1
            else:
                self.unrouted += 1
        if upstream:  # once to $upstream, with the highest priority (0 first) and the longest time-to-live of its routes
            priority = min(int(getattr(r, "priority", 0) or 0) for r in upstream)
            ttl = max(self._ttl(r) for r in upstream)
            body = view.body if view.body is not UNDEFINED else body_b64
            self._to_upstream(StoredMessage(priority, next(self._seq), time.monotonic(), ttl, view.module, view.output,
                                            dict(view.properties), body))

    def _ttl(self, route: Route) -> float:
        ttl = getattr(route, "time_to_live_s", None)
        return float(self.time_to_live_s if ttl is None else ttl)

    def _to_upstream(self, message: StoredMessage) -> None:
        with self._up_lock:
            if self._online:
                self._write_upstream(message)
                return
            self._expire()
            if len(self._stored) >= UPSTREAM_STORE_MAX:
                self._stored.pop(0)
                self.upstream_dropped += 1
            self._stored.append(message)

    def _write_upstream(self, message: StoredMessage) -> None:
        self.upstream.write(message.module, message.output, message.properties, message.body)
        self.upstream_delivered += 1
        record = {"module": message.module, "output": message.output, "properties": message.properties, "body": message.body}
        with self._lock:
            monitors = list(self._monitors)
        for monitor in monitors:
            try:
                monitor.put_nowait(record)
            except queue.Full:
                pass  # a slow monitor misses messages; the runner does not wait for it

    def _expire(self) -> None:
        now = time.monotonic()
        kept = [m for m in self._stored if now - m.enqueued <= m.ttl_s]
        self.upstream_expired += len(self._stored) - len(kept)
        self._stored = kept

    def set_upstream_online(self, online: bool) -> int:
        """Make ``$upstream`` available (``True``) or not. While offline, ``$upstream`` messages are kept
        (at most :data:`UPSTREAM_STORE_MAX`, the oldest dropped beyond) up to their route's time-to-live;
        back online, those not expired are delivered, higher route priority first (0 is the highest), in
        order within a priority. Returns how many were delivered now."""
        with self._up_lock:
            self._online = online
            if not online:
                return 0
            self._expire()
            pending = sorted(self._stored, key=lambda m: (m.priority, m.seq))
            self._stored = []
            for message in pending:
                self._write_upstream(message)
            return len(pending)

    def _condition_failed(self, route: Route, exc: Exception) -> None:
        """A route's condition raised (a bug of the runner's evaluator): counted; logged with its traceback the
        first time for each route."""
        with self._errors_lock:
            self.condition_errors[route.name] += 1
            first = self.condition_errors[route.name] == 1
        if first:
            logger.error("route %s: evaluating its condition failed (a bug of the runner's evaluator): taken as not "
                         "true; further failures are counted", route.name, exc_info=exc)

    def counters(self) -> UpstreamCounters:
        """The routing and store-and-forward counters now (expired queued messages are counted first)."""
        with self._errors_lock:
            failed = sum(self.condition_errors.values())
        with self._up_lock:
            self._expire()
            return UpstreamCounters(self.routed, self.unrouted, self.upstream_delivered, len(self._stored),
                                    self.upstream_expired, self.upstream_dropped, self._online, failed)

    def monitor(self, size: int = MONITOR_QUEUE) -> queue.Queue[dict[str, Any]]:
        """A bounded queue receiving each ``$upstream`` message as it is delivered (module, output,
        properties, body); a full queue misses messages. Release it with :meth:`unmonitor`."""
        watcher: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=size)
        with self._lock:
            if len(self._monitors) >= MAX_MONITORS:
                raise RuntimeError(f"{MAX_MONITORS} monitors are already following $upstream")
            self._monitors.append(watcher)
        return watcher

    def unmonitor(self, watcher: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            if watcher in self._monitors:
                self._monitors.remove(watcher)

    def invoke(self, module: str, method: str, payload: Any, timeout_s: float) -> tuple[int, Any]:
        """Invoke direct method ``method`` of ``module`` with the JSON ``payload``; ``(status, payload)``
        as IoT Hub returns them: the module's answer, 404 when the module is not connected, 504 when it
        does not answer within ``timeout_s`` (capped at :data:`MAX_METHOD_TIMEOUT_S`), 429 when
        :data:`MAX_PENDING_METHODS` invocations are already waiting."""
        timeout_s = max(0.0, min(float(timeout_s), MAX_METHOD_TIMEOUT_S))
        event, box = threading.Event(), list[dict[str, Any]]()
        with self._lock:
            if module not in self._links:
                return 404, {"error": f"module {module} is not connected to the hub"}
            if len(self._methods) >= MAX_PENDING_METHODS:
                return 429, {"error": f"{MAX_PENDING_METHODS} direct method calls are already pending; try again"}
            rid = next(self._rids)
            self._methods[rid] = (module, event, box)
        try:
            self._write(module, {"op": "method", "rid": rid, "name": method, "payload": payload})
            if not event.wait(timeout_s):
                return 504, {"error": f"module {module} did not answer method {method!r} within {timeout_s:g} s"}
        finally:
            with self._lock:
                self._methods.pop(rid, None)
        answer = box[0]
        try:
            status = int(answer.get("status", 500))
        except (TypeError, ValueError):
            status = 500
        return status, answer.get("payload")

    def patch_desired(self, module: str, patch: Mapping[str, Any]) -> int:
        """Change a module's desired properties as a twin update would, and notify the module; the new
        desired ``$version``."""
        with self._lock:
            doc = self.desired.setdefault(module, {"$version": 1})
            clean = {key: value for key, value in patch.items() if not key.startswith("$")}
            _patch_in_place(doc, clean)
            doc["$version"] = version = int(doc.get("$version", 1)) + 1
            self._write(module, {"op": "desired", "patch": {**clean, "$version": version}})
        return version


def _takes_twin_changes(route: Route) -> bool:
    """True when edgeHub routes modules' reported-property changes through ``route``
    (``/twinChangeNotifications``, and ``/*`` since sources match by prefix)."""
    return bool(getattr(route, "takes_twin_changes", getattr(route, "twin_changes", False)))


def _patch_in_place(document: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply a twin patch (edgekit.hub.apply_patch) to ``document`` itself: readers holding it see the change."""
    patched = apply_patch(document, patch)
    document.clear()
    document.update(patched)
