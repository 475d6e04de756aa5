"""The one interface every module uses to talk to edgeHub.

A module sends to an *output*, handles messages arriving on an *input*, reads its
module twin's desired properties and reports properties. Two transports implement
it: :class:`edgekit.azure_hub.AzureHub` (``azure-iot-device``'s module client,
under IoT Edge) and :class:`edgekit.local_hub.LocalHub` (the local runner,
``python -m localedge run``). Nothing else in the project talks to a transport.
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
UTF8 = "utf-8"


class HubUnavailableError(RuntimeError):
    """Raised when no transport to edgeHub can be set up from the environment."""


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


class Hub(ABC):
    """A module's connection to edgeHub (or to the local runner standing in for it).

    Handlers are called on the transport's own threads: they must hand work over
    quickly (a queue) and not block. Exceptions they raise are logged, never
    propagated into the transport.
    """

    @abstractmethod
    def send(self, output: str, body: Mapping[str, Any], properties: Mapping[str, str] | None = None) -> None:
        """Send ``body`` as a JSON message (contentType application/json, utf-8) on ``output``.

        properties: application properties, which routes can test in ``WHERE``.
        Raises HubSendError when the transport refuses or times out.
        """

    @abstractmethod
    def set_input_handler(self, handler: InputHandler) -> None:
        """Call ``handler`` for every message arriving on any input."""

    @abstractmethod
    def set_desired_handler(self, handler: DesiredHandler) -> None:
        """Call ``handler`` with each desired-properties patch (changed keys, ``$version``; ``None`` deletes)."""

    @abstractmethod
    def get_desired(self) -> dict[str, Any]:
        """The full desired-properties document of the module twin (with ``$version``)."""

    @abstractmethod
    def report(self, patch: Mapping[str, Any]) -> None:
        """Patch the module twin's reported properties (merged by the hub; ``None`` deletes a key)."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect; safe to call twice."""


class HubSendError(RuntimeError):
    """A message could not be handed to edgeHub (disconnected, timed out)."""


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
    and ConnectionError subclasses when the transport is there but does not answer.
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
