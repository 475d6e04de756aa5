"""The one interface every module uses to talk to edgeHub.

A module sends to an *output*, handles messages arriving on an *input*, reads its
module twin's desired properties and reports properties. Two transports implement
it: :class:`edgekit.azure_hub.AzureHub` (``azure-iot-device``'s module client,
under IoT Edge) and :class:`edgekit.local_hub.LocalHub` (the local runner,
``python -m localedge run``). Nothing else in the project talks to a transport.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit.inbox import Inbox
from edgekit.methods import MethodDispatcher, MethodHandler
from edgekit.workers import backoff

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
UTF8 = "utf-8"

OUTBOX_CAPACITY = 1000  # messages held while edgeHub is unreachable; past it the oldest is dropped
MAX_MESSAGE_BYTES = 256 * 1024  # IoT Hub's limit for one message
RETRY_MAX_S = 5.0  # longest wait between delivery attempts: delivery resumes within this once edgeHub is back
CLOSE_GRACE_S = 3.0  # how long close() tries to deliver what is queued


class HubUnavailableError(RuntimeError):
    """Raised when no transport to edgeHub can be set up from the environment."""


class HubConfigurationError(HubUnavailableError):
    """The environment names edgeHub but cannot work: missing or malformed variables, a malformed
    connection string, credentials or certificate refused. Retrying cannot help: stop with one line."""


@dataclass(frozen=True)
class InputMessage:
    """A message delivered on one of the module's inputs by a route.

    body: raw bytes as sent; properties: the application properties (str -> str).
    """

    input_name: str
    body: bytes
    properties: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def json(self) -> Any:
        """Body decoded as UTF-8 JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode(UTF8))


InputHandler = Callable[[InputMessage], None]
DesiredHandler = Callable[[dict[str, Any]], None]


