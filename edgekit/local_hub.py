"""edgeHub stand-in transport used under the local runner (``python -m localedge run``).

The runner starts each module with ``LOCALEDGE_ADDRESS``, ``LOCALEDGE_AUTHKEY`` and
``IOTEDGE_MODULEID``; this client connects back to the runner's bus, which applies the
deployment manifest's routes and serves the module twin from the manifest, and passes direct methods
(``python -m localedge invoke``) as ``method`` frames, answered with ``method_result`` frames. When the bus closes
the connection without the module asking (the runner stopped or was killed), the module process
is sent SIGTERM, so it stops through its normal path instead of running on orphaned.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Client, Connection
from typing import Any

from edgekit import wire
from edgekit.hub import (
    JSON_CONTENT_TYPE,
    UTF8,
    DesiredHandler,
    Hub,
    HubSendError,
    InputHandler,
    InputMessage,
    OutputMessage,
    guarded,
)

logger = logging.getLogger(__name__)

TWIN_TIMEOUT_S = 10.0


def stop_this_process() -> None:
    """Send SIGTERM to this process (its stop event, see :func:`edgekit.runtime.stop_event`, then stops it)."""
    os.kill(os.getpid(), signal.SIGTERM)


class LocalHub(Hub):
    """A :class:`Hub` over the local runner's bus (see :mod:`edgekit.wire`).

    on_lost: called once, on the reader thread, when the bus closes the connection while this hub
    is open (default: :func:`stop_this_process`).
    """

    def __init__(self, conn: Connection, module_id: str, on_lost: Callable[[], None] = stop_this_process) -> None:
        super().__init__()
        self._conn = conn
        self._on_lost = on_lost
        self.module_id = module_id
        self._write_lock = threading.Lock()
        self._input_handler: InputHandler | None = None
        self._desired_handler: DesiredHandler | None = None
        self._rids = itertools.count(1)
        self._pending: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._write({"op": "hello", "module": module_id})
        self._reader = threading.Thread(target=self._read_loop, name="localhub-reader", daemon=True)
        self._reader.start()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> LocalHub:
        """Connect to the bus named by ``LOCALEDGE_ADDRESS``; raises ConnectionError when it does not answer."""
        host, _, port = environ[wire.ADDRESS_ENV].rpartition(":")
        key = bytes.fromhex(environ.get(wire.AUTHKEY_ENV, ""))
        module_id = environ.get(wire.MODULE_ENV, "module")
        try:
            conn = Client((host, int(port)), authkey=key)
        except OSError as exc:
            raise ConnectionError(f"local runner bus at {host}:{port} does not answer: {exc}") from exc
        return cls(conn, module_id)

    def _write(self, frame: dict[str, Any]) -> None:
        try:
            with self._write_lock:
                wire.write(self._conn, frame)
        except (OSError, ValueError) as exc:
            raise HubSendError(f"local runner bus is gone: {exc}") from exc

    def _read_loop(self) -> None:
        while not self._closing.is_set():
            try:
                frame = wire.read(self._conn)
            except (EOFError, OSError):
                if not self._closing.is_set():
                    logger.error("the local runner is gone (its bus closed the connection): stopping this module")
                    self._on_lost()
                return
            except ValueError:
                logger.warning("ignoring a malformed frame from the local runner")
                continue
            try:
                self._dispatch(frame)
            except (KeyError, TypeError, ValueError) as exc:  # a frame missing a field must not end the reader
                logger.warning("ignoring a malformed %r frame from the local runner (%s)", frame.get("op"), exc)

    def _dispatch(self, frame: dict[str, Any]) -> None:
        op = frame["op"]
        if op == "input" and self._input_handler is not None:
            self._input_handler(
                InputMessage(
                    input_name=frame["input"],
                    body=wire.decode_body(frame["body"]),
                    properties=dict(frame.get("properties") or {}),
                    content_type=frame.get("contentType"),
                )
            )
        elif op == "method":
            self._method_requested(int(frame["rid"]), str(frame["name"]), frame.get("payload"))
        elif op == "desired" and self._desired_handler is not None:
            self._desired_handler(dict(frame["patch"]))
        elif op == "twin":
            event, box = self._pending.get(int(frame["rid"]), (None, None))
            if event is not None and box is not None:
                box.append(frame)
                event.set()

    def _deliver(self, message: OutputMessage) -> None:
        self._write(
            {
                "op": "send",
                "output": message.output,
                "body": wire.encode_body(message.body.encode(UTF8)),
                "properties": message.properties,
                "contentType": JSON_CONTENT_TYPE,
                "contentEncoding": UTF8,
            }
        )

    def set_input_handler(self, handler: InputHandler) -> None:
        self._input_handler = guarded(handler, "input")
        self._write({"op": "subscribe"})  # as the SDK subscribes to inputs once a handler is set

    def set_desired_handler(self, handler: DesiredHandler) -> None:
        self._desired_handler = guarded(handler, "desired properties")

    def get_desired(self) -> dict[str, Any]:
        rid = next(self._rids)
        event, box = threading.Event(), list[dict[str, Any]]()
        self._pending[rid] = (event, box)
        try:
            self._write({"op": "get_twin", "rid": rid})
            if not event.wait(TWIN_TIMEOUT_S):
                raise HubSendError(f"get twin timed out after {TWIN_TIMEOUT_S:.0f} s")
        finally:
            self._pending.pop(rid, None)
        return dict(box[0].get("desired") or {})

    def _deliver_report(self, patch: dict[str, Any]) -> None:
        self._write({"op": "report", "patch": patch})

    def _send_method_response(self, request_id: Any, status: int, payload: Any) -> None:
        self._write({"op": "method_result", "rid": request_id, "status": status, "payload": payload})

    def _close_transport(self) -> None:
        wire.interrupt(self._conn)
        self._reader.join(2.0)
        try:
            self._conn.close()
        except OSError:
            pass
