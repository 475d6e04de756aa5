"""The live view: a small web page with the live stream, annotated with the current tag, and the tag history.

Served by waitress on ``live_view_port`` while ``show_video`` is on: ``/`` (the page),
``/stream.mjpg`` (multipart JPEG, about 5 frames a second, at most 640 px wide) and ``/status``
(JSON: current tag and probability, recent tags, counters, and why the source cannot be read, if it
cannot; credentials in the source are masked). Frames are annotated only while
someone is watching, so the view costs nothing when unused.

It listens on ``bind_address`` (the container's interfaces on IoT Edge, whose deployment publishes the port
on the host's loopback only; 127.0.0.1 under the local runner). With ``live_view_token`` (a secret from
``.env``) every request needs it: ``?token=<token>`` once (the page then keeps it in an HttpOnly cookie for the
stream and the status) or an ``Authorization: Bearer <token>`` header; anything else is answered 401.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import cv2
import numpy as np
from flask import Flask, Response, jsonify, request

from capture.source import Frame
from edgekit.http import HttpServer

logger = logging.getLogger(__name__)

TOKEN_COOKIE = "live_view_token"
STREAM_INTERVAL_S = 0.2
MAX_WIDTH_PX = 640
HISTORY = 20

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CameraCapture live view</title>
<style>
 body { font-family: sans-serif; margin: 1rem; background: #111; color: #eee; }
 #tag { font-size: 2rem; margin: .5rem 0; } #tag.none { color: #888; }
 img { max-width: 100%; border: 1px solid #444; } li { margin: .2rem 0; }
 .counters { color: #aaa; font-size: .9rem; }
</style></head>
<body>
<h1>CameraCapture</h1>
<div id="tag" class="none">waiting for the first classification</div>
<img id="live" src="stream.mjpg" alt="live camera stream">
<p class="counters" id="counters"></p>
<h2>Recent tags</h2>
<ol id="history"></ol>
<script>
async function refresh() {
  try {
    const s = await (await fetch("status", {cache: "no-store"})).json();
    const tag = document.getElementById("tag");
    tag.textContent = s.tagName ? `${s.tagName} ${(100 * s.probability).toFixed(0)} %` : "no tag";
    tag.className = s.tagName ? "tag" : "none";
    document.getElementById("history").innerHTML = s.history.map(
      h => `<li>${h.time.substring(11, 19)} ${h.tagName ?? "(no tag)"}${h.tagName ? " " + (100 * h.probability).toFixed(0) + " %" : ""}</li>`).join("");
    document.getElementById("counters").textContent =
      `source ${s.source}: ${s.counters.framesRead} frames read, ${s.counters.framesClassified} classified, ${s.counters.messagesSent} messages sent` +
      (s.sourceError ? ` (${s.sourceError})` : "");
  } catch (e) { document.getElementById("tag").textContent = "camera module not answering"; }
}
refresh(); setInterval(refresh, 1000);
</script>
</body></html>
"""


def annotate(image: np.ndarray, tag: str | None, probability: float) -> np.ndarray:
    """A copy of ``image`` (HxWx3 BGR), at most 640 px wide, with a banner naming the tag."""
    if image.shape[1] > MAX_WIDTH_PX:
        height = round(image.shape[0] * MAX_WIDTH_PX / image.shape[1])
        image = cv2.resize(image, (MAX_WIDTH_PX, height), interpolation=cv2.INTER_AREA)
    else:
        image = image.copy()
    text = f"{tag} {probability:.0%}" if tag else "no tag"
    cv2.rectangle(image, (0, 0), (image.shape[1], 44), (0, 0, 0), -1)
    cv2.putText(image, text, (10, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255) if tag else (160, 160, 160), 2, cv2.LINE_AA)
    return image


