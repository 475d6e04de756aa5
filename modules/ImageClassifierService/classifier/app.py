"""The REST API: a drop-in replacement for the Custom Vision "Dockerfile" export's service, and
for the cloud prediction API (v3.0, v3.1) that the official prediction SDKs call.

contract: docs/customvision.md sections 1 and 5. Two families of routes, one request path (key,
model, body, decoding, caps, metrics); only the answer's shape differs:

- the Dockerfile export's: ``POST /image`` (and the six project/iteration variants) takes the image
  from a multipart part ``imageData`` (a file, or a field: raw bytes or base64), a form field
  ``imageData`` (base64), or the raw body; ``POST /url`` takes ``{"url": ...}``. Success is HTTP 200
  with ``{"id": "", "project": "", "iteration": "", "created", "predictions": [{"tagName",
  "probability", "tagId": "", "boundingBox"}]}``, probabilities rounded to 8 decimals, those at or
  below 1e-8 dropped, label order kept (detections: most probable first).
- the cloud API's: ``POST /customvision/{v3.0|v3.1}/prediction/{projectId}/{classify|detect}/
  iterations/{publishedName}/{image|url}[/nostore]``, path segments matched without regard to
  case, an ``application`` query parameter accepted and ignored, the same bodies. Success is HTTP
  200 with ``{"id": <a new GUID>, "project": <projectId>, "iteration": <GUID of the served model,
  from its SHA-256>, "created": ISO 8601 UTC, "predictions": [{"probability", "tagId": <GUID from
  the iteration and tag name>, "tagName", "boundingBox", "tagType": "Regular" (v3.1 only)}]}``,
  every tag, most probable first, numbers at float32 precision (9 significant digits) as the
  cloud writes them. ``publishedName`` is not checked (one model is served), and a detect route
  on a classifier (or classify on a detector) answers what the model gives, as the export does.

Every successful prediction also carries the headers ``X-Model-Sha256`` and ``X-Model-Flavour``,
naming the model that answered (:func:`model_headers`; issue 14), the body unchanged. Every request
is answered by Flask (under waitress: main.py), the prediction routes through one request path.

Errors are JSON ``{"code", "message"}`` (the cloud's ``CustomVisionError``) with a real status:
400 undecodable image, bad request or a URL that could not be fetched (one message for every
fetch failure; the reason is logged), 401 a missing or wrong ``Prediction-Key`` header when
``prediction_key`` is set, 404 an unknown route (a cloud route with another API version or a
project id that is not a GUID), 413 too many bytes or pixels, 415 unsupported media, 503 no model
loaded yet or every /url download slot busy (with Retry-After), never 200. Boxes are normalised
``left``, ``top``, ``width``, ``height`` (0-1 of the image).

Bounded: bodies over ``max_image_bytes`` are refused by the server before they are buffered
(main.py), images over ``max_image_pixels`` from their header, and the pixels decoded at a time
across requests are at most ``max_image_pixels``; /url downloads take at most
``url_downloads`` workers, for at most ``url_timeout_s`` each, and reach public addresses only
(classifier.fetch.AddressGuard) unless ``url_allowed_hosts`` lists the host.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask, Response, jsonify, request
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Event, Field as PartField, File, MultipartDecoder, NeedData

from classifier.model import BoundingBox, Model, ModelInfo, Prediction
from classifier.fetch import AddressGuard, FetchError, fetch
from edgekit.heap import give_back
from classifier.cores import usable_cores
from classifier.observe import Metrics, Route, install, openapi_document
from classifier.preprocess import ImageDecodeError, ImageTooLargeError, PixelBudget, open_image, to_rgb
from classifier.serving import ModelSlot
from classifier.settings import ClassifierSettings
from edgekit.redact import redact

logger = logging.getLogger(__name__)

MIN_PROBABILITY = 1e-8
MAX_URL_CHARS = 2048
MAX_PARTS = 64  # multipart parts read before the image's
LARGE_PIXELS = 1_000_000  # images with more px than this are followed by give_back() (edgekit.heap)
FETCH_FAILED = "could not fetch an image from the url"
# The server's own answers (before the app) in this API's codes: edgekit.http.HttpServer(json_errors=...).
SERVER_ERROR_CODES = {413: "BadRequestImageSizeBytes"}
BANNER = ("Custom Vision compatible image classifier (ImageClassifierService). POST an image to /image or {\"url\": ...} "
          "to /url, or call /customvision/v3.1/prediction/... as the Custom Vision prediction SDKs do.\n")
KEY_HEADER = "Prediction-Key"
UNEXPECTED = "the classifier failed on this image; see the module log"
API_VERSIONS = ("v3.0", "v3.1")
CLOUD_PREFIX = "/customvision/<version>/prediction/<project_id>"
GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
ITERATIONS = uuid.UUID("9d8696e7-8f2b-4ce1-87f9-ef4ed4bdd656")  # namespace of the iteration GUIDs, from a model's SHA-256

_PREFIXES = (
    "",
    "/<project>",
    "/<project>/classify/iterations/<published_name>",
    "/<project>/detect/iterations/<published_name>",
)

Shape = Callable[[Model, list[Prediction]], dict[str, Any]]


class ApiError(Exception):
    """An error answered as JSON ``{"code", "message"}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class UrlBody(BaseModel):
    """The ``/url`` request body: ``{"url": "https://..."}`` (``Url`` accepted too, as older docs wrote it)."""

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS, validation_alias=AliasChoices("url", "Url"))


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> tuple[Response, int]:
    response = jsonify({"code": code, "message": message})
    response.headers.update(headers or {})
    return response, status


