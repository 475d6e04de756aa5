"""Health, metrics and the API description of the classifier service.

``/health/live``: the process serves HTTP. ``/health/ready``: 200 once a model is loaded and
warmed up, 503 before. ``/metrics``: Prometheus text format: requests by route
and status, request latency and inference time histograms (s), and the active model.
``/openapi.json``: an OpenAPI 3.0 description of every route.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from pydantic.alias_generators import to_camel

from classifier.model import Model
from classifier.serving import ModelSlot
from edgekit.metrics import identity, labelled_registry
from edgekit.redact import redact

LATENCY_BUCKETS_S = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app); ``/metrics`` serves them
    with ``labels`` on every sample (default: the metrics collector's identity labels of this process,
    see :func:`edgekit.metrics.identity`: none when run standalone)."""

    def __init__(self, slot: ModelSlot, labels: Mapping[str, str] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.served = labelled_registry(self.registry, identity(os.environ) if labels is None else labels)
        self.requests = Counter("classifier_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("classifier_request_seconds", "HTTP request latency, s", ["route"],
                                 buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.inference = Histogram("classifier_inference_seconds", "session.run time per image, s",
                                   buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.model = Info("classifier_model", "the model being served", registry=self.registry)
        self.threads = Gauge("classifier_inference_threads", "threads one inference may use (INFERENCE_THREADS, "
                             "or chosen from the usable cores)", registry=self.registry)
        self.cores = Gauge("classifier_usable_cores", "cores this container may use: its CPU affinity and quota",
                           registry=self.registry)
        if slot.current is not None:
            self.show(slot.current)
        slot.add_listener(self.show)

    def show(self, model: Model) -> None:
        """Make ``model`` the active model in ``classifier_model_info``."""
        # The reported ``model`` property, with Prometheus' snake_case label names (inputSize -> input_size),
        # credentials masked as everywhere else.
        self.model.info({re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): redact(value)
                         for key, value in model.info.reported().items()})


def install(app: Flask, metrics: Metrics, slot: ModelSlot, openapi: dict[str, Any]) -> None:
    """Add the health, metrics and API-description routes, and time every request; ``metrics`` is kept
    as ``app.extensions["metrics"]`` (main.py can serve its registry on another port too)."""
    app.extensions["metrics"] = metrics

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if route != "/metrics":
            metrics.requests.labels(route, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.get("/health/live")
    def live() -> Response:
        return jsonify({"status": "live"})

    @app.get("/health/ready")
    def ready() -> Response | tuple[Response, int]:
        model = slot.current
        if model is None:
            return jsonify({"status": "loading"}), 503
        info = model.info
        return jsonify({"status": "ready", "model": {"sha256": info.sha256, "flavour": info.flavour, "task": info.task,
                                                     "labels": list(info.labels)}})

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.served), content_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json")
    def describe() -> Response:
        return jsonify(openapi)


class Route(NamedTuple):
    """A prediction route: its Flask ``rule``, where the image comes from (``source``: "image", in the
    body; "url", fetched) and whether it is the cloud prediction API's (``cloud``) or the Dockerfile export's."""

    rule: str
    source: str
    cloud: bool


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/<project>/classify/iterations/<published_name>/image`` ->
    ``/{project}/classify/iterations/{publishedName}/image``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + to_camel(m.group(1)) + "}", rule)


def _schemas() -> dict[str, Any]:
    box = {"type": "object", "required": ["left", "top", "width", "height"], "nullable": True,
           "properties": {k: {"type": "number"} for k in ("left", "top", "width", "height")}}
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    export = {"type": "object", "required": ["tagName", "probability", "tagId", "boundingBox"], "properties": {
        "tagName": {"type": "string"}, "probability": probability, "tagId": {"type": "string"}, "boundingBox": box}}
    cloud = {"type": "object", "required": ["probability", "tagId", "tagName", "boundingBox"], "properties": {
        "probability": probability, "tagId": {"type": "string", "format": "uuid"}, "tagName": {"type": "string"},
        "boundingBox": box, "tagType": {"type": "string", "enum": ["Regular", "Negative", "GeneralProduct"],
                                        "description": "v3.1 only"}}}

    def answer(ids: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "required": ["id", "project", "iteration", "created", "predictions"], "properties": {
            **{k: ids for k in ("id", "project", "iteration")}, "created": {"type": "string"},
            "predictions": {"type": "array", "items": item}}}

    return {
        "ImagePrediction": answer({"type": "string"}, export),
        "CloudImagePrediction": answer({"type": "string", "format": "uuid"}, cloud),
        "Error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}}}}


def openapi_document(routes: list[Route], max_url_chars: int, key_required: bool) -> dict[str, Any]:
    """OpenAPI 3.0 for the service, as it really answers.

    The image bodies are described by shape only: that the bytes decode as an image (400
    ``BadRequestImageFormat``), stay under the byte and pixel caps (413) and that a URL can be fetched
    (400 ``BadRequestImageUrl``) cannot be said in OpenAPI. key_required: the prediction routes
    require the ``Prediction-Key`` header (the ``predictionKey`` security scheme; 401 without it).
    """
    def error(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    named = {"X-Model-Sha256": {"description": "the SHA-256 of the model file that answered", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
             "X-Model-Flavour": {"description": "the flavour of the model that answered (as the reported model.flavour)",
                                 "required": True, "schema": {"type": "string", "minLength": 1}}}

    def answers(route: Route) -> dict[str, Any]:
        shape = "CloudImagePrediction" if route.cloud else "ImagePrediction"
        found = ("every tag, most probable first, numbers at float32 precision" if route.cloud else
                 "predictions, label order, probabilities rounded to 8 decimals")
        more = {"404": error("another API version, or a project id that is not a GUID")} if route.cloud else {}
        if key_required:
            more["401"] = error("the Prediction-Key header is missing or wrong")
        return {"200": {"description": found, "headers": named,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{shape}"}}}},
                "400": error("the body is not an image (or has no image), or the URL could not be fetched"),
                "413": error("the body or the image is too large (bytes or pixels)"),
                "415": error("a text or JSON body where an image is expected"),
                "503": error("the model is still loading, or every /url download slot is busy (see Retry-After)"), **more}

    def parameters(route: Route) -> list[dict[str, Any]]:
        text = {"type": "string", "minLength": 1}
        schemas = {"project": text, "publishedName": text, "version": {"type": "string", "enum": ["v3.0", "v3.1"]},
                   "projectId": {"type": "string", "format": "uuid"}}
        found = [{"name": n, "in": "path", "required": True, "schema": s} for n, s in schemas.items()
                 if "{" + n + "}" in openapi_path(route.rule)]
        if route.cloud:
            found.append({"name": "application", "in": "query", "required": False, "schema": {"type": "string"},
                          "description": "the calling application's name (accepted, not used)"})
        return found

    def form(field: dict[str, Any]) -> dict[str, Any]:
        return {"schema": {"type": "object", "required": ["imageData"], "properties": {"imageData": field}}}

    binary = {"type": "string", "format": "binary", "minLength": 1}
    cloud_image = {"application/octet-stream": {"schema": binary}, "multipart/form-data": form(binary)}
    image_body = {"required": True, "content": {**cloud_image, "application/x-www-form-urlencoded": form(
        {"type": "string", "minLength": 1, "description": "the image, base64-encoded"})}}
    url_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["url"], "properties": {"url": {
            "type": "string", "minLength": 1, "maxLength": max_url_chars,
            "description": "an http(s) URL of a public host (or one listed in URL_ALLOWED_HOSTS); `Url` is accepted too"}}}}}}
    paths: dict[str, Any] = {}
    for route in routes:
        operation = {"summary": "Classify the image in the request" if route.source == "image" else
                     "Classify the image at a URL (http or https)",
                     "parameters": parameters(route), "responses": answers(route),
                     "requestBody": url_body if route.source == "url" else
                     {"required": True, "content": cloud_image} if route.cloud else image_body}
        if key_required:
            operation["security"] = [{"predictionKey": []}]
        paths[openapi_path(route.rule)] = {"post": operation}

    def get(summary: str, media: str, schema: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"get": {"summary": summary, "responses": {"200": {"description": "OK", "content": {media: {"schema": schema}}},
                                                          **more}}}

    status = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    paths.update({"/": get("A text banner", "text/plain", {"type": "string"}),
                  "/health/live": get("The process serves HTTP", "application/json", status),
                  "/health/ready": get("The model is loaded and warmed up", "application/json", status,
                                       **{"503": {"description": "still loading", "content": {
                                           "application/json": {"schema": status}}}}),
                  "/metrics": get("Prometheus metrics", "text/plain", {"type": "string"}),
                  "/openapi.json": get("This document", "application/json", {"type": "object"})})
    return {
        "openapi": "3.0.3",
        "info": {"title": "ImageClassifierService", "version": "1",
                 "description": "Custom Vision compatible image classification: the Dockerfile export's contract, and the "
                                "cloud prediction API v3.0/v3.1 (/customvision/..., path segments matched without regard "
                                "to case). With PREDICTION_KEY set, every prediction route requires the Prediction-Key "
                                "header; health, metrics and this document stay open."},
        "paths": paths,
        "components": {"schemas": _schemas(), "securitySchemes": {
            "predictionKey": {"type": "apiKey", "in": "header", "name": "Prediction-Key"}}},
    }
