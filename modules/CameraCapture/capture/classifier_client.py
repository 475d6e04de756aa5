"""HTTP client of the classifier (Custom Vision REST contract: POST raw JPEG, JSON predictions)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import cv2
import numpy as np
import urllib3
from pydantic import TypeAdapter, ValidationError

from edgekit.prediction import MODEL_FLAVOUR_HEADER, MODEL_SHA256_HEADER, Prediction
from edgekit.redact import redact
from edgekit.runtime import backoff

logger = logging.getLogger(__name__)

_PREDICTIONS = TypeAdapter(list[Prediction])
# The classifier says which model answered (ImageClassifierService's app: the model file's SHA-256 and its flavour).
MODEL_HEADERS = (MODEL_SHA256_HEADER, MODEL_FLAVOUR_HEADER)


class ClassifierError(RuntimeError):
    """The classifier did not answer with predictions (down, timed out, HTTP error, bad JSON)."""


class ClassifierClient:
    """POSTs JPEG frames to ``endpoint`` (e.g. http://ImageClassifierService:80/image); timeout in s;
    prediction_key: sent as the ``Prediction-Key`` header when not empty (the classifier's PREDICTION_KEY).

    model_headers: the last successful answer's ``X-Model-Sha256`` / ``X-Model-Flavour`` headers, under those
    names, as sent (unchecked; capture.retrain.records.model_info validates them); {} before the first answer and when
    the classifier sends neither (e.g. the Custom Vision cloud). One request at a time: they are the last one's.
    """

    def __init__(self, endpoint: str, timeout_s: float, prediction_key: str = "") -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._headers = {"Content-Type": "application/octet-stream", **({"Prediction-Key": prediction_key} if prediction_key else {})}
        shown = redact(endpoint)
        self._shown = shown if len(shown) <= 80 else f"{shown[:77]}... ({len(shown)} characters)"
        # urllib3 directly: half the per-request CPU of requests, which matters at tens of frames a second.
        self._http = urllib3.PoolManager(maxsize=1, retries=False)
        self.model_headers: dict[str, str] = {}

    def classify(self, jpeg: bytes) -> list[Prediction]:
        """Predictions for one JPEG, in the order the classifier gives; raises ClassifierError."""
        try:
            reply = self._http.request("POST", self.endpoint, body=jpeg, timeout=self.timeout_s, headers=self._headers)
        except (urllib3.exceptions.HTTPError, ValueError) as exc:  # ValueError: a URL that cannot be encoded
            raise ClassifierError(f"{self._shown} unreachable: {exc.__class__.__name__}") from exc
        if reply.status != 200:
            raise ClassifierError(f"{self._shown} answered HTTP {reply.status}: {reply.data[:200].decode(errors='replace')}")
        self.model_headers = {name: reply.headers[name] for name in MODEL_HEADERS if name in reply.headers}
        try:
            return _PREDICTIONS.validate_python(reply.json().get("predictions"))
        except (ValueError, AttributeError, ValidationError) as exc:
            raise ClassifierError(f"{self._shown} answered without Custom Vision predictions: {exc}") from exc

    def wait_until_ready(self, stop: threading.Event, wanted: Callable[[], bool] = lambda: True) -> bool:
        """Block until the classifier classifies a probe image; False if ``stop`` was set or ``wanted()``
        turned False first (the endpoint was changed meanwhile)."""
        ok, probe = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
        assert ok
        last = ""
        for delay in backoff(initial_s=0.5, maximum_s=10.0):
            try:
                self.classify(probe.tobytes())
                logger.info("classifier at %s is ready", self._shown)
                return True
            except ClassifierError as exc:
                if str(exc) != last:
                    logger.info("waiting for the classifier: %s", exc)
                    last = str(exc)
            if stop.wait(delay) or not wanted():
                return False
        return False
