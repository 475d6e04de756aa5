"""edgeHub transport over ``azure-iot-device``'s module client: the only importer of the SDK.

contract: Azure IoT Edge module <-> edgeHub over MQTT (see docs/iotedge.md); messages go out
with ``contentType=application/json`` and ``contentEncoding=utf-8`` so that routes and IoT Hub
message routing can query their bodies. Direct methods arrive through the SDK's
``on_method_request_received`` and are answered with ``MethodResponse.create_from_method_request``
and ``send_method_response`` (see :mod:`edgekit.methods`).

How the SDK (2.14, ``connection_retry`` on, the default) behaves when edgeHub goes away, measured
against mosquitto (tests/test_outage.py): a send or reported patch made while disconnected raises
``ConnectionFailedError`` at once (the call tries one connection itself); one in flight when the
connection drops is kept by paho and published again when the SDK reconnects (every 10 s), and the
call blocks until then. So a message delivery is never abandoned on a timeout here (that would send
it twice) and a failure that was raised can be retried, as a rule without duplicating the message: a
send racing the disconnection itself can be kept by paho for the reconnection while the SDK reports it
failed (NoConnectionError), and then arrives twice, with the same message id (``$.mid``). Twin
requests differ: one whose answer is lost with the connection stays pending in the SDK for good, so
they are bounded by TWIN_TIMEOUT_S and retried (a reported patch applied twice does no harm).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from azure.iot.device import IoTHubModuleClient, Message, MethodRequest, MethodResponse
from azure.iot.device.exceptions import CredentialError

from edgekit.hub import (
    JSON_CONTENT_TYPE,
    OUTBOX_CAPACITY,
    UTF8,
    DesiredHandler,
    Hub,
    HubConfigurationError,
    HubSendError,
    InputHandler,
    InputMessage,
    OutputMessage,
    guarded,
)

logger = logging.getLogger(__name__)

TWIN_TIMEOUT_S = 15.0  # longest wait for a twin request (get twin, reported patch) to be answered


class AzureHub(Hub):
    """A :class:`Hub` on an ``IoTHubModuleClient`` (sync API, SDK 2.x), not yet connected (see :meth:`connect`).

    Connection state changes are logged once each (connected, lost, reconnected), from the SDK's
    ``on_connection_state_change`` handler; the SDK reconnects by itself.
    """

    def __init__(self, client: IoTHubModuleClient, outbox_capacity: int = OUTBOX_CAPACITY) -> None:
        super().__init__(outbox_capacity)
        self._client = client
        self._connected_once = False
        self._was_connected = False
        # The SDK calls this handler without arguments; its annotation says one (None).
        client.on_connection_state_change = self._on_connection_state_change  # type: ignore[assignment]

    @classmethod
    def from_environment(cls) -> AzureHub:
        """Create from the IoT Edge environment (or ``EdgeHubConnectionString``) and connect.

        Raises HubConfigurationError when the environment is incomplete or invalid or edgeHub refuses
        the module (retrying cannot help), ConnectionError when edgeHub or the workload API does not
        answer (yet).
        """
        try:
            client = IoTHubModuleClient.create_from_edge_environment()
        except OSError as exc:
            if isinstance(exc.__cause__, KeyError):
                raise HubConfigurationError(
                    "the IoT Edge environment is incomplete: IoT Edge sets the IOTEDGE_* variables; outside it set "
                    "EdgeHubConnectionString (with GatewayHostName) and EdgeModuleCACertificateFile") from exc
            if isinstance(exc, FileNotFoundError):
                raise HubConfigurationError(f"EdgeModuleCACertificateFile names no file: {exc.filename}") from exc
            raise ConnectionError(f"the IoT Edge workload API did not answer: {exc}") from exc
        except ValueError as exc:
            raise HubConfigurationError(f"the IoT Edge environment is invalid: {exc} (EdgeHubConnectionString needs "
                                        "HostName, DeviceId, ModuleId, SharedAccessKey and GatewayHostName)") from exc
        return cls(client).connect()

    @classmethod
    def from_connection_string(cls, connection_string: str, ca_certificate: str | None = None,
                               outbox_capacity: int = OUTBOX_CAPACITY) -> AzureHub:
        """Create from a module connection string with ``GatewayHostName`` (development, tests) and connect.

        Raises HubConfigurationError for a malformed connection string or refused credentials,
        ConnectionError when edgeHub does not answer.
        """
        try:
            client = IoTHubModuleClient.create_from_connection_string(
                connection_string, server_verification_cert=ca_certificate)
        except ValueError as exc:
            raise HubConfigurationError(f"the module connection string is invalid: {exc}") from exc
        return cls(client, outbox_capacity).connect()

    def connect(self) -> AzureHub:
        """Connect once (the SDK reconnects by itself afterwards); on failure the hub is closed and:

        HubConfigurationError when edgeHub refuses the credentials or its certificate is not trusted,
        ConnectionError when it does not answer.
        """
        try:
            self._client.connect()
        except Exception as exc:  # noqa: BLE001 - sorted into the two errors callers act on
            self.close(grace_s=0)
            if isinstance(exc, CredentialError):
                raise HubConfigurationError("edgeHub refused this module's credentials (not authorized): check the "
                                            "module identity or SharedAccessKey") from exc
            if _caused_by(exc, ssl.SSLCertVerificationError):
                raise HubConfigurationError("edgeHub's TLS certificate is not trusted: check the CA certificate "
                                            "(EdgeModuleCACertificateFile) and the gateway host name") from exc
            raise ConnectionError(f"edgeHub does not answer: {exc}") from exc
        return self

    def _on_connection_state_change(self) -> None:
        try:
            self._log_state()
        except Exception:  # noqa: BLE001 - a handler must never kill the SDK's thread
            logger.exception("connection state handler failed")

    def _log_state(self) -> None:
        connected = bool(self._client.connected)
        if connected == self._was_connected or self._closing.is_set():
            return
        self._was_connected = connected
        if not connected:
            logger.warning("lost the connection to edgeHub; messages are held until it is back")
        elif self._connected_once:
            logger.info("reconnected to edgeHub")
        else:
            self._connected_once = True
            logger.info("connected to edgeHub")

    def _bounded(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on its own thread, waited for at most TWIN_TIMEOUT_S; raises HubSendError.

        A thread per call, not a pool: a twin request whose answer was lost in an outage stays pending
        in the SDK until shutdown, and must not hold up the calls after it.
        """
        future: Future[Any] = Future()

        def call() -> None:
            try:
                future.set_result(fn(*args))
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        threading.Thread(target=call, name="hub-call", daemon=True).start()
        try:
            return future.result(timeout=TWIN_TIMEOUT_S)
        except FutureTimeout as exc:
            raise HubSendError(f"{what} timed out after {TWIN_TIMEOUT_S:.0f} s: edgeHub is not answering") from exc
        except Exception as exc:  # noqa: BLE001 - the SDK raises many error types; callers see one
            raise HubSendError(f"{what} failed: {type(exc).__name__}: {exc}") from exc

    def _deliver(self, message: OutputMessage) -> None:
        sdk_message = Message(message.body, message_id=message.message_id, content_encoding=UTF8,
                              content_type=JSON_CONTENT_TYPE)
        sdk_message.custom_properties.update(message.properties)
        self._client.send_message_to_output(sdk_message, message.output)  # no timeout: see the module docstring

    def _deliver_report(self, patch: dict[str, Any]) -> None:
        if not self._client.connected:  # connect first: a twin call would make the SDK warn at every attempt
            self._client.connect()
        # bounded, unlike messages: a patch sent twice does no harm, a report worker stuck for good would
        self._bounded("report properties", self._client.patch_twin_reported_properties, patch)

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

    def _subscribe_methods(self) -> None:
        def on_method(request: MethodRequest) -> None:
            self._method_requested(request, str(request.name), request.payload)

        # Setting the handler makes the SDK subscribe to $iothub/methods/POST/# (once; later calls replace it).
        self._client.on_method_request_received = guarded(on_method, "direct method")

    def _send_method_response(self, request_id: Any, status: int, payload: Any) -> None:
        assert isinstance(request_id, MethodRequest)
        response = MethodResponse.create_from_method_request(request_id, status, payload)
        # bounded: an answer the SDK cannot send in an outage is given up (the caller has timed out by then)
        self._bounded(f"answer to direct method {request_id.name}", self._client.send_method_response, response)

    def get_desired(self) -> dict[str, Any]:
        twin = self._bounded("get twin", self._client.get_twin)
        return dict(twin.get("desired", {}))

    def _close_transport(self) -> None:
        try:
            self._client.shutdown()
        except Exception:  # noqa: BLE001 - best effort on the way out
            logger.warning("module client did not shut down cleanly", exc_info=True)


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    """True when ``exc`` or an exception in its ``__cause__``/``__context__`` chain is a ``kind``."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
