"""Frames exchanged between a module's LocalHub and the local runner's bus.

Transport: ``multiprocessing.connection`` (HMAC-authenticated, length-framed) on loopback;
each frame is one UTF-8 JSON object with an ``op``. Message bodies travel base64-encoded.

Module -> runner: ``hello`` {module}, ``subscribe`` (input handler set: inputs may flow), ``send`` {output, body, properties, contentType,
contentEncoding}, ``get_twin`` {rid}, ``report`` {patch},
``method_result`` {rid, status, payload}.
Runner -> module: ``input`` {input, body, properties, contentType}, ``twin`` {rid, desired,
reported}, ``desired`` {patch}, ``method`` {rid, name, payload}.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from multiprocessing.connection import Connection
from typing import Any

ADDRESS_ENV = "LOCALEDGE_ADDRESS"  # "127.0.0.1:<port>"
AUTHKEY_ENV = "LOCALEDGE_AUTHKEY"  # hex
MODULE_ENV = "IOTEDGE_MODULEID"


def encode_body(body: bytes) -> str:
    """bytes -> base64 text for a frame."""
    return base64.b64encode(body).decode("ascii")


def decode_body(text: str) -> bytes:
    """base64 text from a frame -> bytes."""
    return base64.b64decode(text.encode("ascii"))


def write(conn: Connection, frame: dict[str, Any]) -> None:
    """Send one frame; raises OSError when the peer is gone."""
    conn.send_bytes(json.dumps(frame).encode("utf-8"))


def read(conn: Connection) -> dict[str, Any]:
    """Receive one frame; raises EOFError/OSError when the peer is gone, ValueError on a bad frame."""
    frame = json.loads(conn.recv_bytes().decode("utf-8"))
    if not isinstance(frame, dict) or "op" not in frame:
        raise ValueError("frame without op")
    return frame


def interrupt(conn: Connection) -> None:
    """Wake a thread blocked in :func:`read` on ``conn`` with EOFError (shuts the socket down; the
    reader then closes it). Closing the connection from another thread instead would pull the handle
    from under the blocked read."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
