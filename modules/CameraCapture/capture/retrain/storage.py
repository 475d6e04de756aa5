"""Where captures go: Blob Storage (the Blob Storage on IoT Edge module, Azurite, or a cloud account) through the
azure-storage-blob SDK, or a folder in the same layout; each raises :class:`StorageError` (no secret in it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from capture.retrain.records import Capture
from edgekit.redact import redact

# Blob Storage on IoT Edge is consistent with the 2019-07-07 Blob REST API; the SDK's newest default is refused there.
BLOB_API_VERSION = "2019-07-07"
STORAGE_TIMEOUT_S = 10.0  # connect / read timeout of one storage request, s


class StorageError(RuntimeError):
    """Storage did not take a capture (unreachable, refused, disk full); the message holds no secret."""


class Storage(Protocol):
    """Where captures go: Blob Storage or a folder."""

    target: str  # what to show: the blob endpoint or folder, credentials masked

    def put(self, capture: Capture) -> None:
        """Store the JPEG, then the sidecar; raises StorageError."""


class BlobStorage:
    """Blob Storage (the Blob Storage on IoT Edge module, Azurite, or a cloud account) via azure-storage-blob.

    connection_string: the account's (a secret; never shown). Raises StorageError for one the SDK cannot parse.
    """

    def __init__(self, connection_string: str) -> None:
        # The SDK is imported only when captures go to Blob Storage: it keeps 16 MB resident in every
        # CameraCapture otherwise (issue 23, the four modules' memory).
        from azure.core.exceptions import AzureError, ResourceExistsError
        from azure.storage.blob import BlobServiceClient, ContentSettings

        self._content_settings = ContentSettings
        self._failed, self._exists = (AzureError, ValueError), ResourceExistsError
        try:
            self._client = BlobServiceClient.from_connection_string(
                connection_string, api_version=BLOB_API_VERSION, retry_total=0,
                connection_timeout=STORAGE_TIMEOUT_S, read_timeout=STORAGE_TIMEOUT_S)
        except (ValueError, AzureError) as exc:
            raise StorageError("CAPTURE_STORAGE_CONNECTION_STRING is not a storage connection string "
                               f"({redact(str(exc))[:120]})") from None
        self.target = redact(self._client.url.rstrip("/"))
        self._containers: set[str] = set()

    def put(self, capture: Capture) -> None:
        try:
            if capture.container not in self._containers:
                try:
                    self._client.create_container(capture.container)
                except self._exists:
                    pass
                self._containers.add(capture.container)
            container = self._client.get_container_client(capture.container)
            container.upload_blob(f"{capture.name}.jpg", capture.jpeg, overwrite=True,
                                  content_settings=self._content_settings(content_type="image/jpeg"))
            container.upload_blob(f"{capture.name}.json", capture.sidecar, overwrite=True,
                                  content_settings=self._content_settings(content_type="application/json"))
        except self._failed as exc:  # ValueError: a key that is not base64 fails when signing
            self._containers.discard(capture.container)
            raise StorageError(f"{self.target}: {type(exc).__name__}: {redact(str(exc).splitlines()[0] if str(exc) else '')[:160]}") from None


class FolderStorage:
    """Files under ``root`` in the blobs' layout: ``<root>/<container>/<group>/<time>-f<frame>.jpg`` and
    ``.json`` (each written whole, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.target = str(root)

    def put(self, capture: Capture) -> None:
        base = self.root / capture.container / capture.name  # both checked: no "..", no absolute path
        folder = base.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_whole(base.with_name(f"{base.name}.jpg"), capture.jpeg)
            write_whole(base.with_name(f"{base.name}.json"), capture.sidecar)
        except OSError as exc:
            raise StorageError(f"{folder}: {exc.strerror or exc}") from None


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name and rename it over ``path``: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

