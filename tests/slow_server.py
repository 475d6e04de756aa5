"""A real HTTP server on loopback that promises a body and trickles it, one byte every few seconds: a slow
download for the /url and modelUrl tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Trickle(BaseHTTPRequestHandler):
    """Promises 4 KB and sends one byte of it every ``interval_s`` (a class attribute set per server)."""

    interval_s = 3.0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "4096")
        self.end_headers()
        try:
            for _ in range(4096):
                self.wfile.write(b"\xff")
                self.wfile.flush()
                time.sleep(self.interval_s)
        except OSError:  # the client gave up
            pass

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def trickling_server(interval_s: float = 3.0) -> Iterator[str]:
    """Yields the base URL of a :class:`Trickle` server sending a byte every ``interval_s``."""
    handler = type("Trickle", (Trickle,), {"interval_s": interval_s})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
