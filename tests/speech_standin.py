"""A stand-in for Azure Speech's text-to-speech REST service on 127.0.0.1, so that no test reaches the internet.

contract: Microsoft's "Text to speech REST API" (learn.microsoft.com/azure/ai-services/speech-service/
rest-text-to-speech) and docs/iotedge.md "Speech". One server plays both of a region's hosts:

- ``POST /sts/v1.0/issueToken`` (``<region>.api.cognitive.microsoft.com``): ``Ocp-Apim-Subscription-Key``
  with the resource key, empty body; answers 200 with an access token as plain text (valid 10 minutes),
  or 401 for a missing or wrong key.
- ``POST /cognitiveservices/v1`` (``<region>.tts.speech.microsoft.com``): authorised by
  ``Ocp-Apim-Subscription-Key: <key>`` or ``Authorization: Bearer <token>``, else 401;
  ``Content-Type: application/ssml+xml``, else 415; ``X-Microsoft-OutputFormat`` one of the documented
  formats and a ``User-Agent``, else 400; an SSML ``<speak>`` with ``version``, ``xml:lang`` and a
  ``<voice name=...>``, else 400. Answers 200 with the audio (a real spoken WAV of the voice's text, made
  by espeak-ng, for the ``riff-*`` formats this module asks for), or 429 when ``mode`` is "429".
- ``GET /cognitiveservices/websocket/v1``, where the Speech SDK opens its WebSocket: the upgrade is
  refused with 401 for a wrong key (as the service does); the SDK's own protocol over the socket is not
  played (answered 501), so tests use the SDK only against a refusing or a silent service.

``mode`` forces an outcome for every request: "ok" (the contract above), "401", "429", or "silent" (the
request is read and never answered until the stand-in stops). ``requests`` records each request.
"""

from __future__ import annotations

import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from speech.engines import EspeakEngine

SSML = "{http://www.w3.org/2001/10/synthesis}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# A subset of the documented X-Microsoft-OutputFormat values: the RIFF (WAV) ones, which the stand-in can make.
RIFF_FORMATS = {"riff-8khz-16bit-mono-pcm", "riff-16khz-16bit-mono-pcm", "riff-22050hz-16bit-mono-pcm",
                "riff-24khz-16bit-mono-pcm", "riff-44100hz-16bit-mono-pcm", "riff-48khz-16bit-mono-pcm"}


@dataclass
class SpeechService:
    """What a test sees of the stand-in: its base URL (for ``SPEECH_HOST``), the key it accepts, the
    requests it received and the tokens it issued; ``mode`` and ``release`` steer it."""

    key: str
    url: str = ""
    mode: str = "ok"  # ok | 401 | 429 | silent
    requests: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)

    def answers(self) -> list[int]:
        """The status code of each request answered, in order."""
        return [r["status"] for r in self.requests if "status" in r]


def _synthesis_problem(headers: dict[str, str], body: bytes) -> tuple[int, str] | None:
    """(status, reason) when a /cognitiveservices/v1 request breaks the contract (after authorisation)."""
    if headers.get("content-type", "").split(";")[0].strip() != "application/ssml+xml":
        return 415, "Content-Type must be application/ssml+xml"
    if headers.get("x-microsoft-outputformat", "") not in RIFF_FORMATS:
        return 400, "X-Microsoft-OutputFormat missing or not a supported format"
    if not headers.get("user-agent"):
        return 400, "User-Agent is required"
    try:
        speak = ET.fromstring(body)
    except ET.ParseError:
        return 400, "the body is not SSML"
    voice = speak.find(f"{SSML}voice")
    if speak.tag != f"{SSML}speak" or not speak.get("version") or not speak.get(XML_LANG):
        return 400, "<speak> needs the SSML namespace, version and xml:lang"
    if voice is None or not voice.get("name") or not (voice.text or "").strip():
        return 400, "<voice name=...> with text is required"
    return None


@contextmanager
def speech_service(key: str) -> Iterator[SpeechService]:
    """The stand-in on a free 127.0.0.1 port, accepting ``key``; stopped on exit."""
    service = SpeechService(key=key)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:
            pass

        def _answer(self, record: dict[str, Any], status: int, body: bytes = b"", content_type: str = "") -> None:
            record["status"] = status
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self, headers: dict[str, str], token_allowed: bool) -> bool:
            if headers.get("ocp-apim-subscription-key") == service.key:
                return True
            bearer = headers.get("authorization", "")
            return token_allowed and bearer.startswith("Bearer ") and bearer[len("Bearer "):] in service.tokens

        def _forced(self, record: dict[str, Any]) -> bool:
            """Answer as ``mode`` says, unless it is "ok"; True when answered (or left unanswered)."""
            if service.mode == "silent":
                service.release.wait(30)
                self.close_connection = True
                return True
            if service.mode in ("401", "429"):
                self._answer(record, int(service.mode))
                return True
            return False

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            record: dict[str, Any] = {"method": "POST", "path": self.path, "headers": dict(self.headers),
                                      "body": body.decode(errors="replace")}
            service.requests.append(record)
            if self._forced(record):
                return
            if self.path == "/sts/v1.0/issueToken":
                if not self._authorised(headers, token_allowed=False):
                    self._answer(record, 401)
                    return
                token = secrets.token_urlsafe(32)
                service.tokens.add(token)
                self._answer(record, 200, token.encode(), "text/plain; charset=utf-8")
            elif self.path == "/cognitiveservices/v1":
                if not self._authorised(headers, token_allowed=True):
                    self._answer(record, 401)
                    return
                problem = _synthesis_problem(headers, body)
                if problem is not None:
                    record["reason"] = problem[1]
                    self._answer(record, problem[0])
                    return
                voice = ET.fromstring(body).find(f"{SSML}voice")
                assert voice is not None and voice.text
                self._answer(record, 200, EspeakEngine("en-us", 10).synthesize(voice.text), "audio/x-wav")
            else:
                self._answer(record, 404)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            headers = {k.lower(): v for k, v in self.headers.items()}
            record: dict[str, Any] = {"method": "GET", "path": self.path, "headers": dict(self.headers)}
            service.requests.append(record)
            if self._forced(record):
                return
            if self.path.startswith("/cognitiveservices/websocket/v1"):
                self._answer(record, 501 if self._authorised(headers, token_allowed=True) else 401)
            else:
                self._answer(record, 404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="speech-standin", daemon=True).start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield service
    finally:
        service.release.set()
        server.shutdown()
        server.server_close()