def prediction_response(predictions: list[Prediction]) -> dict[str, Any]:
    """Predictions -> the Dockerfile export's response body."""
    return {
        "id": "",
        "project": "",
        "iteration": "",
        "created": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"),
        "predictions": [
            {"tagName": p.tagName, "probability": round(p.probability, 8), "tagId": p.tagId,
             "boundingBox": None if p.boundingBox is None else _sides(p.boundingBox, lambda side: round(side, 8))}
            for p in predictions
            if p.probability > MIN_PROBABILITY
        ],
    }


def _sides(box: BoundingBox, number: Callable[[float], float]) -> dict[str, float]:
    """A box as its JSON object, each side written by ``number``."""
    return {"left": number(box.left), "top": number(box.top), "width": number(box.width), "height": number(box.height)}


def _float32(value: float) -> float:
    """``value`` as the cloud service writes a float32: 9 significant digits."""
    return float(f"{value:.9g}")


def cloud_response(predictions: list[Prediction], model_sha256: str, project: str, version: str) -> dict[str, Any]:
    """Predictions -> the cloud prediction API's ``ImagePrediction`` body (see the module docstring)."""
    iteration = uuid.uuid5(ITERATIONS, model_sha256)

    def item(p: Prediction) -> dict[str, Any]:
        box = None if p.boundingBox is None else _sides(p.boundingBox, _float32)
        answer = {"probability": _float32(p.probability), "tagId": str(uuid.uuid5(iteration, p.tagName)),
                  "tagName": p.tagName, "boundingBox": box}
        return answer if version == "v3.0" else {**answer, "tagType": "Regular"}

    return {
        "id": str(uuid.uuid4()),
        "project": project,
        "iteration": str(iteration),
        "created": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "predictions": [item(p) for p in sorted(predictions, key=lambda p: p.probability, reverse=True)],
    }


def model_headers(info: ModelInfo) -> tuple[tuple[str, str], ...]:
    """The response headers naming the model that answered a prediction (the body stays the Custom
    Vision one): ``X-Model-Sha256``, the model file's SHA-256 (64 hex digits, as the reported
    ``model.sha256``), and ``X-Model-Flavour``, the reported ``model.flavour`` (e.g. ``ONNX12``,
    ``TensorFlowLite``, ``automl-multiclass``) as printable ASCII of at most 64 characters (an
    export's manifest or producer name could hold anything)."""
    return info.identity.headers()


def export_shape(_model: Model, predictions: list[Prediction]) -> dict[str, Any]:
    """The Dockerfile export's routes' answer: :func:`prediction_response`."""
    return prediction_response(predictions)


def cloud_shape(version: str, project_id: str) -> Shape:
    """The cloud API's answer for a route's ``version`` and ``project_id`` (:func:`cloud_response`);
    ApiError 404 for another API version or a project id that is not a GUID."""
    if version not in API_VERSIONS or not GUID.fullmatch(project_id):
        raise ApiError(404, "NotFound", "no such route: /customvision/{v3.0|v3.1}/prediction/{projectId: a GUID}/...")
    project = project_id.lower()
    return lambda active, predictions: cloud_response(predictions, active.info.sha256, project, version)


def fold_cloud_paths(app: WSGIApplication) -> WSGIApplication:
    """WSGI middleware: lower-case the fixed segments of a ``/customvision/...`` path (all but the
    project id and the published name), so that the cloud routes match without regard to case."""
    def folded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path[:14].lower() == "/customvision/":
            environ["PATH_INFO"] = "/".join(part if i in (4, 7) else part.lower() for i, part in enumerate(path.split("/")))
        return app(environ, start_response)
    return folded


