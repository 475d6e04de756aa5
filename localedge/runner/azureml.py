"""The retraining loop into Azure Machine Learning: reviewed captures as an AutoML image dataset, uploaded to the
workspace's blob datastore, with the ``az ml`` job that trains on them.

contract: Azure ML's "Data schemas to train computer vision models with automated machine learning"
(reference-automl-images-schema: one JSON line per image, ``image_url`` an ``azureml://datastores/<datastore>/paths/
<path>`` URI, ``image_details`` {format, width, height} optional, ``label`` a class name (multi-class), a list of
names (multi-label) or a list of boxes {label, topX, topY, bottomX, bottomY (0-1, of the image's width and height),
isCrowd} (object detection)); "Prepare data for computer vision tasks" (an ``MLTable`` file beside the JSONL:
``read_json_lines``, ``image_url`` converted to ``stream_info``); the CLI (v2) AutoML image job YAML schemas
(``type: automl``, ``task`` image_classification / image_classification_multilabel / image_object_detection,
``primary_metric`` accuracy / iou / mean_average_precision, ``target_column_name: label``, ``training_data`` of
``type: mltable``).

Layout, in the review folder that ``captures export`` wrote (``FOLDER/<tag>/<name>.jpg`` + ``.json``) and in the
datastore's container under ``PATH`` (default ``edge-captures/<folder name>``):

- ``images/<tag folder>/<name>.jpg``: the pictures as reviewed;
- ``train/annotations.jsonl`` and ``train/MLTable``: the dataset (``FOLDER/azureml/train/`` locally);
- ``FOLDER/azureml/job.yml``: the AutoML job; ``FOLDER/azureml/uploaded.json``: what was uploaded (resumable).

Labels follow the review: multi-class, a picture's folder's tag (``_untagged`` is left out); multi-label, the tags
of every folder holding a picture of that name (copy a picture into a second tag's folder to give it both);
object detection, the boxes the model found at its threshold (the sidecar's ``predictions`` with a
``boundingBox``), a picture without one left out. The dataset is written again from the folder at upload, so a
review after ``export`` counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from localedge.deploy.manifest import load_variables

logger = logging.getLogger("localedge")

Task = Literal["multiclass", "multilabel", "detection"]
TASKS: dict[str, tuple[str, str]] = {  # --task: (the job's task, its primary metric), as the job YAML schemas give
    "multiclass": ("image_classification", "accuracy"),
    "multilabel": ("image_classification_multilabel", "iou"),
    "detection": ("image_object_detection", "mean_average_precision"),
}
DEFAULT_DATASTORE = "workspaceblobstore"  # every workspace's default blob datastore
DATASET_DIR = "azureml"
JSONL_NAME = "annotations.jsonl"
MLTABLE = """\
# Azure ML MLTable: the JSON lines beside it, each line's image_url read as a file in the datastore.
paths:
  - file: ./annotations.jsonl
transformations:
  - read_json_lines:
      encoding: utf8
      invalid_lines: error
      include_path_column: false
  - convert_column_types:
      - columns: image_url
        column_type: stream_info
"""
MAX_ATTEMPTS = 6  # per blob: a lost connection, a 5xx or a 429 is retried with backoff, at most this many attempts
MAX_BACKOFF_S = 30.0
HTTP_TIMEOUT_S = 60
RECORD_EVERY = 50  # pictures between two writes of uploaded.json
FORMATS = {"jpg", "jpeg", "png", "jpe", "jfif", "bmp", "tif", "tiff"}  # image_details.format, as documented


class AzuremlError(RuntimeError):
    """Nothing (more) can be done; the message says what is wrong and what to do, in one line."""


class Picture(Protocol):
    """A picture of a review folder (:class:`localedge.runner.captures.review.Picture`): its path in the folder and
    its tag after review."""

    @property
    def path(self) -> str: ...

    @property
    def tag(self) -> str | None: ...


class BoundingBox(BaseModel):
    """Custom Vision's box, normalised to the image: left, top, width, height (0-1)."""

    model_config = ConfigDict(extra="ignore")
    left: float = Field(ge=-1.0, le=2.0)
    top: float = Field(ge=-1.0, le=2.0)
    width: float = Field(ge=0.0, le=2.0)
    height: float = Field(ge=0.0, le=2.0)


