"""``python -m localedge captures``: list and export read captures written with the azure-storage-blob SDK to a
real Azurite (and to a folder), and upload sends a reviewed export to a Custom Vision training project, played
by a local HTTP server that checks every request against the training API v3.3 (paths, Training-Key, tagIds,
multipart parts, at most 64 images of at most 6 MB) and answers as the API does, throttling once with a 429."""

from __future__ import annotations

import base64
import csv
import email.parser
import email.policy
import io
import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.storage.blob import BlobServiceClient
from PIL import Image

from capture.retrain.records import Capture, CaptureRecord, blob_base, blob_name
from capture.retrain.spool import Spool
from capture.retrain.storage import BlobStorage, FolderStorage
from conftest import run_localedge
from edgekit.messages import Prediction
from localedge.runner.azurite import Azurite

ACCOUNT = "captures01"
KEY = base64.b64encode(bytes(range(64))).decode()
TRAINING_KEY = "0123456789abcdef0123456789abcdef"
PROJECT = "64b822c5-8082-4b36-a426-27225f4aa18c"
APPLE_ID = "9e1b0c2a-0000-4000-8000-000000000001"


@pytest.fixture(autouse=True)
def no_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state folder of the tests' own: no running local runner's Azurite is found by the commands."""
    monkeypatch.setenv("LOCALEDGE_STATE_DIR", str(tmp_path / "state"))


def _jpeg(colour: tuple[int, int, int], seed: int) -> bytes:
    image = Image.new("RGB", (32, 24), colour)
    image.putpixel((seed % 32, (seed // 32) % 24), (seed % 256, 0, 0))  # each capture its own bytes
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _record(tag: str | None, probability: float, reason: str, when: datetime, frame: int) -> CaptureRecord:
    """The sidecar CameraCapture writes (its own model), for a frame whose best prediction is ``tag``."""
    predictions = [] if tag is None else [Prediction(tagName=tag, probability=probability),
                                          Prediction(tagName="Other", probability=round((1 - probability) / 4, 4))]
    name = blob_name("day", tag, when, frame)
    return CaptureRecord(capturedAt=when, reason=reason, tagName=tag if probability >= 0.5 else None, bestTag=tag,
                         probability=probability, threshold=0.5, band=0.15, predictions=predictions,
                         source="rtsp://***@camera/stream", frameNumber=frame, modelSha256="ab" * 32,
                         modelFlavour="onnx", image=f"{name}.jpg")


def _captures(apples: int = 3) -> Iterator[Capture]:
    """Captures as CameraCapture makes them (one container, ``captures``, blob names grouped by UTC day:
    ``20261129/<time>-f<frame>``): Apple uncertain (just above the 0.5 threshold) on the 29th, Banana changes on
    the 30th, one sampled frame with no prediction at all."""
    day1, day2 = datetime(2026, 11, 29, 10, tzinfo=timezone.utc), datetime(2026, 11, 30, 10, tzinfo=timezone.utc)
    for i in range(apples):
        when = day1 + timedelta(seconds=i)
        yield Capture(container="captures", name=blob_name("day", "Apple", when, i),
                      record=_record("Apple", 0.52 + i / 10000, "uncertain", when, i), jpeg=_jpeg((200, 30, 30), i))
    for i in range(2):
        when = day2 + timedelta(seconds=i)
        yield Capture(container="captures", name=blob_name("day", "Banana", when, 100 + i),
                      record=_record("Banana", 0.9, "change", when, 100 + i), jpeg=_jpeg((220, 220, 40), i))
    when = day2 + timedelta(minutes=5)
    yield Capture(container="captures", name=blob_name("day", None, when, 200),
                  record=_record(None, 0.0, "sample", when, 200), jpeg=_jpeg((0, 0, 0), 1))


def _write_blobs(connection_string: str, apples: int = 3) -> dict[str, bytes]:
    """The captures written by CameraCapture's own writer (azure-storage-blob), plus what is not a capture: a
    sidecar without its image, a sidecar that is not JSON, another blob."""
    storage = BlobStorage(connection_string)
    written = {}
    for capture in _captures(apples):
        storage.put(capture)
        written[f"{capture.container}/{capture.name}"] = capture.jpeg
    client = BlobServiceClient.from_connection_string(connection_string).get_container_client("captures")
    client.upload_blob("20261130/orphan.json", _record("Apple", 0.5, "uncertain", datetime.now(timezone.utc), 1).model_dump_json())
    client.upload_blob("20261130/broken.jpg", _jpeg((1, 2, 3), 301))
    client.upload_blob("20261130/broken.json", b"{not json")
    client.upload_blob("notes.txt", b"not a capture")
    return written


@pytest.fixture()
def azurite(tmp_path: Path) -> Iterator[Azurite]:
    """A real Azurite (npm azurite, installed by make) with the account CameraCapture writes to."""
    server = Azurite(tmp_path / "azurite", ACCOUNT, KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def storage(azurite: Azurite, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """Captures in Azurite, and a .env naming the account by its connection string."""
    written = _write_blobs(azurite.connection_string)
    env = tmp_path / ".env"
    env.write_text(f"CAPTURES_CONNECTION_STRING={azurite.connection_string}\n")
    return env, written


def _lines(done: Any) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def test_list_counts_the_captures_in_azurite_by_tag_reason_and_day(storage: tuple[Path, dict[str, bytes]]) -> None:
    env, _ = storage
    done = run_localedge("captures", "list", "--env-file", str(env), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(done.stdout)
    assert counts["captures"] == 6
    assert counts["byTag"] == {"Apple": 3, "Banana": 2, "(none)": 1}
    assert counts["byReason"] == {"uncertain": 3, "change": 2, "sample": 1}
    assert counts["byDay"] == {"2026-11-29": 3, "2026-11-30": 3}
    assert counts["skipped"] == {"a sidecar without its image": 1, "a sidecar that is not valid": 1}
    assert counts["source"].startswith(f"storage account {ACCOUNT} at http://127.0.0.1:")
    assert KEY not in done.stdout + done.stderr

    done = run_localedge("captures", "list", "--env-file", str(env), "--reason", "uncertain", "--container", "captures")
    assert done.returncode == 0
    assert re.search(r"^3 capture\(s\) in storage account captures01", done.stdout, re.M)
    assert re.search(r"^by tag:\n  Apple\s+3$", done.stdout, re.M), done.stdout
    done = run_localedge("captures", "list", "--env-file", str(env), "--since", "2026-11-30", "--api-version", "2019-07-07")
    assert done.returncode == 0 and re.search(r"^3 capture\(s\)", done.stdout, re.M), done.stdout


def test_list_reads_the_folder_captures_go_to_without_storage(tmp_path: Path) -> None:
    capture_dir = tmp_path / "captures"  # CameraCapture's CAPTURE_DIR when it has no connection string
    folder = FolderStorage(capture_dir)
    for capture in _captures():
        folder.put(capture)  # CAPTURE_DIR/captures/<day>/<name>.jpg and .json
    assert len(list((capture_dir / "captures" / "20261129").glob("*.jpg"))) == 3
    when = datetime(2026, 11, 28, 9, tzinfo=timezone.utc)  # the earlier layout: a container per day, no group
    old = _record("Apple", 0.6, "uncertain", when, 7)
    folder.put(Capture(container="captures-20261128", name=blob_base(when, 7), record=old.model_copy(
        update={"image": f"{blob_base(when, 7)}.jpg"}), jpeg=_jpeg((200, 30, 30), 7)))
    # a capture waiting in the spool (CAPTURE_DIR/.spool: <seq>.jpg and .json) is not listed until it is stored
    assert Spool(capture_dir / ".spool", 1024 * 1024).add(next(_captures()))
    done = run_localedge("captures", "list", "--dir", str(capture_dir), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(done.stdout)
    assert counts["byTag"] == {"Apple": 4, "Banana": 2, "(none)": 1} and counts["skipped"] == {}
    assert counts["byDay"] == {"2026-11-28": 1, "2026-11-29": 3, "2026-11-30": 3}


def test_no_storage_or_storage_out_of_reach_is_said_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("")
    done = run_localedge("captures", "list", "--env-file", str(tmp_path / ".env"))
    assert done.returncode == 2 and len(_lines(done)) == 1
    assert "no storage to read: pass --dir FOLDER, run `python -m localedge run` (its Azurite), or set CAPTURES_CONNECTION_STRING in .env" in done.stdout
    (tmp_path / ".env").write_text(f"CAPTURES_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                                   f"AccountKey={KEY};BlobEndpoint=http://127.0.0.1:9/{ACCOUNT};\n")  # nothing listens
    done = run_localedge("captures", "list", "--env-file", str(tmp_path / ".env"), timeout=120)
    assert done.returncode == 2 and len(_lines(done)) == 1, done.stdout + done.stderr
    assert "is out of reach" in done.stdout and KEY not in done.stdout


def test_export_groups_the_frames_by_predicted_tag_with_their_sidecars_and_an_index(
        storage: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    env, written = storage
    out = tmp_path / "review"
    done = run_localedge("captures", "export", str(out), "--env-file", str(env))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["Apple", "Banana", "_untagged", "index.csv", "index.json"]
    assert len(list((out / "Apple").glob("*.jpg"))) == 3 and len(list((out / "Apple").glob("*.json"))) == 3
    index = json.loads((out / "index.json").read_text())
    assert index["folders"] == {"Apple": "Apple", "Banana": "Banana", "_untagged": None}
    rows = {row["source"]: row for row in index["captures"]}
    assert set(rows) == set(written)
    for key, image in written.items():
        row = rows[key]
        assert (out / row["file"]).read_bytes() == image  # the frame as classified, byte for byte
        sidecar = json.loads((out / row["file"]).with_suffix(".json").read_text())
        assert sidecar["frameNumber"] == row["frameNumber"] and sidecar["reason"] == row["reason"]
        assert sidecar["bestTag"] == row["tag"] and sidecar["modelSha256"] == row["modelSha256"]
    apple = next(row for row in rows.values() if row["frameNumber"] == 1)
    assert apple["file"].startswith("Apple/captures_20261129_20261129T100001") and apple["probability"] == 0.5201
    with (out / "index.csv").open() as file:
        table = list(csv.DictReader(file))
    assert len(table) == 6 and {r["tag"] for r in table} == {"Apple", "Banana", ""}
    assert "exported 6 capture(s) into" in done.stdout and "captures upload" in done.stdout

    again = run_localedge("captures", "export", str(out), "--env-file", str(env))
    assert again.returncode == 2 and len(_lines(again)) == 1
    assert "exists and is not empty; export into a new folder" in again.stdout


# ---- the Custom Vision training API v3.3, played by a local server --------------------------------------------------

class TrainingAPI(ThreadingHTTPServer):
    """The training API's GetTags, CreateTag and CreateImagesFromData as documented (v3.3): requests are checked,
    what is wrong is answered 400 and recorded in ``violations``; the first CreateImagesFromData is throttled."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TrainingHandler)
        self.tags: dict[str, dict[str, Any]] = {APPLE_ID: {"id": APPLE_ID, "name": "Apple", "description": None,
                                                           "type": "Regular", "imageCount": 12}}
        self.batches: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.violations: list[str] = []
        self.throttle_next = True
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class TrainingHandler(BaseHTTPRequestHandler):
    server: TrainingAPI
    PATH = re.compile(r"/customvision/v3\.3/training/projects/(?P<project>[^/]+)/(?P<what>tags|images)")

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, why: str) -> None:
        with self.server.lock:
            self.server.violations.append(f"{self.command} {self.path}: {why}")
        self._answer(400, {"code": "BadRequest", "message": why})

    def _route(self) -> tuple[str, dict[str, list[str]]] | None:
        url = urlsplit(self.path)
        match = self.PATH.fullmatch(url.path)
        with self.server.lock:
            self.server.requests.append(f"{self.command} {url.path.rsplit('/', 1)[-1]}")
        if self.headers.get("Training-Key") != TRAINING_KEY:
            self._answer(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key or "
                                                                    "wrong API endpoint."}})
            return None
        if match is None:
            self._refuse(f"not a training API v3.3 path: {url.path}")
            return None
        if match["project"] != PROJECT:
            self._answer(404, {"code": "BadRequestProjectNotFound", "message": "Project not found"})
            return None
        return match["what"], parse_qs(url.query)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        route = self._route()
        if route is None:
            return
        if route[0] != "tags" or route[1]:
            return self._refuse("GET is GetTags: .../tags, no query")
        with self.server.lock:
            self._answer(200, list(self.server.tags.values()))

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        route = self._route()
        if route is None:
            return
        what, query = route
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if what == "tags":
            names = query.get("name", [])
            if len(names) != 1 or not names[0] or body:
                return self._refuse("CreateTag takes one name query parameter and no body")
            with self.server.lock:
                if any(t["name"].lower() == names[0].lower() for t in self.server.tags.values()):
                    return self._answer(400, {"code": "BadRequestTagNameNotUnique", "message": "Name not unique"})
                tag = {"id": str(uuid.uuid4()), "name": names[0], "description": None, "type": "Regular", "imageCount": 0}
                self.server.tags[tag["id"]] = tag
            return self._answer(200, tag)
        with self.server.lock:
            throttle, self.server.throttle_next = self.server.throttle_next, False
        if throttle:
            return self._answer(429, {"error": {"code": "429", "message": "Rate limit is exceeded."}}, {"Retry-After": "1"})
        tag_ids = [t for value in query.get("tagIds", []) for t in value.split(",")]
        if set(query) - {"tagIds"} or len(tag_ids) > 20 or any(t not in self.server.tags for t in tag_ids):
            return self._refuse(f"tagIds must name at most 20 existing tags: {query}")
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data; boundary="):
            return self._refuse(f"CreateImagesFromData takes multipart/form-data, not {content_type!r}")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        parts = list(message.iter_parts())
        if not 1 <= len(parts) <= 64:
            return self._refuse(f"{len(parts)} files: at most 64 per request")
        names, images = [], []
        for part in parts:
            data = part.get_payload(decode=True) or b""
            if part.get_param("name", header="content-disposition") != "imageData" or not part.get_filename():
                return self._refuse("each file is a form-data part named imageData with a file name")
            if len(data) > 6 * 1024 * 1024:
                return self._refuse(f"{part.get_filename()}: over 6 MB")
            names.append(part.get_filename())
            ok = data.startswith(b"\xff\xd8")  # the service decodes each image; a broken one fails alone
            images.append({"sourceUrl": f'"{part.get_filename()}"', "status": "OK" if ok else "ErrorImageFormat",
                           "image": {"id": str(uuid.uuid4()), "tags": [{"tagId": t} for t in tag_ids]} if ok else None})
        with self.server.lock:
            self.server.batches.append({"tagIds": tag_ids, "files": names})
        every = all(image["status"] == "OK" for image in images)
        self._answer(200 if every else 207, {"isBatchSuccessful": every, "images": images})


