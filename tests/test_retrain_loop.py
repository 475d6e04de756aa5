"""The retraining loop under the local runner, end to end: `python -m localedge run` on the fruit clip with
the deployment template as shipped, Azurite started by the runner in place of Blob Storage on IoT Edge,
CameraCapture writing with the azure-storage-blob SDK, and the captures read back with the SDK."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from azure.storage.blob import BlobServiceClient

from conftest import FIXTURES, MODELS, ROOT, ask_runner, run_localedge, run_until, wait_for
from localedge.deploy.manifest import read_template
from localedge.runner.azurite import Azurite
from localedge.runner.standins import blob_account_defaults

CLIP = FIXTURES / "video" / "fruit.mp4"  # 7 segments of 20 frames at 10 fps
MODEL = MODELS / "fruits"  # at threshold 0.5 only segments 0 (Apple 0.64-0.70) and 5 (Orange 0.29) fall in 0.5 +- 0.25
ACCOUNT = "loopcaptures"


@pytest.fixture()
def loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A state folder for the runner and an .env with the blob module's account (a random key)."""
    monkeypatch.setenv("LOCALEDGE_STATE_DIR", str(tmp_path / "state"))
    key = base64.b64encode(os.urandom(64)).decode()
    env = tmp_path / ".env"
    env.write_text(f"BLOB_ACCOUNT_NAME={ACCOUNT}\nBLOB_ACCOUNT_KEY={key}\n")
    return {"env": env, "key": key, "state": tmp_path / "state", "tmp": tmp_path}


