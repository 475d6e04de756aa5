"""Direct methods: named calls an operator makes on a module (``az iot hub invoke-module-method``,
``python -m localedge invoke``), answered with a status and a JSON payload, as IoT Hub defines them.

A module registers its methods with :meth:`edgekit.hub.Hub.set_method_handlers`: method name ->
handler. A handler takes the request's payload (the parsed JSON, or None when there was none) and
returns a JSON-able payload. Each request is answered with:

- 200 and the handler's payload;
- 400 ``{"error": "<reason>"}`` when the payload is not what the method takes (the handler raised
  pydantic's ValidationError, e.g. through :func:`taking`, or :class:`MethodError` with 400);
- 404 ``{"error": "no method 'x'; methods: a, b"}`` for a method the module does not offer;
- 500 ``{"error": "<reason>"}`` when the handler failed (the reason names the exception; secrets
  masked, no traceback: that goes to the module's log), or when its answer is not JSON or is over
  IoT Hub's 128 KB limit for a direct method payload (MAX_PAYLOAD_BYTES; a handler that can answer
  something large, such as a snapshot, must keep under it itself);
- 503 ``{"error": "busy: ..."}`` when MAX_PENDING requests are already running or waiting.

Handlers run on a small pool of their own (METHOD_WORKERS threads), never on the transport's receive
thread, so a slow method holds up neither inputs nor twin patches. A handler is not interrupted: the
caller's timeout (IoT Hub's ``responseTimeoutInSeconds``, the runner's ``--timeout``) ends the wait;
an answer that comes later is dropped by the hub.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from edgekit.redact import redact

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 128 * 1024  # IoT Hub's limit for a direct method's request and response payload
METHOD_WORKERS = 2  # handlers running at a time
MAX_PENDING = 8  # requests running or waiting; past it a request is answered 503 at once
MAX_REASON_CHARS = 300  # longest error reason
SHOWN_NAME_CHARS = 64  # longest method name echoed in a 404

MethodHandler = Callable[[Any], Any]
Respond = Callable[[Any, int, Any], None]  # (request id, status, payload): the transport's answer
M = TypeVar("M", bound=BaseModel)


class MethodError(Exception):
    """Raised by a handler to answer ``status`` (400 for a payload it cannot take, 500 for a failure)
    with ``{"error": reason}``; the reason is shown to the caller, so it must hold no secret."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class NoPayload(BaseModel):
    """The payload of a method without parameters: none, ``null`` or ``{}`` (anything else: 400)."""

    model_config = ConfigDict(extra="forbid")


def taking(model: type[M], handler: Callable[[M], Any]) -> MethodHandler:
    """A handler that validates the payload as ``model`` (None counts as ``{}``) and calls ``handler``
    with it; a payload the model refuses is answered 400 with pydantic's reasons."""

    def call(payload: Any) -> Any:
        return handler(model.model_validate({} if payload is None else payload))

    return call


def validation_reason(exc: ValidationError) -> str:
    """Short reasons (``field: message``; at most three) without echoing the values sent."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return _short("; ".join(parts) + (f" (and {more} more)" if more > 0 else ""))


def _short(text: str) -> str:
    text = redact(text)
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS - 3] + "..."


def call_handler(name: str, handler: MethodHandler, payload: Any) -> tuple[int, Any]:
    """Run ``handler(payload)``; returns (status, payload) as described in the module docstring."""
    try:
        result = handler(payload)
    except ValidationError as exc:
        return 400, {"error": validation_reason(exc)}
    except MethodError as exc:
        return exc.status, {"error": _short(exc.reason)}
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is the caller's 500, never the module's end
        logger.exception("direct method %s failed", name)
        detail = str(exc)
        return 500, {"error": _short(f"{name} failed: {type(exc).__name__}" + (f": {detail}" if detail else ""))}
    try:
        size = len(json.dumps(result).encode("utf-8"))
    except (TypeError, ValueError):
        logger.error("direct method %s answered something that is not JSON (%s)", name, type(result).__name__)
        return 500, {"error": f"{name} failed: its answer is not JSON"}
    if size > MAX_PAYLOAD_BYTES:
        logger.error("direct method %s answered %d bytes, over %d", name, size, MAX_PAYLOAD_BYTES)
        return 500, {"error": f"{name} failed: its answer is {size // 1024} KB, over IoT Hub's "
                              f"{MAX_PAYLOAD_BYTES // 1024} KB limit for a direct method payload"}
    return 200, result


class MethodDispatcher:
    """Runs direct-method handlers for a hub: :meth:`dispatch` returns at once (any thread); the
    answer goes to ``respond(request_id, status, payload)`` from a worker (or at once for 404/503)."""

    def __init__(self, respond: Respond, workers: int = METHOD_WORKERS, max_pending: int = MAX_PENDING) -> None:
        self._respond = respond
        self._handlers: dict[str, MethodHandler] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="direct-method")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._max_pending = max_pending

    @property
    def names(self) -> list[str]:
        """The methods offered, sorted."""
        return sorted(self._handlers)

    def set_handlers(self, handlers: Mapping[str, MethodHandler]) -> None:
        """Offer exactly these methods (name -> handler), replacing any set before."""
        for name in handlers:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a direct method needs a non-empty name, not {name!r}")
        self._handlers = dict(handlers)

    def dispatch(self, request_id: Any, name: str, payload: Any) -> None:
        """Answer the request ``request_id`` for method ``name`` (see the module docstring); never raises."""
        handler = self._handlers.get(name)
        if handler is None:
            shown = name if len(name) <= SHOWN_NAME_CHARS else name[:SHOWN_NAME_CHARS] + "..."
            logger.info("direct method %r answered 404: this module does not offer it", shown)
            self._answer(request_id, 404, {"error": f"no method {shown!r}; methods: {', '.join(self.names) or '(none)'}"})
            return
        if not self._slots.acquire(blocking=False):
            logger.warning("direct method %s refused: %d requests already running or waiting", name, self._max_pending)
            self._answer(request_id, 503, {"error": f"busy: {self._max_pending} direct methods are running or "
                                                    "waiting; try again shortly"})
            return
        try:
            self._pool.submit(self._run, request_id, name, handler, payload)
        except RuntimeError:  # the pool is shut down: the module is stopping
            self._slots.release()
            self._answer(request_id, 503, {"error": "the module is stopping"})

    def _run(self, request_id: Any, name: str, handler: MethodHandler, payload: Any) -> None:
        try:
            status, answer = call_handler(name, handler, payload)
        finally:
            self._slots.release()
        logger.info("direct method %s answered %d", name, status)
        self._answer(request_id, status, answer)

    def _answer(self, request_id: Any, status: int, payload: Any) -> None:
        try:
            self._respond(request_id, status, payload)
        except Exception as exc:  # noqa: BLE001 - the caller times out; the module goes on
            logger.warning("could not answer a direct method (%s: %s)", type(exc).__name__, exc)

    def close(self) -> None:
        """Refuse new requests; handlers running finish on their own (not waited for)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