class BoxPrediction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tagName: str = Field(max_length=256)
    probability: float = Field(ge=0.0, le=1.0)
    boundingBox: BoundingBox | None = None


class DetectionSidecar(BaseModel):
    """What the dataset reads of a detection capture's sidecar: its predictions with boxes, and the threshold."""

    model_config = ConfigDict(extra="ignore")
    predictions: list[BoxPrediction] = Field(default_factory=list, max_length=1000)
    threshold: float | None = None


@dataclass(frozen=True)
class Datastore:
    """Where the dataset lives in Azure ML: the datastore's name and the path under it (no leading or trailing /)."""

    name: str
    path: str

    def url(self, relative: str) -> str:
        """The ``azureml://datastores/<name>/paths/<path>/<relative>`` URI of a file of the dataset."""
        return f"azureml://datastores/{self.name}/paths/{self.path}/{relative}"


def _image_details(path: Path) -> dict[str, Any]:
    """``image_details``: the format (the file's suffix, as documented) and the size in px, read from the header."""
    details: dict[str, Any] = {}
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        details["format"] = suffix
    try:
        with Image.open(path) as image:
            details["width"], details["height"] = image.size
    except (OSError, UnidentifiedImageError):
        pass
    return details


def _boxes(sidecar: Path) -> list[dict[str, Any]]:
    """The sidecar's predictions at or above its threshold that have a box, as AutoML object detection labels:
    topX/topY the top-left corner and bottomX/bottomY the bottom-right one, fractions of the image, clipped to 0-1."""
    try:
        document = DetectionSidecar.model_validate_json(sidecar.read_bytes())
    except (OSError, ValidationError):
        return []
    threshold = document.threshold if document.threshold is not None else 0.0
    boxes = []
    for prediction in document.predictions:
        box = prediction.boundingBox
        if box is None or prediction.probability < threshold:
            continue
        corners = [box.left, box.top, box.left + box.width, box.top + box.height]
        top_x, top_y, bottom_x, bottom_y = (round(min(max(v, 0.0), 1.0), 6) for v in corners)
        if bottom_x > top_x and bottom_y > top_y:
            boxes.append({"label": prediction.tagName, "topX": top_x, "topY": top_y, "bottomX": bottom_x,
                          "bottomY": bottom_y, "isCrowd": 0})
    return boxes


def dataset_lines(folder: Path, pictures: Sequence[Picture], task: Task,
                datastore: Datastore) -> tuple[list[dict[str, Any]], list[Picture]]:
    """The dataset's JSON lines for the reviewed ``folder`` whose ``pictures`` are given (see the module docstring),
    and the pictures they name (each once). Raises AzuremlError when no picture has a label."""
    lines: list[dict[str, Any]] = []
    used: list[Picture] = []
    if task == "multilabel":
        by_name: dict[str, list[Picture]] = {}
        for picture in pictures:
            by_name.setdefault(PurePosixPath(picture.path).name, []).append(picture)
        chosen = [(group[0], sorted({p.tag for p in group if p.tag})) for group in by_name.values()]
        labelled: Iterator[tuple[Picture, Any]] = ((p, tags) for p, tags in chosen if tags)
    elif task == "detection":
        labelled = ((p, boxes) for p in pictures if (boxes := _boxes((folder / p.path).with_suffix(".json"))))
    else:
        labelled = ((p, p.tag) for p in pictures if p.tag)
    for picture, label in labelled:
        line: dict[str, Any] = {"image_url": datastore.url(f"images/{picture.path}")}
        details = _image_details(folder / picture.path)
        if details:
            line["image_details"] = details
        line["label"] = label
        lines.append(line)
        used.append(picture)
    left_out = len({PurePosixPath(p.path).name for p in pictures}) - len(lines)
    if left_out:
        logger.info("%d picture(s) left out of the %s dataset: %s", left_out, task,
                    "boxes at the threshold only" if task == "detection" else "no tag (_untagged)")
    if not lines and task == "detection":
        raise AzuremlError(f"{folder}: no capture has a box at its threshold: object detection needs captures made "
                           "while an object detection model was served")
    if not lines:
        raise AzuremlError(f"{folder}: no picture has a label for {task}; review the export first (move pictures into "
                           "tag folders)")
    return lines, used