def _part(body: bytes, boundary: str, name: str) -> bytes | None:
    """The bytes of the multipart part ``name``, a file or a field alike (werkzeug would decode a
    field as UTF-8 text, breaking the image the Python SDK sends as a field); None when absent.
    ValueError when the body does not parse or has more than ``MAX_PARTS`` parts before that one."""
    if not boundary:
        raise ValueError("no multipart boundary")
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_parts=MAX_PARTS)  # each part costs a pass over the rest
    decoder.receive_data(body)
    decoder.receive_data(None)
    current, chunks = None, list[bytes]()
    event: Event = decoder.next_event()
    while not isinstance(event, (Epilogue, NeedData)):
        if isinstance(event, (PartField, File)):
            current, chunks = event.name, []
        elif isinstance(event, Data) and current == name:
            chunks.append(event.data)
            if not event.more_data:
                return b"".join(chunks)
        try:
            event = decoder.next_event()
        except RequestEntityTooLarge as exc:  # what werkzeug raises past max_parts
            raise ValueError(f"more than {MAX_PARTS} parts") from exc
    return None


def _base64_or_raw(data: bytes) -> bytes:
    """A form field's image: base64 text decoded, anything else (raw image bytes) as it is."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data


def _image_from_request() -> bytes:
    content_type = (request.mimetype or "").lower()
    if content_type == "multipart/form-data":  # only forms have fields; a raw body skips the form parsers
        try:
            part = _part(request.get_data(cache=False), request.mimetype_params.get("boundary", ""), "imageData")
        except ValueError as exc:
            raise ApiError(400, "BadRequestImageFormat", "the multipart body does not parse: send the image in a part 'imageData'") from exc
        return _base64_or_raw(part) if part is not None else b""
    if content_type == "application/x-www-form-urlencoded":
        return _base64_or_raw(request.form.get("imageData", "").encode("utf-8", "surrogateescape"))
    if content_type.startswith("text/") or content_type == "application/json":
        raise ApiError(415, "UnsupportedMediaType", f"send the image as application/octet-stream or multipart 'imageData', not {content_type}")
    return request.get_data(cache=False)


def _authorise(key: bytes, sent: str | None) -> None:
    """401 unless ``sent``, the request's ``Prediction-Key`` header (None: absent), is ``key`` (UTF-8),
    compared in constant time; no check when ``key`` is empty. The key itself is never in an answer or a log."""
    if not key:
        return
    if sent is None:
        raise ApiError(401, "Unauthorized", f"this service requires the {KEY_HEADER} header (its PREDICTION_KEY is set)")
    if not hmac.compare_digest(sent.encode("latin-1", "replace"), key):  # WSGI headers are latin-1: the bytes sent
        raise ApiError(401, "Unauthorized", f"the {KEY_HEADER} header does not match this service's PREDICTION_KEY")


def _fetch(url: str, settings: ClassifierSettings, guard: AddressGuard) -> bytes:
    """The image at ``url``, within ``url_timeout_s`` in all. Every failure but a too large image
    answers the same (a caller cannot probe hosts and ports); the reason is logged, credentials masked."""
    data = bytearray()
    try:
        fetch(url, settings.url_timeout_s, settings.max_image_bytes, data.extend, deadline_s=settings.url_timeout_s,
              guard=guard)
    except FetchError as exc:
        logger.warning("/url %s failed: %s", redact(url), redact(str(exc)))
        if exc.too_large:
            raise ApiError(413, "BadRequestImageSizeBytes", f"the image at the url is larger than {settings.max_image_bytes} bytes") from exc
        raise ApiError(400, "BadRequestImageUrl", FETCH_FAILED) from exc
    return bytes(data)


def create_app(model: Model | ModelSlot, settings: ClassifierSettings) -> Flask:
    """The Flask app serving ``model`` (a loaded model, or a slot whose model can be swapped live
    and is None while loading: 503); dependencies passed in so tests use a real small model."""
    slot = model if isinstance(model, ModelSlot) else ModelSlot(model)
    app = Flask("ImageClassifierService")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_image_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the export's key order

    metrics = Metrics(slot)

    def loaded(_model: Model) -> None:
        give_back()  # what loading it left free in the heap

    slot.add_listener(loaded)
    metrics.threads.set(settings.effective_inference_threads)
    metrics.cores.set(usable_cores())
    guard = AddressGuard(settings.url_allowed_hosts.split(","))
    decoding = PixelBudget(settings.max_image_pixels)  # one largest image in memory at a time, or several smaller
    slots = settings.effective_url_downloads
    downloads = threading.BoundedSemaphore(slots) if slots else None
    key = settings.prediction_key.get_secret_value().encode("utf-8")

    def ready_model() -> Model:
        """The model that answers this request, even if a swap happens meanwhile; 503 while loading."""
        active = slot.current
        if active is None:
            raise ApiError(503, "ServiceUnavailable", "the model is still loading: retry in a few seconds")
        return active

    def predict(active: Model, data: bytes) -> list[Prediction]:
        try:
            opened = open_image(data, settings.max_image_pixels)
            with decoding.hold(opened.width * opened.height):
                tensor = active.preprocess(to_rgb(opened))
                opened.close()  # its pixels leave memory before the next image's come in
        except ImageDecodeError as exc:
            raise ApiError(400, "BadRequestImageFormat", str(exc)) from exc
        except ImageTooLargeError as exc:
            raise ApiError(413, "BadRequestImageDimensions", str(exc)) from exc
        with metrics.inference.time():
            raw = active.predict(tensor)
        if opened.width * opened.height > LARGE_PIXELS:
            give_back()  # a large photo's freed buffers leave the process, not only the heap
        return active.postprocess(raw)

    def image_at_url() -> bytes:
        try:
            url = UrlBody.model_validate(request.get_json(silent=True)).url
        except ValidationError as exc:
            raise ApiError(400, "BadRequestImageUrl", f'send a JSON body {{"url": "https://..."}} (at most {MAX_URL_CHARS} characters)') from exc
        if downloads is None:
            raise ApiError(503, "ServiceUnavailable", "/url is turned off here (URL_DOWNLOADS=0, or THREADS=1): send the image to /image")
        if not downloads.acquire(blocking=False):  # answered at once: downloads never hold every worker
            raise ApiError(503, "ServiceUnavailable", f"all {slots} /url download slots are busy: retry shortly",
                           {"Retry-After": str(math.ceil(settings.url_timeout_s))})
        try:
            return _fetch(url, settings, guard)
        finally:
            downloads.release()

    def serve(read: Callable[[], bytes], shape: Shape) -> Response:
        """The one request path of every prediction route: key, model, body, predictions, ``shape``d, with the
        headers naming the model that answered. Raises ApiError."""
        _authorise(key, request.headers.get(KEY_HEADER))
        active = ready_model()  # before reading a body the model could not classify anyway
        response = jsonify(shape(active, predict(active, read())))
        response.headers.extend(model_headers(active.info))
        return response

    def export_view(read: Callable[[], bytes]) -> Callable[..., Response]:
        return lambda **_: serve(read, export_shape)

    def cloud_view(read: Callable[[], bytes]) -> Callable[..., Response]:
        def view(version: str, project_id: str, published_name: str) -> Response:
            return serve(read, cloud_shape(version, project_id))
        return view

    routes: list[Route] = []

    def add(rule: str, source: str, view: Callable[..., Response]) -> None:
        routes.append(Route(rule, source, cloud=rule.startswith(CLOUD_PREFIX)))
        app.add_url_rule(rule, rule, view, methods=["POST"])

    for read, source in ((_image_from_request, "image"), (image_at_url, "url")):
        for prefix in _PREFIXES:
            for suffix in ("", "/nostore") if prefix else ("",):  # there is no bare /image/nostore
                add(f"{prefix}/{source}{suffix}", source, export_view(read))
        for task in ("classify", "detect"):
            for suffix in ("", "/nostore"):
                add(f"{CLOUD_PREFIX}/{task}/iterations/<published_name>/{source}{suffix}", source, cloud_view(read))
    app.wsgi_app = fold_cloud_paths(app.wsgi_app)  # type: ignore[method-assign, assignment]
    install(app, metrics, slot, openapi_document(routes, MAX_URL_CHARS, key_required=bool(key)))

    @app.get("/")
    def banner() -> Response:
        return Response(BANNER, mimetype="text/plain")

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple[Response, int]:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        if status == 413:
            return _error(413, "BadRequestImageSizeBytes", f"the image is larger than {settings.max_image_bytes} bytes")
        allow = dict(exc.get_headers()).get("Allow")  # 405 says which methods the route takes
        return _error(status, exc.name.replace(" ", ""), exc.description or exc.name, {"Allow": allow} if allow else None)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        logger.exception("unexpected error")
        return _error(500, "InternalServerError", UNEXPECTED)

    return app