class OutputMessage(BaseModel):
    """A message waiting in a hub's outbox: ``body`` is the JSON text (UTF-8), fixed when it was sent.

    message_id: a unique id (``$.mid`` on the wire), so that a receiver can recognise the rare
    duplicate MQTT's at-least-once delivery allows.
    """

    model_config = ConfigDict(frozen=True)

    output: str
    body: str
    properties: dict[str, str]
    message_id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class Hub(ABC):
    """A module's connection to edgeHub (or to the local runner standing in for it).

    Input and desired-properties handlers are called on the transport's own threads: they must
    hand work over quickly (a queue) and not block. Exceptions they raise are logged, never
    propagated into the transport. Direct-method handlers run on the hub's own method workers
    (:meth:`set_method_handlers`, :mod:`edgekit.methods`).

    Outputs and reported properties never block the caller and are not lost while edgeHub is
    unreachable: :meth:`send` queues the message in a bounded outbox (``outbox_capacity``
    messages; past it the oldest is dropped and counted) whose one worker hands them to the
    transport in order, retrying the oldest with backoff until the transport takes it.
    :meth:`report` merges the patch into the one waiting to be sent (newest values win), which a
    second worker sends, putting it back to be merged with newer ones when it fails. What is still queued when the hub closes after its grace
    period is lost (and logged). Transports implement :meth:`_deliver`,
    :meth:`_deliver_report` (both may block until edgeHub answers; raise on failure),
    :meth:`_send_method_response` and :meth:`_close_transport`, and hand each direct-method request
    to :meth:`_method_requested`.
    """

    def __init__(self, outbox_capacity: int = OUTBOX_CAPACITY) -> None:
        self._closing = threading.Event()
        self._count_lock = threading.Lock()
        self._accepted = 0
        self._delivered = 0
        self._abandoned = 0
        self._outbox: Inbox[OutputMessage] = Inbox(self._deliver_held, outbox_capacity, "hub-outbox")
        self._report_order = itertools.count()
        self._report_failures = 0
        self._report_delays: Iterator[float] | None = None
        self._reports: Inbox[_Report] = Inbox(self._report_held, 1, "hub-reports", coalesce=_merge_reports)
        self._methods = MethodDispatcher(self._send_method_response)

    def set_method_handlers(self, handlers: Mapping[str, MethodHandler]) -> None:
        """Offer these direct methods (name -> handler), replacing any offered before.

        A handler takes the request payload (parsed JSON, or None) and returns a JSON-able payload,
        answered with status 200; it runs on the hub's method workers, never on the transport's thread.
        A pydantic ValidationError it raises is answered 400, :class:`edgekit.methods.MethodError` its
        status, any other exception 500, each with ``{"error": reason}``; an unknown method gets 404
        (see :mod:`edgekit.methods`).
        """
        self._methods.set_handlers(handlers)
        self._subscribe_methods()

    def send(self, output: str, body: Mapping[str, Any], properties: Mapping[str, str] | None = None) -> None:
        """Queue ``body`` as a JSON message (contentType application/json, utf-8) for ``output``; returns at once.

        properties: application properties, which routes can test in ``WHERE``. Never raises for a
        transport failure (the message waits in the outbox); raises TypeError when ``body`` is not
        JSON-serialisable and ValueError when its JSON is over 256 KB (IoT Hub's message limit).
        """
        text = json.dumps(body)
        if len(text.encode(UTF8)) > MAX_MESSAGE_BYTES:
            raise ValueError(f"a message on output {output!r} is over {MAX_MESSAGE_BYTES // 1024} KB")
        with self._count_lock:
            self._accepted += 1
        self._outbox.put(OutputMessage(output=output, body=text, properties=dict(properties or {})))

    def report(self, patch: Mapping[str, Any]) -> None:
        """Patch the module twin's reported properties (merged by the hub; ``None`` deletes a key); returns at once.

        While edgeHub is unreachable the patches are merged into one (newest values win), retried with
        backoff and sent when it is back.
        """
        self._reports.put((next(self._report_order), dict(patch)))

    def outbox_status(self) -> dict[str, int]:
        """Counters for reported properties: ``queued`` (waiting, or being delivered), ``delivered``,
        and ``dropped`` (the oldest, when more than ``outbox_capacity`` waited)."""
        with self._count_lock:
            dropped = self._outbox.dropped
            queued = self._accepted - self._delivered - dropped - self._abandoned
            return {"queued": max(queued, 0), "delivered": self._delivered, "dropped": dropped}

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued message and report is delivered; False after ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        return self._outbox.wait_idle(timeout_s) and self._reports.wait_idle(max(deadline - time.monotonic(), 0.0))

    def close(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """Deliver what is queued (for up to ``grace_s`` seconds), then disconnect; safe to call twice."""
        if self._closing.is_set():
            return
        if not self.flush(grace_s):
            logger.warning("closing with %d messages not delivered to edgeHub", self.outbox_status()["queued"])
        self._closing.set()
        self._methods.close()
        self._close_transport()
        self._outbox.close(1.0)
        self._reports.close(1.0)

    def _deliver_held(self, message: OutputMessage) -> None:
        delivered = self._until_delivered(f"a message on output {message.output!r}", self._deliver, message)
        with self._count_lock:
            if delivered:
                self._delivered += 1
            else:
                self._abandoned += 1

    def _report_held(self, report: _Report) -> None:
        """Send the merged patch; when that fails, wait, then queue it again: merged with the patches made
        meanwhile, it is sent as one."""
        try:
            self._deliver_report(report[1])
        except Exception as exc:  # noqa: BLE001 - every transport failure is retried; the patch waits
            self._report_failures += 1
            log = logger.info if self._report_failures == 1 else logger.debug
            log("edgeHub did not take a reported properties patch (%s: %s); holding it and retrying",
                type(exc).__name__, exc)
            self._report_delays = self._report_delays or backoff(maximum_s=RETRY_MAX_S)
            if not self._closing.wait(next(self._report_delays)):
                self._reports.put(report)
            return
        if self._report_failures:
            logger.info("edgeHub took the reported properties after %d failed attempts", self._report_failures)
        self._report_failures, self._report_delays = 0, None

    def _until_delivered(self, what: str, deliver: Callable[[Any], None], item: Any) -> bool:
        """Call ``deliver(item)`` until it returns (True) or the hub closes (False), with backoff between failures."""
        delays = backoff(maximum_s=RETRY_MAX_S)
        failures = 0
        while not self._closing.is_set():
            try:
                deliver(item)
            except Exception as exc:  # noqa: BLE001 - every transport failure is retried; the item waits
                failures += 1
                log = logger.info if failures == 1 else logger.debug
                log("edgeHub did not take %s (%s: %s); holding it and retrying", what, type(exc).__name__, exc)
                self._closing.wait(next(delays))
                continue
            if failures:
                logger.info("edgeHub took %s after %d failed attempts", what, failures)
            return True
        return False

    @abstractmethod
    def _deliver(self, message: OutputMessage) -> None:
        """Hand ``message`` to edgeHub; return once it is acknowledged, raise when it was not taken."""

    @abstractmethod
    def _deliver_report(self, patch: dict[str, Any]) -> None:
        """Send a reported-properties patch; return once it is acknowledged, raise when it was not taken."""

    def _subscribe_methods(self) -> None:
        """Make the transport deliver direct-method requests to :meth:`_method_requested` (called by
        :meth:`set_method_handlers`; a transport that always delivers them does nothing)."""
        return None

    def _method_requested(self, request_id: Any, name: str, payload: Any) -> None:
        """A direct-method request arrived (transport thread): dispatched to a worker; returns at once."""
        self._methods.dispatch(request_id, name, payload)

    @abstractmethod
    def _send_method_response(self, request_id: Any, status: int, payload: Any) -> None:
        """Answer the direct-method request ``request_id`` with ``status`` and the JSON ``payload``; raise on failure."""

    @abstractmethod
    def _close_transport(self) -> None:
        """Disconnect (called once, by :meth:`close`); a delivery blocked in the transport should end."""

    @abstractmethod
    def set_input_handler(self, handler: InputHandler) -> None:
        """Call ``handler`` for every message arriving on any input."""

    @abstractmethod
    def set_desired_handler(self, handler: DesiredHandler) -> None:
        """Call ``handler`` with each desired-properties patch (changed keys, ``$version``; ``None`` deletes)."""

    @abstractmethod
    def get_desired(self) -> dict[str, Any]:
        """The full desired-properties document of the module twin (with ``$version``); raises HubSendError."""


_Report = tuple[int, dict[str, Any]]  # (order of the report() call, patch)


def _merge_reports(waiting: _Report, new: _Report) -> _Report:
    """Two queued reports as one, the earlier applied first (a patch put back to be retried is the earlier)."""
    earlier, later = sorted((waiting, new), key=lambda report: report[0])
    return later[0], merge_patch(earlier[1], later[1])


def merge_patch(first: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    """One reported-properties patch with the effect of ``first`` followed by ``then`` (JSON merge patch:
    nested objects merge, ``None`` deletes). Known limit: a key deleted by ``first`` and set to an
    object by ``then`` merges into the hub's old object instead of replacing it."""
    merged = dict(first)
    for key, value in then.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_patch(document: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with a twin patch applied, as IoT Hub applies one: nested objects merge key by
    key, ``None`` deletes a key; a new dict (neither argument is changed)."""
    merged = dict(document)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            current = merged.get(key)
            merged[key] = apply_patch(current if isinstance(current, dict) else {}, value)
        else:
            merged[key] = value
    return merged


class HubSendError(RuntimeError):
    """A call to edgeHub failed (disconnected, timed out): raised by ``get_desired``, and by a transport's
    delivery methods (the outbox then retries)."""


def guarded(handler: Callable[[Any], None], what: str) -> Callable[[Any], None]:
    """Wrap a transport callback so an exception is logged instead of dropped by the SDK."""

    def call(arg: Any) -> None:
        try:
            handler(arg)
        except Exception:  # noqa: BLE001 - a handler must never kill the transport thread
            logger.exception("%s handler failed", what)

    return call


def connect(environ: Mapping[str, str] | None = None) -> Hub:
    """Open the transport this process was started with.

    Under the local runner (``LOCALEDGE_ADDRESS`` set) a :class:`LocalHub`; under
    IoT Edge (``IOTEDGE_*`` variables, or the SDK's ``EdgeHubConnectionString``
    development fallback) an :class:`AzureHub`. Raises HubUnavailableError otherwise,
    HubConfigurationError when the environment names a transport that cannot work (retrying cannot
    help), and ConnectionError subclasses when the transport is there but does not answer (yet).
    """
    env = os.environ if environ is None else environ
    if env.get("LOCALEDGE_ADDRESS"):
        from edgekit.local_hub import LocalHub

        return LocalHub.from_environment(env)
    if env.get("IOTEDGE_WORKLOADURI") or env.get("EdgeHubConnectionString"):
        from edgekit.azure_hub import AzureHub

        return AzureHub.from_environment()
    raise HubUnavailableError(
        "not running under IoT Edge or the local runner: deploy the module with a deployment "
        "manifest, or start the whole solution locally with `python -m localedge run`"
    )
