"""The REST API: a drop-in replacement for the Custom Vision "Dockerfile" export's service.

contract: docs/customvision.md section 1. ``POST /image`` (and the six project/iteration
variants) takes the image from a multipart file field ``imageData``, a form field
``imageData``, or the raw body; ``POST /url`` takes ``{"url": ...}``. Success is HTTP 200 with
``{"id", "project", "iteration", "created", "predictions": [{"tagName", "probability",
"tagId", "boundingBox"}]}``, probabilities rounded to 8 decimals, those at or below 1e-8
dropped, label order kept. Errors are JSON ``{"code", "message"}`` with a real status:
400 undecodable image, bad request or a URL that could not be fetched (one message for every
fetch failure; the reason is logged), 413 too many bytes or pixels, 415 unsupported media, 503
no model loaded yet or every /url download slot busy (with Retry-After), never 200. Object
detection exports answer with ``boundingBox`` filled in (normalised ``left``, ``top``,
``width``, ``height``), most probable first.

Bounded: bodies over ``max_image_bytes`` are refused by the server before they are buffered
(main.py), images over ``max_image_pixels`` from their header, and the pixels decoded at a time
across requests are at most ``max_image_pixels``; /url downloads take at most
``url_downloads`` workers, for at most ``url_timeout_s`` each, and reach public addresses only
(classifier.fetch.AddressGuard) unless ``url_allowed_hosts`` lists the host.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

from classifier.export import CustomVisionModel, Prediction
from classifier.fetch import AddressGuard, FetchError, fetch
from classifier.observe import Metrics, install, openapi_document
from classifier.preprocess import ImageDecodeError, ImageTooLargeError, PixelBudget, open_image, to_rgb
from classifier.serving import ModelSlot
from classifier.settings import ClassifierSettings
from edgekit.redact import redact

logger = logging.getLogger(__name__)

MIN_PROBABILITY = 1e-8
MAX_URL_CHARS = 2048
FETCH_FAILED = "could not fetch an image from the url"
# The server's own answers (before the app) in this API's codes: edgekit.http.HttpServer(json_errors=...).
SERVER_ERROR_CODES = {413: "BadRequestImageSizeBytes"}
BANNER = "Custom Vision compatible image classifier (ImageClassifierService). POST an image to /image or {\"url\": ...} to /url.\n"

_PREFIXES = (
    "",
    "/<project>",
    "/<project>/classify/iterations/<published_name>",
    "/<project>/detect/iterations/<published_name>",
)


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
    """Predictions -> the Custom Vision response body."""
    return {
        "id": "",
        "project": "",
        "iteration": "",
        "created": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"),
        "predictions": [
            {"tagName": p.tag, "probability": round(p.probability, 8), "tagId": "",
             "boundingBox": p.box.as_json() if p.box is not None else None}
            for p in predictions
            if p.probability > MIN_PROBABILITY
        ],
    }


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _image_from_request() -> bytes:
    content_type = (request.mimetype or "").lower()
    if content_type in _FORM_TYPES:  # only forms have fields; a raw body skips werkzeug's form parser
        upload = request.files.get("imageData")
        if upload is not None:
            return upload.read()
        if "imageData" in request.form:
            text = request.form["imageData"]
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                return text.encode("utf-8", "surrogateescape")
    if content_type.startswith("text/") or content_type == "application/json":
        raise ApiError(415, "UnsupportedMediaType", f"send the image as application/octet-stream or multipart 'imageData', not {content_type}")
    return request.get_data(cache=False)


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


def create_app(model: CustomVisionModel | ModelSlot, settings: ClassifierSettings) -> Flask:
    """The Flask app serving ``model`` (a loaded model, or a slot whose model can be swapped live
    and is None while loading: 503); dependencies passed in so tests use a real small model."""
    slot = model if isinstance(model, ModelSlot) else ModelSlot(model)
    app = Flask("ImageClassifierService")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_image_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the export's key order

    metrics = Metrics(slot)
    guard = AddressGuard(settings.allowed_hosts)
    decoding = PixelBudget(settings.max_image_pixels)  # one largest image in memory at a time, or several smaller
    slots = settings.effective_url_downloads
    downloads = threading.BoundedSemaphore(slots) if slots else None

    def ready_model() -> CustomVisionModel:
        """The model that answers this request, even if a swap happens meanwhile; 503 while loading."""
        active = slot.current
        if active is None:
            raise ApiError(503, "ServiceUnavailable", "the model is still loading: retry in a few seconds")
        return active

    def classify(active: CustomVisionModel, data: bytes) -> Response:
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
            raw = active.raw(tensor)
        return jsonify(prediction_response(active.decode(raw)))

    def by_image(**_: str) -> Response:
        active = ready_model()  # before reading a body the model could not classify anyway
        return classify(active, _image_from_request())

    def by_url(**_: str) -> Response:
        active = ready_model()
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
            data = _fetch(url, settings, guard)
        finally:
            downloads.release()
        return classify(active, data)

    image_routes, url_routes = [], []
    for prefix in _PREFIXES:
        for suffix in ("", "/nostore"):
            if prefix == "" and suffix:
                continue
            image_routes.append(f"{prefix}/image{suffix}")
            url_routes.append(f"{prefix}/url{suffix}")
            app.add_url_rule(image_routes[-1], f"image:{prefix}{suffix}", by_image, methods=["POST"])
            app.add_url_rule(url_routes[-1], f"url:{prefix}{suffix}", by_url, methods=["POST"])
    install(app, metrics, slot, openapi_document(image_routes, url_routes, MAX_URL_CHARS))

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
        return _error(500, "InternalServerError", "the classifier failed on this image; see the module log")

    return app
