"""Image folders, globs and single images as a source: a slideshow, each image shown for a set time."""

from __future__ import annotations

import glob
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def is_image_set(video_path: str) -> bool:
    """True for a folder, a glob pattern (``*``, ``?``, ``[``) or a file with an image suffix."""
    path = Path(video_path)
    return path.is_dir() or any(ch in video_path for ch in "*?[") or path.suffix.lower() in IMAGE_SUFFIXES


def list_images(video_path: str) -> list[Path]:
    """The images of a folder, glob or single image, sorted by name; other files are ignored."""
    base = Path(video_path)
    candidates = base.iterdir() if base.is_dir() else (Path(p) for p in glob.glob(glob.escape(video_path) if base.is_file() else video_path))
    return sorted(p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