def write_dataset(folder: Path, pictures: Sequence[Picture], task: Task,
                  datastore: Datastore) -> tuple[Path, list[Picture]]:
    """Write ``FOLDER/azureml/train/annotations.jsonl`` and ``MLTable``; returns that folder and the pictures named."""
    lines, used = dataset_lines(folder, pictures, task, datastore)
    train = folder / DATASET_DIR / "train"
    train.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (train / JSONL_NAME).write_text(text, encoding="utf-8")
    (train / "MLTable").write_text(MLTABLE, encoding="utf-8")
    logger.info("wrote %s: %d image(s) for AutoML %s", train / JSONL_NAME, len(lines), TASKS[task][0])
    return train, used


def job_yaml(task: Task, datastore: Datastore, compute: str, experiment: str) -> str:
    """The ``az ml job create --file`` YAML of an AutoML image job on the dataset's MLTable (AutoML keeps 20% of it
    for validation when no validation data is given)."""
    kind, metric = TASKS[task]
    return "\n".join([
        "$schema: https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json",
        "type: automl",
        f"experiment_name: {json.dumps(experiment)}",
        f"description: {json.dumps(f'{kind} on the reviewed captures at azureml://datastores/{datastore.name}/paths/{datastore.path}')}",
        f"compute: {json.dumps(f'azureml:{compute}')}",
        f"task: {kind}",
        f"primary_metric: {metric}",
        "target_column_name: label",
        "training_data:",
        "  type: mltable",
        f"  path: {json.dumps(datastore.url('train'))}",
        "limits:",
        "  timeout_minutes: 60",
        "  max_trials: 1",
        "",
    ])


def next_steps(job_file: Path, experiment: str, platform_hint: str = "arm32v7") -> list[str]:
    """The commands to run after the upload: train, download the best model, convert it for arm32v7, roll it out in
    a layered deployment (see docs/fleets.md)."""
    return [
        f"az ml job create --file {job_file} --resource-group <group> --workspace-name <workspace> --query name -o tsv",
        "az ml job show --name <job name> --resource-group <group> --workspace-name <workspace> --web  "
        "# the best trial: its 'Best model summary' (the parent run's MLflow tag automl_best_child_run_id)",
        "az ml job download --name <best child run id> --all --download-path automl-model "
        "--resource-group <group> --workspace-name <workspace>",
        f"mkdir -p {experiment}-model && cp \"$(find automl-model -path '*train_artifacts/model.onnx')\" "
        f"\"$(find automl-model -path '*train_artifacts/labels.json')\" {experiment}-model/",
        f"make convert-model EXPORT={experiment}-model OUT={experiment}-model  # adds model.tflite for {platform_hint}",
        f"(cd {experiment}-model && zip -r ../{experiment}-model.zip .) && sha256sum {experiment}-model.zip",
        f"az storage blob upload --account-name <account> --container-name models --file {experiment}-model.zip "
        f"--name {experiment}-model.zip && az storage blob generate-sas --account-name <account> --container-name models "
        f"--name {experiment}-model.zip --permissions r --expiry <YYYY-MM-DD> --full-uri -o tsv",
        f"MODEL_URL='<the SAS URL>' MODEL_SHA256=<the sha256> make config-layered PLATFORM={platform_hint} "
        f"LAYERED_ARGS=\"--deployment-id {experiment} --priority <above the current layer>\"",
        f"az iot edge deployment create --hub-name <hub> --deployment-id {experiment} --layered "
        f"--content config/deployment.layered.{platform_hint}.json --metrics config/deployment.layered.{platform_hint}"
        f".metrics.json --target-condition \"tags.platform='{platform_hint}' AND tags.environment='test'\" "
        "--priority <above the current layer>",
    ]


