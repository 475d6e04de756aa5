"""Image folders, globs and single images as a source: a slideshow, each image shown for a set time."""

from __future__ import annotations

import glob
import os
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def is_image_set(video_path: str) -> bool:
    """True for a folder, a glob pattern (``*``, ``?``, ``[``) or a file with an image suffix.

    Never raises: a name the filesystem refuses (too long, a NUL) is simply not a folder.
    """
    return os.path.isdir(video_path) or any(ch in video_path for ch in "*?[") or Path(video_path).suffix.lower() in IMAGE_SUFFIXES


def list_images(video_path: str) -> list[Path]:
    """The images of a folder, glob or single image, sorted by name; other files are ignored.

    Raises OSError when a folder cannot be listed (no permission); a glob that matches nothing gives [].
    """
    if os.path.isdir(video_path):
        candidates = list(Path(video_path).iterdir())
    else:
        pattern = glob.escape(video_path) if os.path.isfile(video_path) else video_path
        candidates = [Path(p) for p in glob.glob(pattern)]
    return sorted(p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES and os.path.isfile(p))
