"""Azurite for tests: a real Blob API on a free loopback port (localedge.runner.azurite), read back with the SDK.

``from azurite_fixture import azurite_server, read_blobs`` in a test module makes the ``azurite`` fixture (``azurite_server``)
available there (a fresh Azurite per test; the test fails with the one-line reason when Node.js or
Azurite is missing: `make azurite` installs it).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from localedge.runner.azurite import Azurite

ACCOUNT = "edgecaptures"


@pytest.fixture(name="azurite")
def azurite_server(tmp_path: Path) -> Iterator[Azurite]:
    """A started Azurite with one account (a random key), its data under the test's tmp_path; stopped after."""
    server = Azurite(tmp_path / "azurite", ACCOUNT, base64.b64encode(secrets.token_bytes(32)).decode())
    server.start()
    yield server
    server.stop()


def read_blobs(server: Azurite) -> dict[str, dict[str, bytes]]:
    """Every blob of every container: {container: {blob name (group included, e.g. ``20261130/x.jpg``): content}}."""
    client = BlobServiceClient.from_connection_string(server.connection_string, retry_total=0)
    found: dict[str, dict[str, bytes]] = {}
    for container in client.list_containers():
        blobs = client.get_container_client(container.name)
        found[container.name] = {b.name: blobs.download_blob(b.name).readall() for b in blobs.list_blobs()}
    return found
