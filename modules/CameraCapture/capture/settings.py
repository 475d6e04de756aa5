"""CameraCapture settings: environment variables give the defaults, desired properties override."""

from __future__ import annotations

from pydantic import Field, field_validator

from edgekit.settings import ModuleSettings


class CaptureSettings(ModuleSettings):
    """video_path: camera index ("0"), device path, stream URL or video file (VIDEO_PATH);
    loop_video: replay a file from the start at its end; image_processing_endpoint: the
    classifier's URL (Custom Vision REST contract); threshold: minimum probability 0-1 for a
    tag to count; frame_rate: frames classified per second; resize_width: width in px the frame
    is scaled to before sending, aspect kept (0 = as captured); jpeg_quality: 1-100;
    classifier_timeout_s: per-request timeout in s."""

    video_path: str = "0"
    loop_video: bool = False
    image_processing_endpoint: str = "http://ImageClassifierService:80/image"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    frame_rate: float = Field(2.0, gt=0.0, le=30.0)
    resize_width: int = Field(0, ge=0, le=4096)
    jpeg_quality: int = Field(90, ge=1, le=100)
    classifier_timeout_s: float = Field(5.0, gt=0.0, le=60.0)

    @field_validator("video_path")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("VIDEO_PATH must name a camera index, device, stream URL or file")
        return value.strip()

    @field_validator("image_processing_endpoint")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL of the classifier")
        return value