@pytest.fixture()
def training() -> Iterator[TrainingAPI]:
    server = TrainingAPI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _env(path: Path, endpoint: str, key: str = TRAINING_KEY) -> Path:
    path.write_text(f"CUSTOM_VISION_TRAINING_ENDPOINT={endpoint}/\nCUSTOM_VISION_TRAINING_KEY={key}\n"
                    f"CUSTOM_VISION_PROJECT_ID={PROJECT}\n")
    return path


def test_upload_sends_the_reviewed_export_to_the_training_project_as_documented(
        azurite: Azurite, training: TrainingAPI, tmp_path: Path) -> None:
    _write_blobs(azurite.connection_string, apples=70)
    (tmp_path / "storage.env").write_text(f"CAPTURES_CONNECTION_STRING={azurite.connection_string}\n")
    review = tmp_path / "review"
    done = run_localedge("captures", "export", str(review), "--env-file", str(tmp_path / "storage.env"))
    assert done.returncode == 0, done.stdout + done.stderr
    # the review: one apple is a kiwi (moved, with its sidecar, to a new folder), one banana picture is left out
    apple = sorted((review / "Apple").glob("*.jpg"))[0]
    (review / "Kiwi").mkdir()
    for path in (apple, apple.with_suffix(".json")):
        shutil.move(path, review / "Kiwi" / path.name)
    sorted((review / "Banana").glob("*.jpg"))[0].unlink()

    env = _env(tmp_path / ".env", training.endpoint)
    done = run_localedge("captures", "upload", str(review), "--env-file", str(env), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert training.violations == []
    tags = {t["name"]: t["id"] for t in training.tags.values()}
    assert set(tags) == {"Apple", "Banana", "Kiwi"}  # the project had Apple; Banana and Kiwi were created
    assert training.requests[:3] == ["GET tags", "POST tags", "POST tags"]
    by_tag: dict[str, list[int]] = {}
    for batch in training.batches:
        by_tag.setdefault(",".join(batch["tagIds"]), []).append(len(batch["files"]))
    assert by_tag == {tags["Apple"]: [64, 5], tags["Banana"]: [1], tags["Kiwi"]: [1], "": [1]}  # 69 apples: 64 + 5
    assert training.requests.count("POST images") == 6  # 5 batches, one of them sent again after the 429
    assert "the training API is throttling (429): waiting 1 s as it asks" in done.stdout
    assert "uploaded to project 64b822c5-8082-4b36-a426-27225f4aa18c: 72 OK; created tag(s) Banana, Kiwi" in done.stdout
    assert TRAINING_KEY not in done.stdout + done.stderr
    record = json.loads((review / "uploaded.json").read_text())
    assert record[f"Kiwi/{apple.name}"]["tag"] == "Kiwi" and all(r["status"] == "OK" for r in record.values())

    again = run_localedge("captures", "upload", str(review), "--env-file", str(env))
    assert again.returncode == 0 and "nothing to upload from" in again.stdout and "(72 already uploaded)" in again.stdout
    assert training.requests.count("POST images") == 6  # nothing sent twice


def test_upload_refusals_are_one_line_and_never_show_the_key(training: TrainingAPI, tmp_path: Path) -> None:
    review = tmp_path / "review"
    (review / "Apple").mkdir(parents=True)
    (review / "Apple" / "a.jpg").write_bytes(_jpeg((200, 30, 30), 1))
    (review / "Apple" / "big.jpg").write_bytes(b"\xff\xd8" + bytes(6 * 1024 * 1024))
    wrong = "fedcba9876543210fedcba9876543210"
    done = run_localedge("captures", "upload", str(review), "--env-file", str(_env(tmp_path / ".env", training.endpoint, wrong)))
    assert done.returncode == 2, done.stdout + done.stderr
    assert _lines(done)[-1].endswith("the training API refused GET tags: 401 401: Access denied due to invalid subscription "
                                     "key or wrong API endpoint. (check CUSTOM_VISION_TRAINING_KEY)")
    assert "big.jpg: 6291458 bytes, over the 6 MB Custom Vision takes; not uploaded" in done.stdout
    assert wrong not in done.stdout + done.stderr
    (tmp_path / ".env").write_text(f"CUSTOM_VISION_TRAINING_ENDPOINT={training.endpoint}\n")
    done = run_localedge("captures", "upload", str(review), "--env-file", str(tmp_path / ".env"))
    assert done.returncode == 2 and _lines(done) == [
        "localedge | set CUSTOM_VISION_TRAINING_KEY, CUSTOM_VISION_PROJECT_ID in .env (the Custom Vision training "
        "resource's endpoint and key, and the project's id, from the project's settings page)"]


def test_an_image_the_service_refuses_is_reported_and_sent_again_next_time(training: TrainingAPI, tmp_path: Path) -> None:
    review = tmp_path / "review"
    (review / "Apple").mkdir(parents=True)
    (review / "Apple" / "good.jpg").write_bytes(_jpeg((200, 30, 30), 1))
    (review / "Apple" / "broken.jpg").write_bytes(b"GIF89a not really")
    training.throttle_next = False
    env = _env(tmp_path / ".env", training.endpoint)
    done = run_localedge("captures", "upload", str(review), "--env-file", str(env))
    assert done.returncode == 1, done.stdout + done.stderr  # 207: one of the two refused
    assert "Apple/broken.jpg: refused by Custom Vision (ErrorImageFormat)" in done.stdout
    assert "1 ErrorImageFormat, 1 OK" in done.stdout
    record = json.loads((review / "uploaded.json").read_text())
    assert {k: v["status"] for k, v in record.items()} == {"Apple/broken.jpg": "ErrorImageFormat", "Apple/good.jpg": "OK"}
    (review / "Apple" / "broken.jpg").write_bytes(_jpeg((10, 200, 10), 2))  # the reviewer replaces it
    done = run_localedge("captures", "upload", str(review), "--env-file", str(env))
    assert done.returncode == 0, done.stdout + done.stderr
    assert training.batches[-1] == {"tagIds": [APPLE_ID], "files": ["broken.jpg"]}  # only the one not yet taken


def _frame(tag: str, probability: float, frame: int, at_threshold: bool) -> Capture:
    """A capture whose best prediction is ``tag`` at ``probability``, threshold 0.5, and CameraCapture's tagName
    (``tag`` when ``at_threshold``, else null)."""
    when = datetime(2026, 12, 1, 9, tzinfo=timezone.utc) + timedelta(seconds=frame)
    name = blob_name("day", tag, when, frame)
    record = CaptureRecord(capturedAt=when, reason="uncertain", tagName=tag if at_threshold else None, bestTag=tag,
                           probability=probability, threshold=0.5, band=0.15,
                           predictions=[Prediction(tagName=tag, probability=probability)], source="clip.mp4",
                           frameNumber=frame, modelSha256="cd" * 32, modelFlavour="onnx", image=f"{name}.jpg")
    return Capture(container="captures", name=name, record=record, jpeg=_jpeg((90, 90, 90), frame))


def test_a_frame_below_the_threshold_is_exported_untagged_and_never_uploaded_with_the_models_guess(
        training: TrainingAPI, tmp_path: Path) -> None:
    capture_dir = tmp_path / "captures"
    folder = FolderStorage(capture_dir)
    frames = {"backpod": _frame("Apple", 0.00001, 1, False),  # the Backpod box: "no tag" at the threshold
              "near": _frame("Apple", 0.49, 2, False),
              "at": _frame("Apple", 0.5, 3, True),  # exactly the threshold: the tag
              "banana": _frame("Banana", 0.9, 4, True),
              "older": _frame("Apple", 0.3, 5, False)}
    for capture in frames.values():
        folder.put(capture)
    older = capture_dir / "captures" / f"{frames['older'].name}.json"  # a sidecar without tagName (as earlier ones):
    document = json.loads(older.read_text())  # the tag at the threshold is worked out (0.3 < 0.5: none)
    del document["tagName"]
    older.write_text(json.dumps(document))
    review = tmp_path / "review"
    done = run_localedge("captures", "export", str(review), "--dir", str(capture_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((review / "index.json").read_text())
    where = {row["frameNumber"]: row["file"].split("/")[0] for row in index["captures"]}
    assert where == {1: "_untagged", 2: "_untagged", 3: "Apple", 4: "Banana", 5: "_untagged"}
    assert index["folders"] == {"Apple": "Apple", "Banana": "Banana", "_untagged": None}
    rows = {row["frameNumber"]: row for row in index["captures"]}
    assert rows[1]["tag"] is None and rows[1]["bestTag"] == "Apple"  # the model's guess stays in the index

    # an export made before the fix put the Backpod box into Apple/: its index says so; nobody moved it since
    backpod = review / rows[1]["file"]
    for path in (backpod, backpod.with_suffix(".json")):
        shutil.move(path, review / "Apple" / path.name)
    rows[1]["file"] = f"Apple/{backpod.name}"
    index["captures"] = list(rows.values())
    (review / "index.json").write_text(json.dumps(index))
    # the reviewer moves the 0.49 apple into Apple/: a person's label
    near = review / rows[2]["file"]
    for path in (near, near.with_suffix(".json")):
        shutil.move(path, review / "Apple" / path.name)

    training.throttle_next = False
    done = run_localedge("captures", "upload", str(review), "--env-file", str(_env(tmp_path / ".env", training.endpoint)))
    assert done.returncode == 0, done.stdout + done.stderr
    tags = {t["name"]: t["id"] for t in training.tags.values()}
    sent = {",".join(batch["tagIds"]): sorted(batch["files"]) for batch in training.batches}
    name = {n: Path(rows[n]["file"]).name for n in rows}
    assert sent == {tags["Apple"]: sorted([name[2], name[3]]), tags["Banana"]: [name[4]], "": sorted([name[1], name[5]])}
