"""The IoT Edge transport (azure-iot-device's module client) against a real MQTT broker standing in for edgeHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import pytest

from conftest import ROOT, wait_for
from edgehub_standin import EdgeHubStandIn
from edgekit.azure_hub import AzureHub
from edgekit.hub import InputMessage


@pytest.fixture()
def edgehub(tmp_path: Path) -> Iterator[EdgeHubStandIn]:
    standin = EdgeHubStandIn(tmp_path, "CameraCapture")
    yield standin
    standin.close()


@pytest.fixture()
def hub(edgehub: EdgeHubStandIn) -> Iterator[AzureHub]:
    hub = AzureHub.from_connection_string(edgehub.connection_string, edgehub.ca.read_text())
    yield hub
    hub.close()


def test_send_to_output_carries_output_name_content_type_and_properties(edgehub: EdgeHubStandIn, hub: AzureHub) -> None:
    hub.send("classification", {"tagName": "Apple", "probability": 0.99}, {"tagName": "Apple"})
    topic, payload = edgehub.events.get(timeout=10)
    assert topic.startswith("devices/dev1/modules/CameraCapture/messages/events/")
    props = dict(parse_qsl(unquote(topic.rsplit("/", 1)[1])))
    assert props["$.on"] == "classification"
    assert props["$.ct"] == "application/json" and props["$.ce"] == "utf-8"
    assert props["tagName"] == "Apple"
    assert len(props["$.mid"]) == 32  # a unique message id, for receivers to recognise a duplicate
    assert json.loads(payload) == {"tagName": "Apple", "probability": 0.99}


def test_inputs_twin_and_reported_properties(edgehub: EdgeHubStandIn, hub: AzureHub) -> None:
    received: list[InputMessage] = []
    hub.set_input_handler(received.append)
    wait_for(lambda: (edgehub.send_input("classification", {"tagName": "Banana"}, {"tagName": "Banana"}), received)[1], 10)
    assert received[0].input_name == "classification" and received[0].json() == {"tagName": "Banana"}
    assert received[0].properties["tagName"] == "Banana"

    edgehub.desired.update({"frameRate": 5})
    assert hub.get_desired()["frameRate"] == 5

    patches: list[dict] = []
    hub.set_desired_handler(patches.append)
    # a patch published before the SDK has subscribed reaches nobody (as on edgeHub): send it until one arrives
    wait_for(lambda: (edgehub.patch_desired({"threshold": 0.8}), patches)[1], 10)
    assert patches[0]["threshold"] == 0.8

    hub.report({"settings": {"frameRate": 5}})  # returns at once; delivered by the hub's worker
    assert hub.flush(10)
    assert edgehub.reported == [{"settings": {"frameRate": 5}}]


def test_a_module_process_runs_on_the_sdk_through_edge_environment(tmp_path: Path) -> None:
    """SenseHatDisplay's main.py, connected by the SDK's EdgeHubConnectionString fallback, shows an input."""
    edgehub = EdgeHubStandIn(tmp_path, "SenseHatDisplay")
    edgehub.desired.update({"rotation": 90})
    env = {**os.environ, "EdgeHubConnectionString": edgehub.connection_string,
           "EdgeModuleCACertificateFile": str(edgehub.ca), "DISPLAY_SNAPSHOT_DIR": str(tmp_path / "shots"),
           "BACKEND": "emulator", "PYTHONPATH": str(ROOT), "METRICS_PORT": "0"}
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "SenseHatDisplay" / "main.py")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        reported = wait_for(lambda: [r for r in edgehub.reported if "display" in r], 20)
        assert reported[0]["display"]["backend"] == "emulator"
        settings = next(r["settings"] for r in edgehub.reported if "settings" in r)
        assert settings["rotation"] == 90  # desired property applied at start-up
        message = {"schemaVersion": 1, "tagName": "Apple", "probability": 0.9, "predictions": [],
                   "captureTime": "2026-11-20T10:00:00Z", "frameNumber": 3, "source": "test"}
        shot = tmp_path / "shots" / "0002-Apple.png"
        wait_for(lambda: (edgehub.send_input("classification", message), shot.is_file())[1], 20)
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0].decode()
        edgehub.close()
    assert process.returncode == 0, output
    assert "received SIGTERM, stopping" in output
