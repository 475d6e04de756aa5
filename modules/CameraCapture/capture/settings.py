"""CameraCapture settings: environment variables give the defaults, desired properties override live."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, field_validator

from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup


class CaptureSettings(ModuleSettings):
    """Live settings: an env variable at start (``FRAME_RATE``) and a desired property (``frameRate``);
    the start-up settings are prediction_key, the classifier's PREDICTION_KEY (a secret, sent as
    the ``Prediction-Key`` header; empty: none), and metrics_port, the TCP port of the Prometheus
    metrics for the IoT Edge metrics collector (0: not served).

    video_path: camera index ("0"), device path, stream URL, video file, image folder or glob;
    loop_video: replay a file or image folder from the start at its end;
    slideshow_interval_s: how long each image of a folder is shown, s;
    image_processing_endpoint: the classifier's URL (Custom Vision REST contract);
    classifier_timeout_s: per-request timeout, s;
    frame_rate: newest frames classified per second;
    threshold: minimum probability 0-1 for a tag to count;
    scene_change_threshold: skip classifying a frame whose mean grey-level difference from the
    last classified frame is below this (0-255; 0 = classify every sample);
    resize_width: px the frame is scaled to before sending, aspect kept (0 = as captured);
    jpeg_quality: 1-100;
    send_on: "change" (a message when the top tag changes) or "every" (every classification);
    heartbeat_s: also resend the current state after this many s without a message (0 = off);
    min_interval_s: at least this many s between messages; a change meanwhile is sent after;
    show_video / live_view_port: the live web view and its TCP port;
    report_interval_s: how often rates and counters go to reported properties, s."""

    video_path: str = live("0")
    loop_video: bool = live(False)
    slideshow_interval_s: float = live(2.0, ge=0.01, le=3600.0)
    image_processing_endpoint: str = live("http://ImageClassifierService:80/image")
    classifier_timeout_s: float = live(5.0, ge=0.1, le=60.0)
    frame_rate: float = live(2.0, ge=0.001, le=100.0)
    threshold: float = live(0.5, ge=0.0, le=1.0)
    scene_change_threshold: float = live(0.0, ge=0.0, le=255.0)
    resize_width: int = live(0, ge=0, le=4096)
    jpeg_quality: int = live(90, ge=1, le=100)
    send_on: Literal["change", "every"] = live("change")
    heartbeat_s: float = live(0.0, ge=0.0, le=86400.0)
    min_interval_s: float = live(0.0, ge=0.0, le=3600.0)
    show_video: bool = live(False)
    live_view_port: int = live(5012, ge=1, le=65535)
    report_interval_s: float = live(30.0, ge=1.0, le=3600.0)
    prediction_key: SecretStr = startup(SecretStr(""), max_length=256)
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)

    @field_validator("video_path")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a camera index, device, stream URL, video file or image folder")
        return value.strip()

    @field_validator("image_processing_endpoint")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL of the classifier")
        return value
