"""Captures for retraining, for real: CameraCapture's pipeline on the fruit clip, a real classifier, real
Azurite read back with the azure-storage-blob SDK, and a real outage (Azurite stopped and started again)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from prometheus_client import CollectorRegistry, generate_latest

from azurite_fixture import azurite_server, read_blobs  # noqa: F401 - azurite_server: the azurite fixture
from capture.retrain.records import CaptureRecord, group_for, model_info, read_sidecar, tag_slug
from capture.retrain.writer import Captures
from capture.settings import CaptureSettings
from capture_harness import CameraHarness, ClassifierServer, serving
from classifier.export import CustomVisionModel, load
from conftest import FIXTURES, MODELS, ROOT, wait_for
from edgekit.settings import SettingsError, build
import localedge.runner.azurite as azurite_module
from localedge.runner.azurite import Azurite, AzuriteUnavailable
from localedge.runner.ports import free_port

CLIP = FIXTURES / "video" / "fruit.mp4"  # 7 segments of 20 frames at 10 fps
SEGMENT_FRAMES = 20
# The 4-class model on the clip at threshold 0.5: best probability per segment (measured; stable to 0.01 within each):
# apple1 0.64-0.70 (Apple), banana1 1.00, backpod 0.001, apple2 0.92, banana2 1.00, apple3 0.29 (Orange), banana3 0.94.
IN_BAND = {0: ("Apple", "Apple"), 5: ("Orange", None)}  # segment -> (best tag, tag at threshold), band 0.5 +- 0.25
TAGS = ["Apple", "Banana", None, "Apple", "Banana", None, "Banana"]  # the changes sent upstream, in order


@pytest.fixture(scope="module")
def model() -> CustomVisionModel:
    return load(MODELS / "fruits")


@pytest.fixture()
def classifier(model: CustomVisionModel) -> Iterator[ClassifierServer]:
    with serving(model) as server:
        yield server


@pytest.fixture()
def run_clip(tmp_path: Path, classifier: ClassifierServer) -> Iterator[Any]:
    made: list[CameraHarness] = []

    def start(env: dict[str, str]) -> CameraHarness:
        run = tmp_path / f"run{len(made)}"  # its own upstream.jsonl
        run.mkdir()
        made.append(CameraHarness(run, {
            # the scene gate off: every sample classified (5 a second), so that the capture modes see ~70 frames
            "VIDEO_PATH": str(CLIP), "FRAME_RATE": "5", "SCENE_CHANGE_THRESHOLD": "0", "THRESHOLD": "0.5", "REPORT_INTERVAL_S": "1",
            "IMAGE_PROCESSING_ENDPOINT": classifier.url, "CAPTURE_DIR": str(tmp_path / "captures"), **env}))
        return made[-1]

    yield start
    for harness in made:
        if not harness.stop.is_set():  # not closed by the test already
            harness.close()


def status(harness: CameraHarness) -> dict[str, Any]:
    return harness.pipeline.captures.status()


def finish(harness: CameraHarness) -> dict[str, Any]:
    """Wait for the clip's last change upstream, then for the writer to store everything; the final counters."""
    wait_for(lambda: len(harness.tags()) >= len(TAGS), 60)
    assert harness.tags() == TAGS
    assert harness.pipeline.captures.wait_idle(60)
    return status(harness)


def records(blobs: dict[str, dict[str, bytes]]) -> list[tuple[str, CaptureRecord, bytes]]:
    """(container, sidecar, JPEG) of every capture, in capture order; every sidecar has its JPEG and vice versa
    (``blobs``: {container: {blob name, group included: content}})."""
    found = []
    for container, named in blobs.items():
        assert sorted(n[:-5] for n in named if n.endswith(".json")) == sorted(n[:-4] for n in named if n.endswith(".jpg"))
        for name, data in named.items():
            if name.endswith(".json"):
                record = read_sidecar(data)
                assert record.image == name[:-5] + ".jpg"
                found.append((container, record, named[record.image]))
    return sorted(found, key=lambda item: item[1].capturedAt)


def folder_blobs(root: Path) -> dict[str, dict[str, bytes]]:
    """CAPTURE_DIR as blobs: {container folder: {path under it: content}}; the spool (``.spool``) left out."""
    return {c.name: {f.relative_to(c).as_posix(): f.read_bytes() for f in c.rglob("*") if f.is_file()}
            for c in root.iterdir() if c.is_dir() and not c.name.startswith(".")}


def group(record: CaptureRecord) -> str:
    """The blob-name group of a capture: ``20261130`` or a tag slug."""
    return record.image.split("/")[0]


