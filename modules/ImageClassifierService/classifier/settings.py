"""ImageClassifierService settings (environment variables; see the README's table)."""

from __future__ import annotations

import os

from pydantic import field_validator

from edgekit.settings import ModuleSettings, live, startup


class ClassifierSettings(ModuleSettings):
    """Start-up settings (env only): port: TCP port of the REST API (80 in the container); model_dir: export folder or zip,
    empty for the model bundled next to main.py; threads: HTTP worker threads;
    inference_threads: threads each inference may use (0 = half the cores, at least 1, so two
    concurrent requests share the machine instead of fighting over it);
    max_image_bytes: upload and /url download cap (4 MB, as the Custom Vision export);
    url_timeout_s: /url download timeout in s;
    Live settings: model_url / model_sha256 (module twin ``modelUrl`` / ``modelSha256``): replace the model live
    with the export at this http(s) URL, verified against the SHA-256 when given; empty: the
    model from MODEL_DIR."""

    port: int = startup(80, ge=1, le=65535)
    model_dir: str = startup("")
    threads: int = startup(4, ge=1, le=64)
    inference_threads: int = startup(0, ge=0, le=64)
    max_image_bytes: int = startup(4 * 1024 * 1024, ge=1024)
    url_timeout_s: float = startup(10.0, gt=0, le=120)
    model_url: str = live("", max_length=1024)
    model_sha256: str = live("")

    @property
    def effective_inference_threads(self) -> int:
        """Threads per inference: ``inference_threads``, or half the cores (at least 1) when 0."""
        return self.inference_threads or max(1, (os.cpu_count() or 2) // 2)

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
