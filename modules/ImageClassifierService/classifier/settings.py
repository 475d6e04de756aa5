"""ImageClassifierService settings (environment variables; see docs/settings.md)."""

from __future__ import annotations

from pydantic import SecretStr, field_validator, model_validator

from classifier.cores import default_inference_threads, usable_cores
from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup


class ClassifierSettings(ModuleSettings):
    """Start-up settings (env only): port: TCP port of the REST API (80 in the container); model_dir: export folder or zip,
    empty for the model bundled next to main.py; threads: HTTP worker threads;
    inference_threads: threads each inference may use (0: from the cores the container may use, its
    CPU affinity and quota, all but one for CameraCapture from 3 cores up, all of them on 1 or 2;
    classifier/cores.py);
    max_image_bytes: upload and /url download cap (4 MB, as the Custom Vision export), enforced by the
    server before it buffers a body;
    max_image_pixels: width x height an image may have, checked on its header before decoding (a
    16-megapixel image takes about 50-110 MB while decoded);
    url_timeout_s: deadline of a whole /url download (connect and every read), s;
    url_downloads: /url downloads at a time (more: 503 with Retry-After), fewer than ``threads`` so
    downloads never hold every HTTP worker (the default 2 becomes ``threads`` - 1 when threads < 3);
    url_allowed_hosts: comma-separated host names or addresses /url may fetch from although they
    are not public (loopback, private, link-local...), e.g. ``localhost`` for the local runner;
    model_url_allowed_hosts: the same for the desired ``modelUrl`` (a model server on the local network);
    idle_timeout_s: an HTTP connection with no request in progress is closed after this long, s;
    connection_limit: HTTP connections open at a time (more wait to be accepted);
    prediction_key: a secret; when set, every prediction route (the Dockerfile export's and the cloud
    API's) answers 401 unless the request's ``Prediction-Key`` header equals it; empty: open to any
    caller that reaches the port. Health, metrics and /openapi.json stay open;
    metrics_port: TCP port serving the same Prometheus metrics as ``/metrics`` for the IoT Edge metrics
    collector, like every module's (0: only ``/metrics`` on ``port``);
    Live settings: model_url / model_sha256 (module twin ``modelUrl`` / ``modelSha256``): replace the model live
    with the export at this http(s) URL, verified against the SHA-256 when given; empty: the
    model from MODEL_DIR."""

    port: int = startup(80, ge=1, le=65535)
    model_dir: str = startup("")
    threads: int = startup(4, ge=1, le=64)
    inference_threads: int = startup(0, ge=0, le=64)
    max_image_bytes: int = startup(4 * 1024 * 1024, ge=1024)
    max_image_pixels: int = startup(16_000_000, ge=64 * 64)
    url_timeout_s: float = startup(10.0, gt=0, le=120)
    url_downloads: int = startup(2, ge=0, le=63)
    url_allowed_hosts: str = startup("", max_length=1024)
    model_url_allowed_hosts: str = startup("", max_length=1024)
    idle_timeout_s: int = startup(10, ge=1, le=600)
    connection_limit: int = startup(250, ge=8, le=900)
    prediction_key: SecretStr = startup(SecretStr(""), max_length=256)
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)
    model_url: str = live("", max_length=1024)
    model_sha256: str = live("")

    @property
    def effective_inference_threads(self) -> int:
        """Threads per inference: ``inference_threads``, or when 0 the default for the cores this container may use."""
        return self.inference_threads or default_inference_threads(usable_cores())

    @property
    def effective_url_downloads(self) -> int:
        """``url_downloads``, at most ``threads`` - 1 (only the default can be above it)."""
        return min(self.url_downloads, self.threads - 1)

    @model_validator(mode="after")
    def _workers_left(self) -> ClassifierSettings:
        if "url_downloads" in self.model_fields_set and self.url_downloads >= self.threads:
            raise ValueError(f"URL_DOWNLOADS ({self.url_downloads}) must be less than THREADS ({self.threads}), "
                             "so that /url downloads never hold every HTTP worker")
        return self

    @field_validator("model_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL of a Custom Vision export zip or model file, or empty")
        return value

    @field_validator("model_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        if value and (len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value)):
            raise ValueError("must be the 64 hexadecimal digits of the export's SHA-256, or empty")
        return value.lower()