class LiveView:
    """The web server and the state it shows; ``offer`` frames from any thread."""

    def __init__(self, port: int, status: Callable[[], dict[str, Any]], host: str = "0.0.0.0", token: str = "") -> None:
        self.port = port
        self.host = host
        self._token = token
        self._status = status
        self._cond = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self._offered_at = 0.0
        self._watchers = 0
        self._tag: str | None = None
        self._probability = 0.0
        self._raw: np.ndarray | None = None  # the newest captured frame, re-annotated when its tag arrives
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._closed = threading.Event()
        self._server = HttpServer(self._app(), host, port, threads=8, name="live-view")

    def start(self) -> None:
        self._server.start()
        logger.info("live view on http://%s:%d/ (%s)", self.host, self.port,
                    "LIVE_VIEW_TOKEN required" if self._token else "no token: keep it on loopback")

    def close(self) -> None:
        """Stop the page and end every open stream."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()
        self._server.close()

    def record(self, tag: str | None, probability: float, at: datetime) -> None:
        """Note a sent classification: it becomes the banner (redrawn at once) and heads the history."""
        self._tag, self._probability = tag, probability
        self.history.appendleft({"time": at.astimezone(timezone.utc).isoformat(), "tagName": tag, "probability": probability})
        if self._raw is not None and self._watchers:
            self._publish(self._raw)

    def wants(self) -> bool:
        """True when a viewer is watching and the stream is due a new frame."""
        return bool(self._watchers) and time.monotonic() - self._offered_at >= STREAM_INTERVAL_S

    def offer(self, frame: Frame) -> None:
        """Take a captured frame for the stream (encoded at most every 0.2 s, and only while watched)."""
        self._raw = frame.image
        now = time.monotonic()
        if not self._watchers or now - self._offered_at < STREAM_INTERVAL_S:
            return
        self._offered_at = now
        self._publish(frame.image)

    def _publish(self, image: np.ndarray) -> None:
        ok, data = cv2.imencode(".jpg", annotate(image, self._tag, self._probability), [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            with self._cond:
                self._jpeg, self._sequence = data.tobytes(), self._sequence + 1
                self._cond.notify_all()

    def _frames(self) -> Iterator[bytes]:
        with self._cond:
            self._watchers += 1
        try:
            seen = -1
            while not self._closed.is_set():
                with self._cond:
                    if self._sequence == seen:
                        self._cond.wait(1.0)
                    if self._jpeg is None or self._sequence == seen:
                        continue
                    jpeg, seen = self._jpeg, self._sequence
                yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n"
        finally:
            with self._cond:
                self._watchers -= 1

    def _app(self) -> Flask:
        app = Flask("CameraCapture-live-view")

        @app.before_request
        def authorise() -> Response | None:
            if not self._token:
                return None
            bearer = request.headers.get("Authorization", "")
            offered = [request.args.get("token", ""), request.cookies.get(TOKEN_COOKIE, ""),
                       bearer[7:] if bearer.lower().startswith("bearer ") else ""]
            if any(hmac.compare_digest(o.encode(), self._token.encode()) for o in offered if o):
                return None
            return Response("the live view needs its token: open /?token=<LIVE_VIEW_TOKEN>\n", 401,
                            {"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"}, mimetype="text/plain")

        @app.get("/")
        def page() -> Response:
            reply = Response(PAGE, mimetype="text/html", headers={"Cache-Control": "no-store"})
            if self._token and request.args.get("token"):  # the stream and the status then carry it as a cookie
                reply.set_cookie(TOKEN_COOKIE, request.args["token"], httponly=True, samesite="Strict")
            return reply

        @app.get("/stream.mjpg")
        def stream() -> Response:
            return Response(self._frames(), mimetype="multipart/x-mixed-replace; boundary=frame",
                            headers={"Cache-Control": "no-store"})

        @app.get("/status")
        def status() -> Response:
            return jsonify({"tagName": self._tag, "probability": self._probability,
                            "history": list(self.history), **self._status()})

        return app
