"""Image folders and globs as a source: a slideshow, each image shown for a set time."""

from __future__ import annotations

import glob
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def is_image_set(video_path: str) -> bool:
    """True for a folder or a glob pattern (``*``, ``?``, ``[``) naming images."""
    return Path(video_path).is_dir() or any(ch in video_path for ch in "*?[")


def list_images(video_path: str) -> list[Path]:
    """The images of a folder or glob, sorted by name; other files are ignored."""
    base = Path(video_path)
    candidates = base.iterdir() if base.is_dir() else (Path(p) for p in glob.glob(video_path))
    return sorted(p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
