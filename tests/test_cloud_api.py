"""The cloud prediction API (v3.0, v3.1) on ImageClassifierService, driven by the official Python
prediction SDK (azure-cognitiveservices-vision-customvision 3.1.1) whose only change is its endpoint,
against the real service process (main.py under waitress) with PREDICTION_KEY set (issue 13)."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import shutil
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from azure.cognitiveservices.vision.customvision.prediction import CustomVisionPredictionClient
from azure.cognitiveservices.vision.customvision.prediction.models import CustomVisionErrorException, ImagePrediction
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from msrest.authentication import ApiKeyCredentials
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from classifier.app import FETCH_FAILED
from conftest import IMAGES, MODELS, classifier_main, serving_folder
from test_export_flavours import GRID, _scene, _write_onnx_detector

KEY = "0123456789abcdef0123456789abcdef"  # a Custom Vision prediction key looks like this
PROJECT = "64b822c5-8082-4b36-a426-27225f4aa18c"
ITERATION = "Iteration3"
RED, BLUE = (1, 2), (3, 0)  # the grid cells (row, column) of the scene's squares


@dataclass
class Service:
    base: str
    log: Path

    def post(self, path: str, body: bytes, content_type: str = "application/octet-stream",
             key: str | None = KEY) -> tuple[int, dict[str, Any]]:
        """A plain HTTP POST (no SDK) with the key (None: no key): status and JSON body, whatever the status."""
        headers = {"Content-Type": content_type, **({"Prediction-Key": key} if key is not None else {})}
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def client(self, key: str = KEY) -> CustomVisionPredictionClient:
        """The official SDK client, as an app builds it for the cloud, its endpoint pointed here."""
        return CustomVisionPredictionClient(self.base, ApiKeyCredentials(in_headers={"Prediction-key": key}))


def _run(model_dir: Path, folder: Path) -> Iterator[Service]:
    """main.py on ``model_dir`` with PREDICTION_KEY set, loopback allowed for /url and a 4-megapixel cap;
    stopped with SIGTERM. The key never appears in its log."""
    env = {"MODEL_DIR": str(model_dir), "TMPDIR": str(folder), "PREDICTION_KEY": KEY, "URL_ALLOWED_HOSTS": "127.0.0.1",
           "MAX_IMAGE_PIXELS": "4000000", "LOG_LEVEL": "DEBUG"}
    with classifier_main(env, folder) as (_process, port, log):
        yield Service(f"http://127.0.0.1:{port}", log)
    assert KEY not in log.read_text()


@pytest.fixture(scope="module")
def fruits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from _run(MODELS / "fruits", tmp_path_factory.mktemp("fruits"))


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The compact (YOLO grid) test detector of test_export_flavours: finds red and blue squares."""
    folder = tmp_path_factory.mktemp("detector")
    _write_onnx_detector(folder / "model")
    yield from _run(folder / "model", folder)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback HTTP server with two fixture photos and the detector's scene (scene.png), for the /url routes."""
    folder = tmp_path_factory.mktemp("photos")
    for name in ("banana2.jpg", "apple2.jpg"):
        shutil.copy(IMAGES / name, folder / name)
    _scene({RED: (230, 20, 20), BLUE: (20, 20, 230)}).save(folder / "scene.png")
    with serving_folder(folder) as base:
        yield base