def dataset_location(args: argparse.Namespace, folder: Path) -> Datastore:
    """``--datastore`` and ``--path`` (default ``edge-captures/<folder name>``), checked for a URI path."""
    path = (args.path or f"edge-captures/{folder.resolve().name}").strip("/")
    if not path or any(part in ("", ".", "..") for part in path.split("/")) or any(c in path for c in "\\?#% "):
        raise AzuremlError(f"--path {args.path!r}: give a plain path in the datastore, e.g. edge-captures/review-1")
    if not args.datastore or not all(c.isalnum() or c == "_" for c in args.datastore):
        raise AzuremlError(f"--datastore {args.datastore!r}: a datastore name is letters, digits and _")
    return Datastore(args.datastore, path)


def export(args: argparse.Namespace, folder: Path, pictures: Sequence[Picture]) -> None:
    """After ``captures export --format azureml``: the dataset files for the review folder just written."""
    write_dataset(folder, pictures, args.task, dataset_location(args, folder))
    logger.info("review the pictures, then: python -m localedge captures upload %s --to azureml --task %s", folder, args.task)


# ---- upload to the datastore's container ------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _write_record(path: Path, record: Mapping[str, str]) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(json.dumps(dict(sorted(record.items())), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


class ContainerUploader:
    """Blobs into one existing container with bounded retries: a lost connection, a timeout, a 5xx or a 429 is
    retried after 2, 4, 8... s (at most 30 s), at most 6 attempts a blob; anything else fails at once."""

    def __init__(self, connection_string: str, container: str, sleep: Callable[[float], None] = time.sleep) -> None:
        from azure.storage.blob import BlobServiceClient

        # the SDK's own retries off: this class is the one bound on attempts
        service = BlobServiceClient.from_connection_string(connection_string, retry_total=0,
                                                           connection_timeout=HTTP_TIMEOUT_S, read_timeout=HTTP_TIMEOUT_S)
        self.account = service.account_name
        self.container = container
        self._client = service.get_container_client(container)
        self._sleep = sleep
        self.retried = 0

    def put(self, name: str, data: bytes, content_type: str) -> None:
        from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceNotFoundError,
                                           ServiceRequestError, ServiceResponseError)
        from azure.storage.blob import ContentSettings

        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self._client.upload_blob(name, data, overwrite=True, content_settings=ContentSettings(content_type=content_type))
                return
            except ClientAuthenticationError:
                raise AzuremlError(f"account {self.account}: the key or SAS was refused; check "
                                   "AZUREML_STORAGE_CONNECTION_STRING") from None
            except ResourceNotFoundError:
                raise AzuremlError(f"account {self.account} has no container {self.container!r}: give the datastore's "
                                   "container (az ml datastore show --name workspaceblobstore --query "
                                   "container_name)") from None
            except (ServiceRequestError, ServiceResponseError, HttpResponseError) as exc:
                status = getattr(exc, "status_code", None)
                if isinstance(exc, HttpResponseError) and status is not None and status != 429 and status < 500:
                    raise AzuremlError(f"account {self.account} refused {name}: {status} {exc.reason}") from None
                if attempt == MAX_ATTEMPTS:
                    raise AzuremlError(f"account {self.account} is out of reach after {MAX_ATTEMPTS} attempts "
                                       f"({type(exc).__name__}); run the upload again to go on") from None
                self.retried += 1
                self._sleep(min(2.0 ** attempt, MAX_BACKOFF_S))


def _connection_string(args: argparse.Namespace, variables: Mapping[str, str]) -> str:
    text = (args.connection_string or variables.get("AZUREML_STORAGE_CONNECTION_STRING") or "").strip()
    if not text:
        raise AzuremlError("no storage account for Azure ML: set AZUREML_STORAGE_CONNECTION_STRING in .env (the "
                           "storage account of the workspace's datastore: az storage account show-connection-string "
                           "--name <account>)")
    return text


