"""Loopback ports for what the runner starts."""

from __future__ import annotations

import socket
import threading

_handed_out: set[int] = set()  # by free_port, in this process
_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now and not handed out before by this process: two of the runner's servers
    never get the same one, whichever binds it first (the OS's pick; another process may take it before it
    is bound)."""
    with _lock:
        while True:
            with socket.socket() as sock:
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
