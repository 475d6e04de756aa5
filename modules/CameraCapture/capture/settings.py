"""CameraCapture settings: environment variables give the defaults, desired properties override live."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import SecretStr, field_validator

from edgekit.metrics import DEFAULT_PORT as DEFAULT_METRICS_PORT
from edgekit.settings import ModuleSettings, live, startup

CONTAINER_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"  # and 3-63 characters: Azure's container names
CONTAINER_NAME = re.compile(CONTAINER_PATTERN)


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
    frame_rate: classifications per second at most (the default 4 suits a Pi 3: its ~0.1 s per
    classification of a compact model, ~0.3 G multiply-adds, on 3 threads is then at most half its
    CPU while the scene keeps changing; a Pi 5 uses ~10 %; docs/modules.md "Classify on change"); with the
    scene gate off, exactly this many, the newest frame every 1 / frame_rate s;
    threshold: minimum probability 0-1 for a tag to count; with not_sure_floor (0-1) it decides what is in
        view for the whole solution (the message's ``state``): "tag" at or above threshold, "notSure"
        below it but at or above not_sure_floor (a floor at or above threshold: never), else "empty";
        the display and the speech render that state (:func:`edgekit.messages.in_view`);
    scene_change_threshold: the scene gate: every frame the source delivers is compared with the
    last classified one (mean grey-level difference of 64x48 thumbnails, 0-255) and classified,
    as soon as the classifier is free, when it differs by this much or more; a still scene is not
    classified (0 = the gate off: classify every sample at frame_rate);
    resize_width: px the frame is scaled to before sending, aspect kept (0 = as captured);
    jpeg_quality: 1-100;
    send_on: "change" (a message when the top tag changes) or "every" (every classification);
    heartbeat_s: also resend the current state after this many s without a message (0 = off);
    min_interval_s: at least this many s between messages; a change meanwhile is sent after;
    show_video / live_view_port: the live web view and its TCP port; live_view_token: a secret (from ``.env``) every
    request to the live view must carry (``?token=`` or ``Authorization: Bearer``; "": none, keep it on loopback);
    report_interval_s: how often rates and counters go to reported properties, s.

    Captures for retraining (the capture/retrain package; off by default):
    capture_mode: "off", "uncertain" (the best probability within capture_band of threshold),
    "changes" (every change of the top tag) or "sample" (a random capture_fraction of the frames);
    capture_band: 0-0.5, half-width of the band around threshold;
    capture_fraction: 0-1, the share of frames "sample" keeps;
    capture_quota: captures per tag per UTC day (the most probable tag);
    capture_max_per_hour: captures in any 60 minutes, all tags (a hard rate limit);
    capture_scene_change: a frame whose mean grey-level difference (0-255) from the last captured
    one is below this is the same scene and not captured again (0: off);
    capture_group_by: "day" (blob names start with the UTC day, ``20261130/``) or "tag" (with the
    tag, ``apple/``), in the one container capture_container.
    Start-up: capture_container, the container every capture goes to (an Azure container name: 3-63
    lowercase letters, digits and single hyphens; the one the Blob Storage on IoT Edge module's
    storageContainersForUpload names, so captures are uploaded and then deleted on the device);
    capture_storage_connection_string, the Blob Storage account's connection string (a secret; empty:
    captures are files under capture_dir, ``<capture_dir>/<container>/<day or tag>/<name>``);
    capture_dir, that folder (and the spool's parent); capture_spool_dir, where captures wait while
    storage is down (empty: capture_dir/.spool); capture_spool_max_mb, the spool's bound, MB."""

    video_path: str = live("0")
    loop_video: bool = live(False)
    slideshow_interval_s: float = live(2.0, ge=0.01, le=3600.0)
    image_processing_endpoint: str = live("http://ImageClassifierService:80/image")
    classifier_timeout_s: float = live(5.0, ge=0.1, le=60.0)
    frame_rate: float = live(4.0, ge=0.001, le=100.0)
    threshold: float = live(0.5, ge=0.0, le=1.0)
    not_sure_floor: float = live(0.3, ge=0.0, le=1.0)
    scene_change_threshold: float = live(2.0, ge=0.0, le=255.0)
    resize_width: int = live(0, ge=0, le=4096)
    jpeg_quality: int = live(90, ge=1, le=100)
    send_on: Literal["change", "every"] = live("change")
    heartbeat_s: float = live(0.0, ge=0.0, le=86400.0)
    min_interval_s: float = live(0.0, ge=0.0, le=3600.0)
    show_video: bool = live(False)
    live_view_port: int = live(5012, ge=1, le=65535)
    live_view_token: SecretStr = startup(SecretStr(""))
    report_interval_s: float = live(30.0, ge=1.0, le=3600.0)
    capture_mode: Literal["off", "uncertain", "changes", "sample"] = live("off")
    capture_band: float = live(0.15, ge=0.0, le=0.5)
    capture_fraction: float = live(0.01, ge=0.0, le=1.0)
    capture_quota: int = live(50, ge=1, le=100000)
    capture_max_per_hour: int = live(60, ge=1, le=3600)
    capture_scene_change: float = live(8.0, ge=0.0, le=255.0)
    capture_group_by: Literal["day", "tag"] = live("day")
    prediction_key: SecretStr = startup(SecretStr(""), max_length=256)
    metrics_port: int = startup(DEFAULT_METRICS_PORT, ge=0, le=65535)
    capture_container: str = startup("captures", min_length=3, max_length=63)
    capture_storage_connection_string: SecretStr = startup(SecretStr(""), max_length=4096)
    capture_dir: str = startup("/captures", min_length=1, max_length=1024)
    capture_spool_dir: str = startup("", max_length=1024)
    capture_spool_max_mb: int = startup(200, ge=1, le=1000000)

    @field_validator("video_path")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a camera index, device, stream URL, video file or image folder")
        return value.strip()

    @field_validator("capture_container")
    @classmethod
    def _container_name(cls, value: str) -> str:
        if not CONTAINER_NAME.fullmatch(value):
            raise ValueError("must be an Azure container name: 3-63 lowercase letters, digits and single hyphens, "
                             "starting and ending with a letter or digit (e.g. captures)")
        return value

    @field_validator("image_processing_endpoint")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL of the classifier")
        return value
