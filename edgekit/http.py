"""A WSGI app under waitress (a production server, pure Python, so it runs on every platform) with a clean stop.

Bounded against clients that hold on: a connection with no request in progress is closed after
``idle_timeout_s`` (checked every ``CLEANUP_INTERVAL_S``), at most ``connection_limit`` are open at a time
(poll(), not select(), so more than 1024 descriptors work; at the limit the connection idle longest is
closed for each new one, so that connections held open cannot starve a health check), and a request body over
``max_body_bytes`` is answered 413 from its Content-Length (or, chunked, once that many bytes
came) without being buffered. waitress answers malformed requests itself (400, 413, 431, 501)
before any app runs; with ``json_errors`` those answers are JSON ``{"code", "message"}`` too: waitress has no
public option for its own error bodies, so that is the one place a waitress class is extended (its error
task, through the channel's ``error_task_class``). Everything else is waitress's public options: a request is
read 64 KB at a time (``recv_bytes``; waitress's default is 8 KB).

waitress's ``close()`` alone closes only the listening socket: kept-alive connections go on being
served and worker threads later write to a closed trigger. ``HttpServer.close`` stops the workers,
then closes every connection from inside waitress's own loop thread, and waits for it to end.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress import create_server
from waitress.task import ErrorTask

logger = logging.getLogger(__name__)

CLEANUP_INTERVAL_S = 1
RECV_BYTES = 64 * 1024  # read per recv(): a camera frame in one or two reads, not waitress's 8 KB at a time


class _JsonErrorTask(ErrorTask):
    """waitress's own error answer as JSON ``{"code", "message"}``; the server's ``json_error_codes`` maps
    a status to a code (default: the reason phrase without spaces, e.g. ``RequestHeaderFieldsTooLarge``)."""

    def execute(self) -> None:
        error = self.request.error
        server = self.channel.server
        message = f"{error.reason}: {error.body}"
        if error.code == 413:  # waitress counts its limit as too large: HttpServer set it one above the largest body
            message = f"the request body is larger than {server.adj.max_request_body_size - 1} bytes"
        body = json.dumps({"code": server.json_error_codes.get(error.code, error.reason.replace(" ", "")),
                           "message": message}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _JsonErrorChannel(HTTPChannel):
    error_task_class = _JsonErrorTask


def _close_idle_at_the_limit(server: Any) -> None:
    """Make ``server`` (waitress) close the connection idle longest when it is at its connection limit, so that
    a new connection (a health check) is accepted at once: without this, connections held open starve every
    new one until ``idle_timeout_s`` closes them (and the Dockerfile's HEALTHCHECK gives up first). A connection
    with no request in progress is closed first; then one that has sent only part of a request (a slow client);
    never one whose request is being answered. Runs in waitress's loop thread, where its ``readable`` is asked."""
    waitress_readable = server.readable
    full = threading.Event()

    def readable() -> bool:
        if server.accepting and len(server._map) >= server.adj.connection_limit:
            waiting = [channel for channel in list(server.active_channels.values())
                       if not (channel.requests or channel.total_outbufs_len or channel.will_close
                               or channel.close_when_flushed)]
            if waiting:
                if not full.is_set():
                    full.set()
                    logger.warning("%d connections open, the limit: closing the one idle longest for each new one",
                                   len(server.active_channels))
                oldest = min(waiting, key=lambda channel: (channel.request is not None, channel.last_activity))
                oldest.handle_close()
                # Accept on the next turn of the loop, not this one: the closed descriptor may already be
                # registered with this turn's poll(), which reports it invalid, and a connection accepted now
                # would reuse its number and be closed in its place.
                return False
        elif full.is_set() and len(server._map) < server.adj.connection_limit - 1:
            full.clear()
        return bool(waitress_readable())

    server.readable = readable


class HttpServer:
    """Serves ``app`` on ``host:port`` from a background thread; binding happens here (OSError if taken)."""

    def __init__(self, app: Any, host: str, port: int, threads: int, name: str, *, idle_timeout_s: int = 30,
                 connection_limit: int = 250, max_body_bytes: int = 1 << 30, json_errors: Mapping[int, str] | None = None) -> None:
        """idle_timeout_s: close a connection with no request in progress after this long, s; connection_limit:
        connections open at a time (more wait in the listen backlog); max_body_bytes: largest request body;
        json_errors: answer waitress's own errors as JSON, with these codes by status (None: waitress's text)."""
        self._server = create_server(app, host=host, port=port, threads=threads, channel_timeout=idle_timeout_s,
                                     cleanup_interval=CLEANUP_INTERVAL_S, connection_limit=connection_limit,
                                     max_request_body_size=max_body_bytes + 1,  # waitress refuses at the limit itself
                                     asyncore_use_poll=True, recv_bytes=RECV_BYTES)
        _close_idle_at_the_limit(self._server)
        if json_errors is not None:
            self._server.json_error_codes = dict(json_errors)
            self._server.channel_class = _JsonErrorChannel
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
