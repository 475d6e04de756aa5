"""Image decoding and the Custom Vision preprocessing recipe.

contract: docs/customvision.md section 4 and the fixtures' figures. Decode (EXIF orientation
applied); then either resize the shorter side to 256 and centre-crop to
the network size (classic) or stretch to the network size (S1 exports); convert to the model's
colour order and value range; add the batch dimension in the model's layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

CLASSIC_SHORTER_SIDE_PX = 256
EXIF_ORIENTATION = 0x0112


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode (JPEG, PNG, BMP, WebP, TIFF...)."""


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


def decode(data: bytes) -> Image.Image:
    """Encoded image bytes -> an RGB Pillow image, EXIF orientation applied.

    Pillow (not OpenCV) so the classifier needs no OpenCV at all: a smaller image on every
    platform, and on arm32v7 no Debian OpenCV stack. Raises ImageDecodeError when the bytes are
    empty or not a decodable image.
    """
    if not data:
        raise ImageDecodeError("the request contains no image data")
    try:
        image = Image.open(io.BytesIO(data))  # in memory: nothing to close
        image.load()
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
        if image.mode != "RGB":
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError("the image could not be decoded: send a JPEG, PNG, BMP, WebP or TIFF image") from exc
    return image


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
