"""A WSGI app under waitress (a production server, pure Python, so it runs on every platform) with a clean stop.

waitress's ``close()`` alone closes only the listening socket: kept-alive connections go on being
served and worker threads later write to a closed trigger. ``HttpServer.close`` stops the workers,
then closes every connection from inside waitress's own loop thread, and waits for it to end.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

logger = logging.getLogger(__name__)


class HttpServer:
    """Serves ``app`` on ``host:port`` from a background thread; binding happens here (OSError if taken)."""

    def __init__(self, app: Any, host: str, port: int, threads: int, name: str) -> None:
        self._server = create_server(app, host=host, port=port, threads=threads)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)
        self._closing = threading.Lock()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop serving: finish or cancel requests in progress (up to ``timeout_s``), close every connection.

        Safe to call more than once, and from any thread.
        """
        with self._closing:
            if self._closed:
                return
            self._closed = True
        server = self._server
        if not self._thread.is_alive():
            wasyncore.close_all(server._map, ignore_all=True)
            return
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout_s)
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))
        except OSError:  # the loop's trigger is already gone: close what is left from here
            wasyncore.close_all(server._map, ignore_all=True)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            logger.warning("HTTP server on port %d did not stop within %.0f s", self.port, timeout_s)
