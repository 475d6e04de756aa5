"""The local runner's stand-in for edgeHub: routes messages between modules and serves module twins.

Modules connect with :class:`edgekit.local_hub.LocalHub` (frames in :mod:`edgekit.wire`). Messages
to a module that is not connected yet are held (as edgeHub stores them) and delivered when it
connects. ``$upstream`` messages go to an :class:`UpstreamSink`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any, TextIO

from edgekit import wire
from edgekit.hub import apply_patch
from localedge.runner.routes import UNDEFINED, MessageView, Route

logger = logging.getLogger(__name__)

HELD_PER_MODULE = 1000

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


class Bus:
    """Routes frames from module outputs to module inputs and ``$upstream``; serves twins from ``desired``."""

    def __init__(self, routes: list[Route], desired: Mapping[str, dict[str, Any]], upstream: UpstreamSink) -> None:
        self.routes = routes
        self.upstream = upstream
        self.desired = {name: {**doc, "$version": 1} for name, doc in desired.items()}
        self.reported: dict[str, dict[str, Any]] = defaultdict(dict)
        self.authkey = os.urandom(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.authkey)
        self._links: dict[str, Send] = {}
        self._conns: set[Connection] = set()  # the local wire's connections, interrupted by close()
        self._subscribed: set[str] = set()
        self._held: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=HELD_PER_MODULE))
        self._lock = threading.RLock()
        self._closed = False
        self.delivered = 0

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

    def handle(self, module: str, frame: dict[str, Any]) -> None:
        """A frame from ``module`` (ops ``send``, ``get_twin``, ``subscribe``, ``report``; see :mod:`edgekit.wire`)."""
        op = frame.get("op")
        if op == "send":
            self.route(module, frame)
        elif op == "get_twin":
            reply = {"op": "twin", "rid": frame["rid"], "desired": self.desired.get(module, {"$version": 1}),
                     "reported": self.reported[module]}
            self._write(module, reply)
        elif op == "subscribe":
            with self._lock:
                self._subscribed.add(module)
                held = list(self._held.pop(module, ()))
            for item in held:
                self._write(module, item)
        elif op == "report":
            _patch_in_place(self.reported[module], frame.get("patch") or {})

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

    def route(self, module: str, frame: dict[str, Any]) -> None:
        """Deliver a ``send`` frame from ``module`` through every route whose source and condition match."""
        body_bytes = wire.decode_body(frame["body"])
        body: Any = UNDEFINED
        if frame.get("contentType") == "application/json" and (frame.get("contentEncoding") or "").lower() == "utf-8":
            try:
                body = json.loads(body_bytes.decode("utf-8"))
            except ValueError:
                body = UNDEFINED
        system = {"contentType": frame.get("contentType") or "", "contentEncoding": frame.get("contentEncoding") or "",
                  "connectionModuleId": module, "connectionDeviceId": "local"}
        properties = dict(frame.get("properties") or {})
        view = MessageView(module, frame["output"], properties, system, body)
        for route in self.routes:
            if not route.delivers(view):
                continue
            self.delivered += 1
            if route.upstream:
                self.upstream.write(module, view.output, properties, body if body is not UNDEFINED else frame["body"])
            else:
                assert route.sink_module is not None
                self._write(route.sink_module, {"op": "input", "input": route.sink_input, "body": frame["body"],
                                                "properties": properties, "contentType": frame.get("contentType")})

    def patch_desired(self, module: str, patch: Mapping[str, Any]) -> None:
        """Change a module's desired properties as a twin update would, and notify the module."""
        doc = self.desired.setdefault(module, {"$version": 1})
        _patch_in_place(doc, patch)
        doc["$version"] = int(doc.get("$version", 1)) + 1
        self._write(module, {"op": "desired", "patch": {**patch, "$version": doc["$version"]}})


def _patch_in_place(document: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply a twin patch (edgekit.hub.apply_patch) to ``document`` itself: readers holding it see the change."""
    patched = apply_patch(document, patch)
    document.clear()
    document.update(patched)
