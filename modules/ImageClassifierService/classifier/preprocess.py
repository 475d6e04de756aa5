"""Image decoding and the Custom Vision preprocessing recipe.

contract: docs/customvision.md section 4 and the fixtures' figures. Decode (EXIF orientation
applied); then either resize the shorter side to 256 and centre-crop to
the network size (classic) or stretch to the network size (S1 exports); convert to the model's
colour order and value range; add the batch dimension in the model's layout.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

CLASSIC_SHORTER_SIDE_PX = 256
EXIF_ORIENTATION = 0x0112


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode (JPEG, PNG, BMP, WebP, TIFF...)."""


class ImageTooLargeError(Exception):
    """The image has more pixels than allowed (read from its header, before decoding)."""


@dataclass(frozen=True)
class InputSpec:
    """What the network takes: tensor ``name``, ``layout``, spatial size in px, element dtype."""

    name: str
    layout: Literal["NCHW", "NHWC"]
    height: int
    width: int
    dtype: type[np.floating]


@dataclass(frozen=True)
class Recipe:
    """How an image becomes the network's input.

    colour: channel order the network expects; scale: multiplier from 0-255 (1.0 or 1/255);
    resize: "classic" (shorter side 256, centre crop) or "stretch" (straight to the input size).
    """

    colour: Literal["BGR", "RGB"] = "BGR"
    scale: float = 1.0
    resize: Literal["classic", "stretch"] = "classic"
    shorter_side: int = CLASSIC_SHORTER_SIDE_PX


_UNDECODABLE = "the image could not be decoded: send a JPEG, PNG, BMP, WebP or TIFF image"


def open_image(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Encoded image bytes -> a Pillow image whose header only was read (no pixel decoded yet).

    max_pixels: width x height allowed (a 136 KB PNG can hold 144 megapixels, 430 MB decoded); None:
    Pillow's own limit. Raises ImageDecodeError when the bytes are empty or no image,
    ImageTooLargeError when the image has more than ``max_pixels`` pixels.
    """
    if not data:
        raise ImageDecodeError("the request contains no image data")
    try:
        opened = Image.open(io.BytesIO(data))  # reads the header only; in memory: nothing to close
    except Image.DecompressionBombError as exc:  # past twice Pillow's own limit: refused while opening
        raise ImageTooLargeError(f"the image has more than {max_pixels or Image.MAX_IMAGE_PIXELS} pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageDecodeError(_UNDECODABLE) from exc
    width, height = opened.size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(f"the image is {width}x{height} pixels, more than the {max_pixels} allowed")
    return opened


def to_rgb(opened: Image.Image) -> Image.Image:
    """An image from :func:`open_image` -> decoded, RGB, EXIF orientation applied. Raises ImageDecodeError.

    Pillow (not OpenCV) so the classifier needs no OpenCV at all: a smaller image on every
    platform, and on arm32v7 no Debian OpenCV stack.
    """
    try:
        opened.load()
        image = opened
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
        if image.mode != "RGB":
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(_UNDECODABLE) from exc
    return image


def decode(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Encoded image bytes -> an RGB Pillow image, EXIF orientation applied (:func:`open_image`, then
    :func:`to_rgb`; their errors)."""
    return to_rgb(open_image(data, max_pixels))


class PixelBudget:
    """Pixels decoded at a time, across requests (a weighted semaphore): concurrent large images
    wait for each other instead of all being in memory at once. ``hold(n)`` for n above the
    budget is held alone (waits until nothing else is held)."""

    def __init__(self, pixels: int) -> None:
        self._total = self._free = pixels
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(pixels, self._total)
        with self._cond:
            self._cond.wait_for(lambda: self._free >= pixels)
            self._free -= pixels
        try:
            yield
        finally:
            with self._cond:
                self._free += pixels
                self._cond.notify_all()


def _resize(image: Image.Image, width: int, height: int) -> Image.Image:
    # Pillow's bilinear filter (antialiased when shrinking) is what the exported service uses;
    # OpenCV's resizers give visibly different probabilities on the fixture models.
    return image.resize((width, height), Image.Resampling.BILINEAR)


def _classic(image: Image.Image, shorter: int, height: int, width: int) -> Image.Image:
    w, h = image.size
    ratio = shorter / min(h, w)
    new_w, new_h = max(width, round(w * ratio)), max(height, round(h * ratio))
    left, top = (new_w - width) // 2, (new_h - height) // 2
    # Resizing only the source region under the centre crop samples exactly the pixels a full
    # resize followed by the crop would (same scale, offset box), for about half the work.
    sx, sy = w / new_w, h / new_h
    box = (left * sx, top * sy, (left + width) * sx, (top + height) * sy)
    return image.resize((width, height), Image.Resampling.BILINEAR, box=box)


def to_tensor(image: Image.Image, spec: InputSpec, recipe: Recipe) -> np.ndarray:
    """RGB Pillow image -> network input, shape [1,3,H,W] or [1,H,W,3] of ``spec.dtype``."""
    if recipe.resize == "stretch":
        fitted = _resize(image, spec.width, spec.height)
    else:
        fitted = _classic(image, recipe.shorter_side, spec.height, spec.width)
    # Pillow writes the channels in the model's order in one C pass (a numpy flip is 8x slower).
    pixels = np.frombuffer(fitted.tobytes("raw", recipe.colour), dtype=np.uint8).reshape(spec.height, spec.width, 3)
    if spec.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    tensor = np.empty((1, *pixels.shape), dtype=spec.dtype)
    if recipe.scale != 1.0:
        np.multiply(pixels, recipe.scale, out=tensor[0], dtype=np.float32, casting="unsafe")
    else:
        tensor[0] = pixels  # one pass: lay out and convert
    return tensor