def upload(args: argparse.Namespace, pictures: Sequence[Picture], sleep: Callable[[float], None] = time.sleep) -> int:
    """``captures upload FOLDER --to azureml``: write the dataset from the reviewed folder, upload the pictures not
    uploaded yet (``FOLDER/azureml/uploaded.json``: blob name -> SHA-256), then the JSONL and MLTable, write
    ``FOLDER/azureml/job.yml`` and print the ``az ml`` commands. Exit 0; 2 with one line when nothing could be done
    or the storage stopped answering (what was uploaded is recorded, so a second run goes on)."""
    folder = Path(args.folder)
    variables = load_variables(Path(args.env_file), os.environ)
    connection_string = _connection_string(args, variables)
    container = (args.azureml_container or variables.get("AZUREML_CONTAINER") or "").strip()
    if not container:
        raise AzuremlError("no datastore container: pass --azureml-container or set AZUREML_CONTAINER in .env (az ml "
                           "datastore show --name workspaceblobstore --query container_name)")
    datastore = dataset_location(args, folder)
    train, named = write_dataset(folder, pictures, args.task, datastore)
    record_path = folder / DATASET_DIR / "uploaded.json"
    try:
        record: dict[str, str] = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    except ValueError:
        record = {}
    uploader = ContainerUploader(connection_string, container, sleep)
    sent = 0
    try:
        for picture in named:
            blob = f"{datastore.path}/images/{picture.path}"
            digest = _sha256(folder / picture.path)
            if record.get(blob) == digest:
                continue
            suffix = PurePosixPath(picture.path).suffix.lower().lstrip(".")
            uploader.put(blob, (folder / picture.path).read_bytes(), f"image/{'jpeg' if suffix in ('jpg', 'jpe', 'jfif') else suffix}")
            record[blob] = digest
            sent += 1
            if sent % RECORD_EVERY == 0:
                _write_record(record_path, record)
        for name, content_type in ((JSONL_NAME, "application/jsonl"), ("MLTable", "text/yaml")):
            uploader.put(f"{datastore.path}/train/{name}", (train / name).read_bytes(), content_type)
    finally:
        _write_record(record_path, record)
    experiment = args.experiment or f"edge-captures-{args.task}"
    job_file = folder / DATASET_DIR / "job.yml"
    job_file.write_text(job_yaml(args.task, datastore, args.compute, experiment), encoding="utf-8")
    logger.info("uploaded %d picture(s) (%d already there) and the dataset to %s/%s/%s%s", sent, len(named) - sent,
                uploader.account, container, datastore.path, f"; retried {uploader.retried} time(s)" if uploader.retried else "")
    logger.info("the dataset: %s; the AutoML job: %s. Next:", datastore.url("train"), job_file)
    for command in next_steps(job_file, experiment):
        logger.info("  %s", command)
    return 0


def add_options(parser: argparse.ArgumentParser, uploading: bool) -> None:
    """The Azure ML options of ``captures export`` (``--format azureml``) or ``captures upload`` (``--to azureml``)."""
    group = parser.add_argument_group("Azure Machine Learning (--format azureml / --to azureml)")
    group.add_argument("--task", choices=sorted(TASKS), default="multiclass",
                       help="the AutoML image task (default: %(default)s)")
    group.add_argument("--datastore", default=DEFAULT_DATASTORE, help="the workspace's blob datastore (default: %(default)s)")
    group.add_argument("--path", help="the dataset's path in the datastore (default: edge-captures/<folder name>)")
    if uploading:
        group.add_argument("--azureml-container", help="the datastore's blob container (default: AZUREML_CONTAINER "
                           "from .env); the account: AZUREML_STORAGE_CONNECTION_STRING")
        group.add_argument("--connection-string", help="the datastore's storage account (prefer .env)")
        group.add_argument("--compute", default="gpu-cluster", help="the job's compute cluster (default: %(default)s)")
        group.add_argument("--experiment", help="the job's experiment name (default: edge-captures-<task>)")
