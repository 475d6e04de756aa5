"""The retraining loop into Azure Machine Learning: ``captures export --format azureml`` and ``captures upload --to
azureml`` on captures written by CameraCapture's own writer, against a real Azurite playing the workspace's blob
datastore. The JSONL is read back and every line validated against JSON Schemas written here from Azure ML's
"Data schemas to train computer vision models with automated machine learning" (not from the code)."""

from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from azure.storage.blob import BlobServiceClient
from PIL import Image

from capture.retrain.records import Capture, CaptureRecord, blob_name
from capture.retrain.storage import FolderStorage
from conftest import run_localedge
from edgekit.messages import BoundingBox, Prediction
from localedge.runner import azureml
from localedge.runner.azurite import Azurite
from localedge.runner.captures.review import review_pictures

ACCOUNT = "amlstore01"
KEY = base64.b64encode(bytes(range(64))).decode()
CONTAINER = "azureml-blobstore-3f1c2d4e-0000-4000-8000-000000000001"  # as a workspace's default datastore names it
DATASTORE = "workspaceblobstore"

IMAGE_URL = {"type": "string", "pattern": r"^azureml://datastores/[A-Za-z0-9_]+/paths/[^?#]+\.(jpg|jpeg|png)$"}
SIZE = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": r"^[0-9]+px$"}]}
DETAILS = {"type": "object", "additionalProperties": False, "properties": {
    "format": {"enum": ["jpg", "jpeg", "png", "jpe", "jfif", "bmp", "tif", "tiff"]}, "width": SIZE, "height": SIZE}}
UNIT = {"type": "number", "minimum": 0, "maximum": 1}
SCHEMAS: dict[str, dict[str, Any]] = {  # "label": a class name; a list of names; a list of boxes
    "multiclass": {"type": "string", "minLength": 1},
    "multilabel": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
    "detection": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["label", "topX", "topY", "bottomX", "bottomY"], "additionalProperties": False,
        "properties": {"label": {"type": "string", "minLength": 1}, "topX": UNIT, "topY": UNIT, "bottomX": UNIT,
                       "bottomY": UNIT, "isCrowd": {"enum": [0, 1, True, False]}}}},
}


def line_schema(task: str) -> dict[str, Any]:
    return {"type": "object", "required": ["image_url", "label"], "additionalProperties": False,
            "properties": {"image_url": IMAGE_URL, "image_details": DETAILS, "label": SCHEMAS[task]}}


@pytest.fixture(autouse=True)
def no_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state folder of the tests' own: no running local runner's Azurite is found by the commands."""
    monkeypatch.setenv("LOCALEDGE_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def datastore(tmp_path: Path) -> Iterator[Azurite]:
    """Azurite with the datastore's container, as the workspace made it."""
    server = Azurite(tmp_path / "azurite", ACCOUNT, KEY)
    server.start()
    BlobServiceClient.from_connection_string(server.connection_string).create_container(CONTAINER)
    yield server
    server.stop()


