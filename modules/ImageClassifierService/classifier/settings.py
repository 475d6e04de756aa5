"""ImageClassifierService settings (environment variables; see the README's table)."""

from __future__ import annotations

from pydantic import Field

from edgekit.settings import ModuleSettings


class ClassifierSettings(ModuleSettings):
    """port: TCP port of the REST API (80 in the container); model_dir: export folder or zip,
    empty for the model bundled next to main.py; threads: HTTP worker threads;
    inference_threads: ONNX Runtime intra-op threads (0 = one per core);
    max_image_bytes: upload and /url download cap (4 MB, as the Custom Vision export);
    url_timeout_s: /url download timeout in s."""

    port: int = Field(80, ge=1, le=65535)
    model_dir: str = ""
    threads: int = Field(4, ge=1, le=64)
    inference_threads: int = Field(0, ge=0, le=64)
    max_image_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    url_timeout_s: float = Field(10.0, gt=0, le=120)
