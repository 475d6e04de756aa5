"""edgeHub transport over ``azure-iot-device``'s module client: the only importer of the SDK.

contract: Azure IoT Edge module <-> edgeHub over MQTT (see docs/iotedge.md); messages go out
with ``contentType=application/json`` and ``contentEncoding=utf-8`` so that routes and IoT Hub
message routing can query their bodies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from azure.iot.device import IoTHubModuleClient, Message

from edgekit.hub import JSON_CONTENT_TYPE, UTF8, DesiredHandler, Hub, HubSendError, InputHandler, InputMessage, guarded

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 15.0


class AzureHub(Hub):
    """A :class:`Hub` on an ``IoTHubModuleClient`` (sync API, SDK 2.x).

    Every blocking SDK call is bounded by a timeout so a lost edgeHub cannot stall the module.
    """

    def __init__(self, client: IoTHubModuleClient) -> None:
        self._client = client
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-call")
        self._closed = False

    @classmethod
    def from_environment(cls) -> AzureHub:
        """Create from the IoT Edge environment (or ``EdgeHubConnectionString``) and connect.

        Raises the SDK's ConnectionFailedError / ClientError subclasses when edgeHub cannot be reached.
        """
        client = IoTHubModuleClient.create_from_edge_environment()
        client.connect()
        return cls(client)

    @classmethod
    def from_connection_string(cls, connection_string: str, ca_certificate: str | None = None) -> AzureHub:
        """Create from a module connection string with ``GatewayHostName`` (development, tests) and connect."""
        client = IoTHubModuleClient.create_from_connection_string(
            connection_string, server_verification_cert=ca_certificate
        )
        client.connect()
        return cls(client)

    def _bounded(self, what: str, fn: Any, *args: Any) -> Any:
        future = self._calls.submit(fn, *args)
        try:
            return future.result(timeout=SEND_TIMEOUT_S)
        except FutureTimeout as exc:
            raise HubSendError(f"{what} timed out after {SEND_TIMEOUT_S:.0f} s: edgeHub is not answering") from exc
        except Exception as exc:  # noqa: BLE001 - the SDK raises many error types; callers see one
            raise HubSendError(f"{what} failed: {exc}") from exc

    def send(self, output: str, body: Mapping[str, Any], properties: Mapping[str, str] | None = None) -> None:
        message = Message(json.dumps(body), content_encoding=UTF8, content_type=JSON_CONTENT_TYPE)
        message.custom_properties.update(properties or {})
        self._bounded(f"send to output {output!r}", self._client.send_message_to_output, message, output)

    def set_input_handler(self, handler: InputHandler) -> None:
        def on_message(message: Message) -> None:
            data = message.data if isinstance(message.data, bytes) else str(message.data).encode(UTF8)
            handler(
                InputMessage(
                    input_name=message.input_name or "",
                    body=data,
                    properties=dict(message.custom_properties or {}),
                    content_type=message.content_type,
                )
            )

        self._client.on_message_received = guarded(on_message, "input")

    def set_desired_handler(self, handler: DesiredHandler) -> None:
        self._client.on_twin_desired_properties_patch_received = guarded(handler, "desired properties")

    def get_desired(self) -> dict[str, Any]:
        twin = self._bounded("get twin", self._client.get_twin)
        return dict(twin.get("desired", {}))

    def report(self, patch: Mapping[str, Any]) -> None:
        self._bounded("report properties", self._client.patch_twin_reported_properties, dict(patch))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._client.shutdown()
        except Exception:  # noqa: BLE001 - best effort on the way out
            logger.warning("module client did not shut down cleanly", exc_info=True)
        self._calls.shutdown(wait=False, cancel_futures=True)