def _jpeg(size: tuple[int, int], seed: int) -> bytes:
    image = Image.new("RGB", size, (seed * 40 % 256, 90, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _captures(detection: bool = False) -> Iterator[Capture]:
    """Apple x3 (one below the 0.5 threshold: untagged), Banana x2; sizes differ so image_details can be checked.
    For detection, each prediction has a box (one reaching past the right edge, one below the threshold)."""
    start = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    for frame, (tag, probability) in enumerate([("Apple", 0.9), ("Apple", 0.7), ("Apple", 0.4),
                                                ("Banana", 0.8), ("Banana", 0.6)]):
        when = start + timedelta(seconds=frame)
        boxes = {"boundingBox": BoundingBox(left=0.5, top=0.25, width=0.75, height=0.5)} if detection else {}
        predictions = [Prediction(tagName=tag, probability=probability, **boxes)]
        if detection:
            predictions.append(Prediction(tagName="Lemon", probability=0.2, boundingBox=BoundingBox(
                left=0.0, top=0.0, width=0.1, height=0.1)))
        name = blob_name("day", tag, when, frame)
        record = CaptureRecord(capturedAt=when, reason="uncertain", tagName=tag if probability >= 0.5 else None,
                               bestTag=tag, probability=probability, threshold=0.5, band=0.2, predictions=predictions,
                               source="camera", frameNumber=frame, modelSha256="cd" * 32, modelFlavour="onnx",
                               image=f"{name}.jpg")
        yield Capture(container="captures", name=name, record=record, jpeg=_jpeg((40 + frame, 30), frame))


def _capture_dir(tmp_path: Path, detection: bool = False) -> Path:
    folder = tmp_path / "capture-dir"
    storage = FolderStorage(folder)
    for capture in _captures(detection):
        storage.put(capture)
    return folder


def _export(tmp_path: Path, *extra: str, detection: bool = False) -> Path:
    review = tmp_path / "review"
    done = run_localedge("captures", "export", str(review), "--dir", str(_capture_dir(tmp_path, detection)),
                         "--format", "azureml", *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return review


def _lines(path: Path, task: str) -> list[dict[str, Any]]:
    lines = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        jsonschema.validate(line, line_schema(task))
    return lines


def _env(tmp_path: Path, server: Azurite) -> Path:
    env = tmp_path / "aml.env"
    env.write_text(f"AZUREML_STORAGE_CONNECTION_STRING={server.connection_string}\nAZUREML_CONTAINER={CONTAINER}\n")
    return env


def _blobs(server: Azurite) -> dict[str, bytes]:
    client = BlobServiceClient.from_connection_string(server.connection_string).get_container_client(CONTAINER)
    return {b.name: client.download_blob(b.name).readall() for b in client.list_blobs()}


def test_export_writes_a_multiclass_dataset_in_the_documented_schema(tmp_path: Path) -> None:
    review = _export(tmp_path, "--path", "edge/run-1")
    train = review / "azureml" / "train"
    lines = _lines(train / "annotations.jsonl", "multiclass")
    pictures = {p.path: p.tag for p in review_pictures(review)}
    tagged = {path: tag for path, tag in pictures.items() if tag}
    assert len(pictures) == 5 and len(tagged) == 4  # the frame at 0.4 stays in _untagged and out of the dataset
    assert {line["image_url"]: line["label"] for line in lines} == {
        f"azureml://datastores/{DATASTORE}/paths/edge/run-1/images/{path}": tag for path, tag in tagged.items()}
    for line in lines:
        path = review / line["image_url"].split("/images/", 1)[1]
        with Image.open(path) as image:
            assert (line["image_details"]["width"], line["image_details"]["height"]) == image.size
        assert line["image_details"]["format"] == "jpg"
    table = yaml.safe_load((train / "MLTable").read_text())
    assert table["paths"] == [{"file": "./annotations.jsonl"}]
    assert table["transformations"][1] == {"convert_column_types": [{"columns": "image_url", "column_type": "stream_info"}]}
    assert table["transformations"][0]["read_json_lines"]["encoding"] == "utf8"


def test_multilabel_gives_a_picture_the_tags_of_every_folder_holding_it(tmp_path: Path) -> None:
    review = _export(tmp_path, "--task", "multilabel")
    banana = sorted((review / "Banana").glob("*.jpg"))[0]
    shutil.copy(banana, review / "Apple" / banana.name)  # the reviewer: this one shows an apple too
    pictures = review_pictures(review)
    lines, _ = azureml.dataset_lines(review, pictures, "multilabel", azureml.Datastore(DATASTORE, "edge/ml"))
    for line in lines:
        jsonschema.validate(line, line_schema("multilabel"))
    labels = {line["image_url"].rsplit("/", 1)[1]: line["label"] for line in lines}
    assert labels[banana.name] == ["Apple", "Banana"]
    assert sorted(map(tuple, labels.values())) == [("Apple",), ("Apple",), ("Apple", "Banana"), ("Banana",)]


def test_detection_boxes_are_the_models_at_its_threshold_normalised_corners(tmp_path: Path) -> None:
    review = _export(tmp_path, "--task", "detection", detection=True)
    lines = _lines(review / "azureml" / "train" / "annotations.jsonl", "detection")
    assert len(lines) == 4  # the frame at 0.4: no box at the threshold, left out
    for line in lines:
        # left 0.5 + width 0.75 reaches past the edge: clipped to 1; Lemon at 0.2 is under the 0.5 threshold
        assert line["label"] == [{"label": line["label"][0]["label"], "topX": 0.5, "topY": 0.25, "bottomX": 1.0,
                                  "bottomY": 0.75, "isCrowd": 0}]
    assert sorted(line["label"][0]["label"] for line in lines) == ["Apple", "Apple", "Banana", "Banana"]


def test_detection_of_a_classifiers_captures_is_refused_in_one_line(tmp_path: Path) -> None:
    review = tmp_path / "review"
    done = run_localedge("captures", "export", str(review), "--dir", str(_capture_dir(tmp_path)), "--format", "azureml",
                         "--task", "detection")
    assert done.returncode == 2 and "no capture has a box at its threshold: object detection needs captures made " \
        "while an object detection model was served" in done.stdout


def test_upload_puts_the_reviewed_pictures_and_dataset_in_the_datastore_and_resumes(
        datastore: Azurite, tmp_path: Path) -> None:
    review = _export(tmp_path)
    moved = sorted((review / "Apple").glob("*.jpg"))[0]  # the reviewer: this apple is a banana
    shutil.move(moved, review / "Banana" / moved.name)
    shutil.move(moved.with_suffix(".json"), review / "Banana" / moved.with_suffix(".json").name)
    env = _env(tmp_path, datastore)
    done = run_localedge("captures", "upload", str(review), "--to", "azureml", "--env-file", str(env),
                         "--path", "edge/run-2", "--compute", "cpu-cluster", "--experiment", "checkout-fruit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uploaded 4 picture(s) (0 already there)" in done.stdout and KEY not in done.stdout
    blobs = _blobs(datastore)
    (tmp_path / "downloaded.jsonl").write_bytes(blobs["edge/run-2/train/annotations.jsonl"])
    lines = _lines(tmp_path / "downloaded.jsonl", "multiclass")
    assert {line["label"] for line in lines if line["image_url"].endswith(moved.name)} == {"Banana"}
    for line in lines:  # each image_url names a blob holding the reviewed picture, byte for byte
        relative = line["image_url"].split("/images/", 1)[1]
        assert blobs[f"edge/run-2/images/{relative}"] == (review / relative).read_bytes()
    assert blobs["edge/run-2/train/MLTable"] == (review / "azureml" / "train" / "MLTable").read_bytes()
    job = yaml.safe_load((review / "azureml" / "job.yml").read_text())
    assert job == {"$schema": "https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json", "type": "automl",
                   "experiment_name": "checkout-fruit", "description": job["description"],
                   "compute": "azureml:cpu-cluster", "task": "image_classification", "primary_metric": "accuracy",
                   "target_column_name": "label",
                   "training_data": {"type": "mltable", "path": f"azureml://datastores/{DATASTORE}/paths/edge/run-2/train"},
                   "limits": {"timeout_minutes": 60, "max_trials": 1}}
    assert f"az ml job create --file {review / 'azureml' / 'job.yml'}" in done.stdout
    assert "az ml job download --name <best child run id> --all" in done.stdout
    assert "make convert-model EXPORT=checkout-fruit-model" in done.stdout
    assert "az iot edge deployment create --hub-name <hub> --deployment-id checkout-fruit --layered" in done.stdout

    again = run_localedge("captures", "upload", str(review), "--to", "azureml", "--env-file", str(env), "--path", "edge/run-2")
    assert again.returncode == 0 and "uploaded 0 picture(s) (4 already there)" in again.stdout, again.stdout
    extra = review / "Banana" / "added-by-reviewer.jpg"
    extra.write_bytes(_jpeg((64, 48), 9))
    third = run_localedge("captures", "upload", str(review), "--to", "azureml", "--env-file", str(env), "--path", "edge/run-2")
    assert third.returncode == 0 and "uploaded 1 picture(s) (4 already there)" in third.stdout, third.stdout
    assert _blobs(datastore)["edge/run-2/images/Banana/added-by-reviewer.jpg"] == extra.read_bytes()
    assert len(_blobs(datastore)["edge/run-2/train/annotations.jsonl"].splitlines()) == 5


def test_unreachable_storage_is_retried_a_bounded_number_of_times_then_said_in_one_line(tmp_path: Path) -> None:
    review = _export(tmp_path)
    waits: list[float] = []
    args = argparse.Namespace(folder=str(review), env_file=str(tmp_path / "none.env"), task="multiclass",
                              datastore=DATASTORE, path="edge/x", azureml_container=CONTAINER, compute="c",
                              experiment=None, connection_string=f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                              f"AccountKey={KEY};BlobEndpoint=http://127.0.0.1:9/{ACCOUNT};")  # nothing listens
    with pytest.raises(azureml.AzuremlError, match=r"is out of reach after 6 attempts .*run the upload again") as failed:
        azureml.upload(args, review_pictures(review), waits.append)
    assert waits == [2.0, 4.0, 8.0, 16.0, 30.0] and KEY not in str(failed.value)
    assert json.loads((review / "azureml" / "uploaded.json").read_text()) == {}


def test_upload_without_settings_is_refused_in_one_line(tmp_path: Path) -> None:
    review = _export(tmp_path)
    (tmp_path / "empty.env").write_text("")
    done = run_localedge("captures", "upload", str(review), "--to", "azureml", "--env-file", str(tmp_path / "empty.env"))
    assert done.returncode == 2 and "set AZUREML_STORAGE_CONNECTION_STRING in .env" in done.stdout
    assert len([line for line in done.stdout.splitlines() if line.strip()]) == 1