def test_uncertain_mode_puts_exactly_the_in_band_frames_of_the_fruit_clip_in_azurite(
        run_clip: Any, classifier: ClassifierServer, azurite: Azurite) -> None:
    harness = run_clip({"CAPTURE_MODE": "uncertain", "CAPTURE_BAND": "0.25",
                        "CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string})
    final = finish(harness)
    assert final["captured"] == final["uploaded"] == 2 and final["spooled"] == final["failures"] == 0
    assert final["storage"] == "blob" and final["target"] == azurite.blob_endpoint and final["skippedSameScene"] > 0

    blobs = read_blobs(azurite)
    assert list(blobs) == ["captures"]  # ONE container, the one the blob module uploads (CAPTURE_CONTAINER's default)
    captures = records(blobs)
    assert [record.frameNumber // SEGMENT_FRAMES for _, record, _ in captures] == sorted(IN_BAND)  # one per still scene
    served_sha256 = hashlib.sha256((MODELS / "fruits" / "model.onnx").read_bytes()).hexdigest()  # the model file served
    http = urllib3.PoolManager()
    for _, record, jpeg in captures:
        best, tag = IN_BAND[record.frameNumber // SEGMENT_FRAMES]
        assert (record.reason, record.bestTag, record.tagName, record.threshold, record.band) == ("uncertain", best, tag, 0.5, 0.25)
        assert abs(record.probability - 0.5) <= 0.25 and record.source == str(CLIP)
        assert group(record) == group_for("day", None, record.capturedAt) == record.capturedAt.strftime("%Y%m%d")
        assert record.image.startswith(record.capturedAt.strftime("%Y%m%d/%Y%m%dT%H%M%S"))  # captures/<day>/<time>...
        again = http.request("POST", classifier.url, body=jpeg)  # the JPEG is the frame exactly as classified
        assert [(p["tagName"], round(p["probability"], 6)) for p in again.json()["predictions"]] == [
            (p.tagName, round(p.probability, 6)) for p in record.predictions]
        assert record.modelSha256 == served_sha256 == classifier.model.info.sha256  # the model that answered
        assert record.modelFlavour == classifier.model.info.flavour == model_info(again.headers).flavour
    reported = wait_for(lambda: harness.reported("capture").get("captures", {}).get("uploaded") == 2
                        and harness.reported("capture")["captures"], 10)
    assert reported["mode"] == "uncertain" and "AccountKey" not in json.dumps(harness.bus.reported["CameraCapture"])


def test_changes_mode_keeps_one_capture_per_tag_change_in_a_folder_per_tag_without_storage(
        run_clip: Any, tmp_path: Path) -> None:
    harness = run_clip({"CAPTURE_MODE": "changes", "CAPTURE_GROUP_BY": "tag", "CAPTURE_CONTAINER": "retrain-frames"})
    final = finish(harness)
    assert final["storage"] == "folder" and final["captured"] == final["uploaded"] == len(TAGS)
    assert final["container"] == "retrain-frames"
    blobs = folder_blobs(tmp_path / "captures")  # CAPTURE_DIR/<container>/<tag>/<name>.jpg and .json
    assert list(blobs) == ["retrain-frames"]
    captures = records(blobs)
    assert [record.tagName for _, record, _ in captures] == TAGS  # the same changes the module sent upstream
    assert all(record.reason == "change" for _, record, _ in captures)
    assert [group(r) for _, r, _ in captures] == [tag_slug(r.tagName or r.bestTag) for _, r, _ in captures]


def test_per_tag_quota_holds_and_a_live_rate_limit_change_applies(run_clip: Any, azurite: Azurite) -> None:
    harness = run_clip({"CAPTURE_MODE": "sample", "CAPTURE_FRACTION": "1", "CAPTURE_SCENE_CHANGE": "0",
                        "CAPTURE_QUOTA": "3", "CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string})
    final = finish(harness)
    captures = records(read_blobs(azurite))
    assert Counter(record.bestTag for _, record, _ in captures) == {"Apple": 3, "Banana": 3, "Orange": 3}
    assert final["captured"] == final["uploaded"] == 9 and final["droppedByQuota"] > 20  # ~70 frames classified

    harness.close()
    harness = run_clip({"CAPTURE_MODE": "sample", "CAPTURE_FRACTION": "1", "CAPTURE_SCENE_CHANGE": "0",
                        "CAPTURE_MAX_PER_HOUR": "2", "CAPTURE_GROUP_BY": "tag",
                        "CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string})
    wait_for(lambda: status(harness)["droppedByRate"] >= 3, 30)
    assert status(harness)["captured"] == 2
    harness.bus.patch_desired("CameraCapture", {"captureMaxPerHour": 5})
    wait_for(lambda: status(harness)["captured"] == 5, 20)
    dropped = status(harness)["droppedByRate"]
    wait_for(lambda: status(harness)["droppedByRate"] >= dropped + 5, 20)  # a second of frames later
    assert harness.pipeline.captures.wait_idle(20)
    final = status(harness)
    assert final["captured"] == final["uploaded"] == 5  # the new limit holds too
    blobs = read_blobs(azurite)
    assert list(blobs) == ["captures"] and len(blobs["captures"]) == 2 * (9 + 5)  # both runs, one container
    assert sum(1 for _, r, _ in records(blobs) if group(r) == tag_slug(r.tagName or r.bestTag)) == 5  # the 2nd run's
    assert sum(1 for _, r, _ in records(blobs) if group(r) == r.capturedAt.strftime("%Y%m%d")) == 9  # the 1st run's


def test_captures_turned_on_live_go_to_blob_storage_which_is_opened_only_then(run_clip: Any, azurite: Azurite) -> None:
    harness = run_clip({"CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string})  # CAPTURE_MODE off: the default
    wait_for(lambda: len(harness.tags()) >= 2, 60)  # frames classified, none captured
    before = status(harness)
    assert (before["mode"], before["storage"], before["target"], before["captured"]) == ("off", "blob", "", 0)
    harness.bus.patch_desired("CameraCapture", {"captureMode": "sample", "captureFraction": 1, "captureSceneChange": 0,
                                                "captureQuota": 2})
    final = finish(harness)
    assert final["captured"] == final["uploaded"] >= 2 and final["failures"] == 0
    assert final["target"] == azurite.blob_endpoint and final["storageError"] == ""
    assert len(records(read_blobs(azurite))) == final["uploaded"]


def test_a_camera_capture_that_does_not_capture_does_not_load_the_blob_sdk(tmp_path: Path) -> None:
    script = ("import sys\n"
              "from capture.retrain.writer import Captures\n"
              "from capture.settings import CaptureSettings\n"
              "from edgekit.settings import build\n"
              "settings = {'capture_storage_connection_string': 'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;"
              "BlobEndpoint=http://127.0.0.1:1/a', 'capture_dir': sys.argv[1]}\n"
              "Captures(build(CaptureSettings, settings))\n"
              "off = 'azure.storage.blob' in sys.modules\n"
              "Captures(build(CaptureSettings, {**settings, 'capture_mode': 'uncertain'}))\n"
              "print(off, 'azure.storage.blob' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "modules" / "CameraCapture"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_storage_outage_spools_and_the_spool_is_uploaded_when_azurite_is_back(run_clip: Any, azurite: Azurite) -> None:
    harness = run_clip({"CAPTURE_MODE": "sample", "CAPTURE_FRACTION": "1", "CAPTURE_SCENE_CHANGE": "0",
                        "CAPTURE_MAX_PER_HOUR": "3600", "CAPTURE_QUOTA": "1000",
                        "CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string})
    wait_for(lambda: status(harness)["uploaded"] >= 3, 30)
    azurite.stop()
    during = wait_for(lambda: status(harness)["spoolFiles"] >= 5 and status(harness), 20)
    assert during["failures"] >= 1 and "ServiceRequestError" in during["storageError"]
    reported = wait_for(lambda: harness.reported("capture").get("captures", {}).get("spoolFiles", 0) > 0
                        and harness.reported("capture")["captures"], 10)
    assert reported["storageError"] and "AccountKey" not in reported["storageError"]
    azurite.start()
    final = finish(harness)
    assert final["spoolFiles"] == 0 and final["spooled"] >= 5 and final["storageError"] == ""
    assert final["droppedSpoolFull"] == final["droppedQueueFull"] == 0
    assert final["uploaded"] == final["captured"] > 20  # nothing lost (~70 frames classified)
    captures = records(read_blobs(azurite))
    assert len(captures) == final["captured"] and len({r.frameNumber for _, r, _ in captures}) == len(captures)


def test_the_spool_is_bounded_drops_are_counted_and_it_is_uploaded_after_a_restart(
        run_clip: Any, tmp_path: Path, azurite: Azurite) -> None:
    azurite.stop()  # storage down from the start
    spool = tmp_path / "spool"
    env = {"CAPTURE_MODE": "sample", "CAPTURE_FRACTION": "1", "CAPTURE_SCENE_CHANGE": "0", "CAPTURE_QUOTA": "1000",
           "CAPTURE_MAX_PER_HOUR": "3600", "CAPTURE_SPOOL_DIR": str(spool), "CAPTURE_SPOOL_MAX_MB": "1",
           "CAPTURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    harness = run_clip(env)
    wait_for(lambda: status(harness)["droppedSpoolFull"] >= 3, 60)
    harness.close()  # the module stops: what was still queued is spooled or counted, not lost silently
    final = status(harness)
    on_disk = sorted(spool.iterdir())
    assert final["droppedSpoolFull"] > 0 and final["uploaded"] == 0
    assert final["spooled"] + final["droppedSpoolFull"] == final["captured"]
    assert sum(f.stat().st_size for f in on_disk) == final["spoolBytes"] <= 1024 * 1024
    assert len(on_disk) == 2 * final["spoolFiles"] == 2 * final["spooled"]
    registry = CollectorRegistry()
    registry.register(harness.pipeline.captures.collector())
    metrics = generate_latest(registry).decode()
    assert f'cameracapture_captures_dropped_total{{reason="spool_full"}} {float(final["droppedSpoolFull"])}' in metrics
    assert f"cameracapture_captures_spool_files {float(final['spoolFiles'])}" in metrics

    azurite.start()  # the module restarts with storage back: the spool left on disk is uploaded
    restarted = Captures(build(CaptureSettings, {k.lower(): v for k, v in env.items()}))
    restarted.start()
    try:
        assert restarted.wait_idle(60)
        assert restarted.status()["uploaded"] == final["spooled"] and not list(spool.iterdir())
    finally:
        restarted.close()
    assert len(records(read_blobs(azurite))) == final["spooled"]


def test_bad_capture_settings_are_refused_with_reasons_and_the_last_good_ones_kept(run_clip: Any) -> None:
    harness = run_clip({"CAPTURE_MODE": "changes"})
    harness.bus.patch_desired("CameraCapture", {
        "captureMode": "always", "captureBand": 0.9, "captureMaxPerHour": 0, "captureQuota": "5",
        "captureGroupBy": "month", "captureFraction": -0.1, "captureStorageConnectionString": "AccountKey=abc",
        "captureSpoolMaxMb": 5, "captureContainer": "other"})
    refused = wait_for(lambda: harness.reported("desiredStatus").get("status") == "refused"
                       and harness.reported("desiredStatus")["refused"], 10)
    for key in ("captureMode", "captureBand", "captureMaxPerHour", "captureQuota", "captureGroupBy",
                "captureFraction", "captureStorageConnectionString", "captureSpoolMaxMb", "captureContainer"):
        assert key in refused
    assert "abc" not in refused and "CAPTURE_STORAGE_CONNECTION_STRING" in refused
    current = harness.store.current
    assert (current.capture_mode, current.capture_band, current.capture_max_per_hour) == ("changes", 0.15, 60)
    harness.bus.patch_desired("CameraCapture", {"captureMode": "uncertain", "captureBand": 0.3})
    wait_for(lambda: harness.store.current.capture_mode == "uncertain" and harness.store.current.capture_band == 0.3, 10)


@pytest.mark.parametrize("name", ["Captures", "ab", "my_captures", "two--hyphens", "-captures", "captures-", "c" * 64])
def test_a_capture_container_that_is_no_azure_container_name_is_refused(name: str) -> None:
    with pytest.raises(SettingsError) as refused:
        build(CaptureSettings, {"capture_container": name})
    assert list(refused.value.problems) == ["captureContainer"]
    assert build(CaptureSettings, {"capture_container": "checkout-01"}).capture_container == "checkout-01"


def test_model_headers_are_taken_only_when_well_formed() -> None:
    sha = "ab" * 32
    assert asdict(model_info({"x-model-sha256": sha.upper(), "X-Model-Flavour": "ONNX (tf2onnx)"})) == {
        "sha256": sha, "flavour": "ONNX (tf2onnx)"}
    assert asdict(model_info({"X-Model-Sha256": "not-a-hash", "X-Model-Flavour": "x" * 100})) == {
        "sha256": None, "flavour": None}


def test_azurite_says_in_one_line_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(AzuriteUnavailable) as missing:
        Azurite(tmp_path, "captures", key, binary=tmp_path / "azurite-blob").start()
    assert "make azurite" in str(missing.value) and "\n" not in str(missing.value)
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without Node.js
    with pytest.raises(AzuriteUnavailable, match="^Node.js is not installed"):
        Azurite(tmp_path, "captures", key).start()
    with pytest.raises(ValueError, match="3-24 lowercase"):
        Azurite(tmp_path, "Captures_1", key)
    with pytest.raises(ValueError, match="base64"):
        Azurite(tmp_path, "captures", "not base64!")


def test_azurite_takes_another_free_port_when_its_first_is_taken_before_it_binds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:  # a port another process took between the runner's pick and Azurite's bind
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        picks = iter([taken.getsockname()[1]])
        monkeypatch.setattr(azurite_module, "free_port", lambda host: next(picks, None) or free_port(host))
        server = Azurite(tmp_path / "azurite", "captures", base64.b64encode(b"k" * 32).decode())
        server.start()
        try:
            assert server.running and server.port not in (0, taken.getsockname()[1])
            assert read_blobs(server) == {}  # and it answers there
        finally:
            server.stop()


def test_the_runners_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