def _check_shape(result: ImagePrediction) -> None:
    """The cloud's ImagePrediction: GUIDs, a UTC time, the project echoed, every prediction typed, most probable first."""
    assert uuid.UUID(result.id) and uuid.UUID(result.iteration) and result.project == PROJECT
    assert isinstance(result.created, datetime) and result.created.utcoffset() == timezone.utc.utcoffset(None)
    probabilities = [p.probability for p in result.predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    for p in result.predictions:
        assert uuid.UUID(p.tag_id) and p.tag_type == "Regular" and 0 <= p.probability <= 1


def _export_answer(service: Service, image: bytes) -> dict[str, float]:
    """{tag: probability} from the Dockerfile export's own route, for the same image."""
    status, body = service.post("/image", image)
    assert status == 200, body
    return {p["tagName"]: p["probability"] for p in body["predictions"]}


def test_sdk_classifies_files_and_urls_with_the_export_routes_probabilities(fruits: Service, photos: str) -> None:
    """classify_image (a file, and bytes as the quickstart sends them), classify_image_with_no_store,
    classify_image_url and classify_image_url_with_no_store: every tag, sorted, each probability what
    /image answers for the same image (there rounded to 8 decimals); the same iteration and tag ids each time."""
    client = fruits.client()
    banana, apple = (IMAGES / "banana2.jpg").read_bytes(), (IMAGES / "apple2.jpg").read_bytes()
    with (IMAGES / "banana2.jpg").open("rb") as file:
        results = {"classify_image(file)": (client.classify_image(PROJECT, ITERATION, file), banana)}
    results.update({
        "classify_image(bytes)": (client.classify_image(PROJECT, ITERATION, banana), banana),
        "classify_image_with_no_store": (client.classify_image_with_no_store(PROJECT, ITERATION, io.BytesIO(apple)), apple),
        "classify_image_url": (client.classify_image_url(PROJECT, ITERATION, f"{photos}/banana2.jpg"), banana),
        "classify_image_url_with_no_store": (client.classify_image_url_with_no_store(
            PROJECT, ITERATION, f"{photos}/apple2.jpg", application="checkout-app"), apple),
    })
    tag_ids = {}
    for method, (result, image) in results.items():
        _check_shape(result)
        expected = _export_answer(fruits, image)
        got = {p.tag_name: p.probability for p in result.predictions}
        assert set(got) == {"Apple", "Banana", "Lemon", "Orange"}, method  # every tag, none dropped
        for tag, probability in expected.items():
            assert got[tag] == pytest.approx(probability, abs=1e-8), (method, tag)
        assert result.predictions[0].tag_name == ("Banana" if image is banana else "Apple"), method
        assert all(p.bounding_box is None for p in result.predictions)
        tag_ids.update({(p.tag_name, p.tag_id) for p in result.predictions})
    assert len({r.iteration for r, _ in results.values()}) == 1 and len({r.id for r, _ in results.values()}) == len(results)
    assert len(tag_ids) == 4  # one GUID per tag, the same in every answer


def test_sdk_detects_objects_from_files_and_urls(detector: Service, photos: str) -> None:
    """detect_image, detect_image_with_no_store, detect_image_url and detect_image_url_with_no_store on the
    test detector: the red and the blue square, each with its cell's box, as /image answers them."""
    client = detector.client()
    buffer = io.BytesIO()
    _scene({RED: (230, 20, 20), BLUE: (20, 20, 230)}).save(buffer, "PNG")
    scene = buffer.getvalue()
    _, export = detector.post("/image", scene)
    boxes = {p["tagName"]: p["boundingBox"] for p in export["predictions"]}
    for result in (client.detect_image(PROJECT, ITERATION, scene),
                   client.detect_image_with_no_store(PROJECT, ITERATION, io.BytesIO(scene)),
                   client.detect_image_url(PROJECT, ITERATION, f"{photos}/scene.png"),
                   client.detect_image_url_with_no_store(PROJECT, ITERATION, f"{photos}/scene.png")):
        _check_shape(result)
        assert sorted(p.tag_name for p in result.predictions) == ["blue", "red"]
        for p in result.predictions:
            box = p.bounding_box
            assert p.probability > 0.9
            assert (box.left, box.top, box.width, box.height) == pytest.approx(tuple(boxes[p.tag_name].values()), abs=1e-7)
            row, col = RED if p.tag_name == "red" else BLUE
            assert box.left + box.width / 2 == pytest.approx((col + 0.5) / GRID, abs=0.05)
            assert box.top + box.height / 2 == pytest.approx((row + 0.5) / GRID, abs=0.05)
    assert client.detect_image(PROJECT, ITERATION, _png(_scene({}))).predictions == []  # a grey scene: nothing


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_route_for_the_other_task_answers_what_the_model_gives(fruits: Service, detector: Service) -> None:
    """One model is served: detect on a classifier gives its tags without boxes, classify on a detector its boxes."""
    detected = fruits.client().detect_image(PROJECT, ITERATION, (IMAGES / "banana1.jpg").read_bytes())
    assert detected.predictions[0].tag_name == "Banana" and detected.predictions[0].bounding_box is None
    classified = detector.client().classify_image(PROJECT, ITERATION, _png(_scene({RED: (230, 20, 20)})))
    assert [p.tag_name for p in classified.predictions] == ["red"] and classified.predictions[0].bounding_box is not None


def test_rest_v3_0_raw_bytes_any_case_and_the_application_parameter(fruits: Service) -> None:
    """The REST reference's form: /customvision/v3.0/Prediction/..., the image as application/octet-stream,
    ?application=...; path segments in any case (the project id and published name kept as sent).
    v3.0 has no tagType; a non-GUID project id or another version is 404."""
    banana = (IMAGES / "banana1.jpg").read_bytes()
    for path in (f"/customvision/v3.0/Prediction/{PROJECT}/classify/iterations/{ITERATION}/image?application=myApp",
                 f"/CustomVision/V3.0/PREDICTION/{PROJECT.upper()}/Classify/Iterations/{ITERATION}/Image/NoStore"):
        status, body = fruits.post(path, banana)
        assert status == 200, body
        assert body["project"] == PROJECT and body["predictions"][0]["tagName"] == "Banana"
        assert list(body["predictions"][0]) == ["probability", "tagId", "tagName", "boundingBox"]
    status, body = fruits.post(f"/customvision/v3.1/prediction/{PROJECT}/classify/iterations/{ITERATION}/url",
                               json.dumps({"url": "http://10.0.0.1/x.jpg"}).encode(), "application/json")
    assert (status, body) == (400, {"code": "BadRequestImageUrl", "message": FETCH_FAILED})  # the same /url guard
    for path in (f"/customvision/v3.1/prediction/not-a-guid/classify/iterations/{ITERATION}/image",
                 f"/customvision/v2.0/prediction/{PROJECT}/classify/iterations/{ITERATION}/image"):
        status, body = fruits.post(path, banana)
        assert status == 404 and body["code"] == "NotFound", path


def _raw_post(service: Service, path: str, body: bytes, key: str | None = KEY) -> tuple[int, Any, bytes]:
    """A raw-body POST over one socket, read as bytes: status, headers, body (any status)."""
    headers = {"Content-Type": "application/octet-stream", **({"Prediction-Key": key} if key is not None else {})}
    connection = http.client.HTTPConnection(service.base.removeprefix("http://"), timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        reply = connection.getresponse()
        return reply.status, reply.headers, reply.read()
    finally:
        connection.close()


def test_every_answer_names_the_model_that_answered(fruits: Service, detector: Service) -> None:
    """Issue 14 on the real service (waitress): X-Model-Sha256 (the model file's SHA-256, as /health/ready
    reports it) and X-Model-Flavour on the SDK's answers (a multipart body) and on raw-body answers (sent
    with their head in one write), each a well-formed answer of exactly Content-Length bytes, the body
    the Custom Vision one; a refused request names no model."""
    banana = (IMAGES / "banana1.jpg").read_bytes()
    models = {}
    for service in (fruits, detector):
        with urllib.request.urlopen(service.base + "/health/ready", timeout=10) as reply:
            model = models[service.base] = json.loads(reply.read())["model"]
        named = (model["sha256"], model["flavour"])
        sdk = service.client().classify_image(PROJECT, ITERATION, banana, raw=True)
        assert sdk.response.status_code == 200 and sdk.output.iteration
        assert (sdk.response.headers["X-Model-Sha256"], sdk.response.headers["X-Model-Flavour"]) == named
        for path in ("/image", f"/customvision/v3.0/prediction/{PROJECT}/detect/iterations/{ITERATION}/image/nostore"):
            status, headers, body = _raw_post(service, path, banana)
            assert status == 200 and int(headers["Content-Length"]) == len(body) and "Transfer-Encoding" not in headers
            assert (headers["X-Model-Sha256"], headers["X-Model-Flavour"]) == named
            assert list(json.loads(body)) == ["id", "project", "iteration", "created", "predictions"]
    assert models[fruits.base]["sha256"] == hashlib.sha256((MODELS / "fruits" / "model.onnx").read_bytes()).hexdigest()
    assert models[detector.base]["sha256"] != models[fruits.base]["sha256"]
    status, headers, _ = _raw_post(fruits, "/image", banana, key="wrong")
    assert status == 401 and "X-Model-Sha256" not in headers


def _error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(CustomVisionErrorException) as raised:
        call()
    return raised.value.response.status_code, raised.value.error.code, raised.value.error.message


def test_sdk_errors_are_the_clouds_custom_vision_errors(fruits: Service) -> None:
    """A missing or wrong key (401), an undecodable image (400), too many pixels (413), a URL it may not
    fetch (400): CustomVisionErrorException with the cloud's codes; the key is never echoed."""
    banana = (IMAGES / "banana1.jpg").read_bytes()
    status, code, message = _error(lambda: fruits.client("wrong").classify_image(PROJECT, ITERATION, banana))
    assert (status, code) == (401, "Unauthorized") and KEY not in message
    for path in ("/image", f"/customvision/v3.1/prediction/{PROJECT}/detect/iterations/{ITERATION}/image"):
        status, body = fruits.post(path, banana, key=None)
        assert status == 401 and body["code"] == "Unauthorized" and "requires the Prediction-Key header" in body["message"]
    client = fruits.client()
    assert _error(lambda: client.classify_image(PROJECT, ITERATION, b"not an image"))[:2] == (400, "BadRequestImageFormat")
    huge = _png(Image.new("RGB", (2500, 2500)))  # 6.25 megapixels, over MAX_IMAGE_PIXELS (4)
    assert _error(lambda: client.detect_image_with_no_store(PROJECT, ITERATION, huge))[:2] == (413, "BadRequestImageDimensions")
    assert _error(lambda: client.classify_image_url(PROJECT, ITERATION, "http://169.254.169.254/latest/")) == (
        400, "BadRequestImageUrl", FETCH_FAILED)


def test_cloud_requests_are_counted_in_metrics_without_a_key(fruits: Service) -> None:
    fruits.client().classify_image_with_no_store(PROJECT, ITERATION, (IMAGES / "apple1.jpg").read_bytes())
    with urllib.request.urlopen(fruits.base + "/metrics", timeout=10) as reply:  # open: no key sent
        text = reply.read().decode()
    rule = "/customvision/<version>/prediction/<project_id>/classify/iterations/<published_name>/image/nostore"
    assert f'classifier_requests_total{{route="{rule}",status="200"}}' in text


def _fuzz(operation: Any, mode: GenerationMode, examples: int, base: str, statuses: Counter[int]) -> None:
    """``examples`` requests generated for ``operation`` in ``mode``, each checked by every
    schemathesis check but positive_data_acceptance, replaced by a stricter one: a documented request may be
    refused only for content OpenAPI cannot describe (random bytes are no image, a random URL cannot be fetched)."""
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        reply = case.call_and_validate(base_url=base, timeout=15, excluded_checks=[positive_data_acceptance])
        statuses[reply.status_code] += 1
        if mode is GenerationMode.POSITIVE and reply.status_code >= 400:
            assert reply.status_code == 400 and reply.json()["code"] in ("BadRequestImageFormat", "BadRequestImageUrl")

    try:
        check()
    except Unsatisfiable:  # nothing invalid to send to an operation without parameters or body
        assert mode is GenerationMode.NEGATIVE and not operation.body, operation.label


def test_the_keyed_service_answers_as_its_openapi_document_says(fruits: Service) -> None:
    """schemathesis, all checks, against the served /openapi.json of a service with PREDICTION_KEY set, the
    key sent: every operation answers as documented, and (ignored_auth) each prediction operation refuses a
    request without the key and one with a wrong key."""
    schema = schemathesis.openapi.from_url(f"{fruits.base}/openapi.json")

    @schema.auth()
    class PredictionKey:
        """The key, on every case but those where schemathesis removed or broke it on purpose (negative cases)."""

        def get(self, case: Any, context: Any) -> str:
            return KEY

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Prediction-Key": data}

    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        for mode, examples in ((GenerationMode.POSITIVE, 8), (GenerationMode.NEGATIVE, 4)):
            _fuzz(result.ok(), mode, examples, fruits.base, statuses)
    print(f"schemathesis with the key: {sum(statuses.values())} requests, by status {dict(statuses)}")
    assert statuses[200] > 0 and not any(status >= 500 for status in statuses)


def test_camera_sends_the_prediction_key_of_a_keyed_classifier(fruits: Service) -> None:
    """CameraCapture's PREDICTION_KEY start-up setting: a keyed classifier answers the camera, and only with the key."""
    from capture.classifier_client import ClassifierClient, ClassifierError
    from capture.settings import CaptureSettings

    jpeg = (IMAGES / "banana2.jpg").read_bytes()
    settings = CaptureSettings.model_validate({"prediction_key": KEY})
    assert settings.reported()["predictionKey"] == "**********"
    predictions = ClassifierClient(fruits.base + "/image", 30, settings.prediction_key.get_secret_value()).classify(jpeg)
    assert max(predictions, key=lambda p: p.probability).tagName == "Banana"
    with pytest.raises(ClassifierError, match="HTTP 401"):
        ClassifierClient(fruits.base + "/image", 30).classify(jpeg)
