"""Health, metrics and the API description of the classifier service.

``/health/live``: the process serves HTTP. ``/health/ready``: 200 once a model is loaded and
warmed up, 503 before. ``/metrics``: Prometheus text format: requests by route
and status, request latency and inference time histograms (s), and the active model.
``/openapi.json``: an OpenAPI 3.0 description of every route.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, Info, generate_latest

from classifier.export import CustomVisionModel
from classifier.serving import ModelSlot
from edgekit.redact import redact

LATENCY_BUCKETS_S = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self, slot: ModelSlot) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("classifier_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("classifier_request_seconds", "HTTP request latency, s", ["route"],
                                 buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.inference = Histogram("classifier_inference_seconds", "session.run time per image, s",
                                   buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.model = Info("classifier_model", "the model being served", registry=self.registry)
        if slot.current is not None:
            self.show(slot.current)
        slot.add_listener(self.show)

    def show(self, model: CustomVisionModel) -> None:
        """Make ``model`` the active model in ``classifier_model_info``."""
        # The reported ``model`` property, with Prometheus' snake_case label names (inputSize -> input_size),
        # credentials masked as everywhere else.
        self.model.info({re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): redact(value)
                         for key, value in model.info.reported().items()})


def install(app: Flask, metrics: Metrics, slot: ModelSlot, openapi: dict[str, Any]) -> None:
    """Add the health, metrics and API-description routes, and time every request."""

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
        return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json")
    def describe() -> Response:
        return jsonify(openapi)


def openapi_document(image_routes: list[str], url_routes: list[str], max_url_chars: int) -> dict[str, Any]:
    """OpenAPI 3.0 for the service, as it really answers; route paths use {project} / {publishedName}.

    The image bodies are described by shape only: that the bytes decode as an image (400
    ``BadRequestImageFormat``), stay under the byte and pixel caps (413) and that a URL can be fetched
    (400 ``BadRequestImageUrl``) cannot be said in OpenAPI.
    """
    def error(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    answers = {"200": {"description": "predictions, label order, probabilities rounded to 8 decimals",
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImagePrediction"}}}},
               "400": error("the body is not an image (or has no image), or the URL could not be fetched"),
               "413": error("the body or the image is too large (bytes or pixels)"),
               "415": error("a text or JSON body where an image is expected"),
               "503": error("the model is still loading, or every /url download slot is busy (see Retry-After)")}

    def path(rule: str) -> str:
        return rule.replace("<project>", "{project}").replace("<published_name>", "{publishedName}")

    def parameters(rule: str) -> list[dict[str, Any]]:
        names = [n for n in ("project", "publishedName") if "{" + n + "}" in path(rule)]
        return [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}} for n in names]

    def form(field: dict[str, Any]) -> dict[str, Any]:
        return {"schema": {"type": "object", "required": ["imageData"], "properties": {"imageData": field}}}

    image_body = {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
        "multipart/form-data": form({"type": "string", "format": "binary", "minLength": 1}),
        "application/x-www-form-urlencoded": form({"type": "string", "minLength": 1,
                                                   "description": "the image, base64-encoded"})}}
    url_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["url"], "properties": {"url": {
            "type": "string", "minLength": 1, "maxLength": max_url_chars,
            "description": "an http(s) URL of a public host (or one listed in URL_ALLOWED_HOSTS); `Url` is accepted too"}}}}}}
    paths: dict[str, Any] = {}
    for rule in image_routes:
        paths[path(rule)] = {"post": {"summary": "Classify the image in the request", "parameters": parameters(rule),
                                      "requestBody": image_body, "responses": answers}}
    for rule in url_routes:
        paths[path(rule)] = {"post": {"summary": "Classify the image at a URL (http or https)", "parameters": parameters(rule),
                                      "requestBody": url_body, "responses": answers}}

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
    prediction = {"type": "object", "properties": {
        "tagName": {"type": "string"}, "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "tagId": {"type": "string"}, "boundingBox": {"nullable": True, "type": "object", "properties": {
            k: {"type": "number"} for k in ("left", "top", "width", "height")}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "ImageClassifierService", "version": "1",
                 "description": "Custom Vision compatible image classification (the Dockerfile export's contract)."},
        "paths": paths,
        "components": {"schemas": {
            "ImagePrediction": {"type": "object", "properties": {
                "id": {"type": "string"}, "project": {"type": "string"}, "iteration": {"type": "string"},
                "created": {"type": "string"}, "predictions": {"type": "array", "items": prediction}}},
            "Error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}},
    }