def _args(loop: dict[str, Any], *sets: str) -> list[str]:
    args = ["run", "--env-file", str(loop["env"]), "--upstream", str(loop["tmp"] / "upstream.jsonl")]
    for item in (f"ImageClassifierService.MODEL_DIR={MODEL}", f"CameraCapture.VIDEO_PATH={CLIP}",
                 "CameraCapture.LOOP_VIDEO=false", "CameraCapture.FRAME_RATE=5", "CameraCapture.THRESHOLD=0.5",
                 "CameraCapture.REPORT_INTERVAL_S=1", f"TextToSpeech.AUDIO_OUTPUT_DIR={loop['tmp'] / 'audio'}",
                 f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={loop['tmp'] / 'display'}", *sets):
        args += ["--set", item]
    return args


def _captures(loop: dict[str, Any]) -> list[tuple[dict[str, Any], bytes]]:
    """(sidecar, JPEG) of every capture in the blob module's container, read with the SDK from an Azurite
    started on the runner's volume folder for the module (the runner's own Azurite stopped with it)."""
    folder = loop["state"] / "volumes" / "blobstorage" / "blobstorage-data"
    assert folder.is_dir(), "the runner kept no data for the blob module"
    with Azurite(folder, ACCOUNT, loop["key"]) as azurite:
        container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client("captures")
        blobs = {b.name: container.download_blob(b.name).readall() for b in container.list_blobs()}
    sidecars = sorted(name for name in blobs if name.endswith(".json"))
    assert sorted(blobs) == sorted([*sidecars, *(n[:-5] + ".jpg" for n in sidecars)]), "each capture is a JPEG and its sidecar"
    return [(json.loads(blobs[name]), blobs[name[:-5] + ".jpg"]) for name in sidecars]


def test_uncertain_frames_land_in_the_blob_module_with_their_sidecars(loop: dict[str, Any]) -> None:
    def uploaded(log: str) -> bool:  # the clip played once, and what was captured is in the blob module
        captures = _reported_captures(loop)
        return ("source finished" in log and captures is not None and captures["captured"] >= 2
                and captures["uploaded"] == captures["captured"])

    done = run_until(_args(loop, "CameraCapture.CAPTURE_MODE=uncertain", "CameraCapture.CAPTURE_BAND=0.25"),
                     uploaded, loop["tmp"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "blobstorage: Azurite on 127.0.0.1:" in done.stdout, done.stdout
    assert loop["key"] not in done.stdout + done.stderr

    captures = _captures(loop)
    segments = sorted(record["frameNumber"] // 20 for record, _ in captures)
    assert segments == [0, 5], [(r["frameNumber"], r["bestTag"], r["probability"]) for r, _ in captures]
    model_sha256 = hashlib.sha256((MODEL / "model.onnx").read_bytes()).hexdigest()
    for record, jpeg in captures:
        assert record["reason"] == "uncertain" and record["threshold"] == 0.5
        assert abs(record["probability"] - 0.5) <= 0.25
        assert record["source"] == str(CLIP) and record["modelSha256"] == model_sha256
        assert record["image"].startswith(record["capturedAt"][:10].replace("-", "") + "/")
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert frame is not None and frame.shape[:2] == (480, 640)
    assert {record["bestTag"] for record, _ in captures} == {"Apple", "Orange"}


def _azurite_pid(folder: Path) -> int | None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdecimal():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"azurite" in part for part in cmdline) and str(folder).encode() in cmdline:
            return int(proc.name)
    return None


def _reported_captures(loop: dict[str, Any]) -> dict[str, Any] | None:
    """CameraCapture's reported ``capture.captures`` counters, asked of the test's runner in-process."""
    twin = ask_runner("twin_get", loop["state"], module="CameraCapture")
    return None if twin is None else twin["reported"].get("capture", {}).get("captures")


def test_a_storage_outage_spools_and_the_spool_is_uploaded_when_azurite_is_back(loop: dict[str, Any]) -> None:
    """Azurite killed as the modules start: captures go to the spool; the runner starts Azurite again
    (5 s later) and CameraCapture uploads the spool. captureMaxPerHour=5 holds over the clip's 7 changes."""
    log = (loop["tmp"] / "runner.log").open("w+")
    runner = subprocess.Popen([sys.executable, "-m", "localedge", *_args(
        loop, "CameraCapture.CAPTURE_MODE=changes", "CameraCapture.CAPTURE_MAX_PER_HOUR=5")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        folder = loop["state"] / "volumes" / "blobstorage" / "blobstorage-data"
        wait_for(lambda: "blobstorage: Azurite on 127.0.0.1:" in (loop["tmp"] / "runner.log").read_text(), 60)
        pid = _azurite_pid(folder)
        assert pid is not None, "the runner's Azurite is not running"
        os.kill(pid, signal.SIGKILL)
        outage = wait_for(lambda: (c := _reported_captures(loop)) and c["spooled"] >= 1 and c, 60)
        assert outage["storageError"] and loop["key"] not in json.dumps(outage)
        final = wait_for(lambda: (c := _reported_captures(loop)) and c["captured"] + c["droppedByRate"] >= 7
                         and c["uploaded"] == c["captured"] and c["spoolFiles"] == 0 and c, 60)
        assert final["captured"] == 5 and final["droppedByRate"] == 2
        assert final["droppedSpoolFull"] == 0 and final["droppedQueueFull"] == 0
        # `captures list` finds the running runner's Azurite by itself (no connection string given).
        listed = run_localedge("captures", "list", "--json", "--env-file", os.devnull)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        counts = json.loads(listed.stdout)
        assert counts["captures"] == 5 and counts["byReason"] == {"change": 5}
        assert loop["key"] not in listed.stdout + listed.stderr
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(60)
        log.seek(0)
        output = log.read()
        log.close()
    assert "blobstorage: Azurite exited; starting it again" in output, output
    assert "blobstorage: Azurite started again" in output, output
    captures = _captures(loop)
    assert len(captures) == 5 and all(record["reason"] == "change" for record, _ in captures)
    frames = [record["frameNumber"] for record, _ in captures]
    assert frames == sorted(frames)
    assert _azurite_pid(folder) is None  # the runner stopped its Azurite with it


def test_without_nodejs_the_runner_says_so_and_captures_go_to_the_module_volume(loop: dict[str, Any]) -> None:
    """No Node.js on PATH: one line from the runner, and CameraCapture writes its captures as files in its
    volume's folder (.localedge/volumes/CameraCapture/cameracapture-captures) instead of the blob module."""
    empty = loop["tmp"] / "bin"
    empty.mkdir()
    folder = loop["state"] / "volumes" / "CameraCapture" / "cameracapture-captures" / "captures"
    done = run_until(_args(loop, "CameraCapture.CAPTURE_MODE=changes"),
                     lambda log: "source finished" in log and len(list(folder.glob("*/*.json"))) >= 7, loop["tmp"],
                     env={**os.environ, "PATH": str(empty)})
    assert done.returncode == 0, done.stdout
    said = [line for line in done.stdout.splitlines() if "Node.js is not installed" in line]
    assert len(said) == 1 and said[0].startswith("localedge | blobstorage: "), done.stdout
    assert "CAPTURE_STORAGE_CONNECTION_STRING names blobstorage, which does not run here: left empty" in done.stdout
    sidecars = sorted(folder.glob("*/*.json"))
    assert len(sidecars) == 7, done.stdout[-3000:]  # the clip's 7 changes of the top tag
    records = [json.loads(path.read_text()) for path in sidecars]
    assert [r["tagName"] for r in records] == ["Apple", "Banana", None, "Apple", "Banana", None, "Banana"]
    assert all(path.with_suffix(".jpg").is_file() for path in sidecars)


@pytest.mark.parametrize(("variables", "defaulted"), [
    ({}, {"BLOB_ACCOUNT_NAME", "BLOB_ACCOUNT_KEY"}),
    ({"BLOB_ACCOUNT_NAME": "captures", "BLOB_ACCOUNT_KEY": ""}, {"BLOB_ACCOUNT_KEY"}),  # .env.example copied as is
    ({"BLOB_ACCOUNT_NAME": "captures", "BLOB_ACCOUNT_KEY": base64.b64encode(b"k" * 64).decode()}, set()),
])
def test_the_runner_gives_the_blob_module_a_local_account_only_where_env_gives_none(
        variables: dict[str, str], defaulted: set[str]) -> None:
    template = read_template(ROOT / "deployment.template.json")
    accounts = blob_account_defaults(template, variables)
    assert set(accounts) == defaulted
    if "BLOB_ACCOUNT_KEY" in accounts:
        assert len(base64.b64decode(accounts["BLOB_ACCOUNT_KEY"], validate=True)) == 64
    # what the runner picks is an account Azurite (and Azure) accept: the constructor raises ValueError otherwise
    Azurite(Path("unused"), accounts.get("BLOB_ACCOUNT_NAME", "captures"), accounts.get("BLOB_ACCOUNT_KEY", "a2V5"))
