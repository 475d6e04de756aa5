"""Image decoding and the Custom Vision preprocessing recipes.

contract: docs/customvision.md section 4 and tests/fixtures/expected.json. Decode (EXIF
orientation applied); then one of three recipes: "classic", the Custom Vision Dockerfile export's
own (longer side to 1600 px at most, centre square sampled to 256x256 by its bilinear rule,
centre crop to the network size), for exports that name no resize method; "shorter_side"
(Pillow resize of the shorter side to 256, centre crop) and "stretch" (Pillow resize straight to
the network size) for exports whose metadata names them, and for detectors and S1 models; convert
to the model's colour order and value range; add the batch dimension in the model's layout.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from classifier.cores import usable_cores

CLASSIC_SHORTER_SIDE_PX = 256
ORIGINAL_SQUARE_PX = 256  # the original container samples its centre square to this, then crops
MAX_SIDE_PX = 1600  # ... after shrinking an image with a side this long or longer to this
CHUNK_ROWS = 32  # output rows computed at a time
BAND_PX = 200_000  # a step-2 resize of more output px than this is split into column bands, one per core
MAX_BANDS = 4
EXIF_ORIENTATION = 0x0112


class ImageDecodeError(ValueError):
    """The bytes are not an image of a format accepted (JPEG, PNG, BMP, WebP, TIFF) that Pillow can decode."""


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
    resize: "classic" (the Dockerfile export container's own recipe, docs/customvision.md section 4),
    "shorter_side" (Pillow: shorter side to ``shorter_side`` px, centre crop) or "stretch"
    (Pillow: straight to the input size).
    """

    colour: Literal["BGR", "RGB"] = "BGR"
    scale: float = 1.0
    resize: Literal["classic", "shorter_side", "stretch"] = "classic"
    shorter_side: int = CLASSIC_SHORTER_SIDE_PX


ACCEPTED_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF")  # what the API promises; Pillow tries no other
_UNDECODABLE = "the image could not be decoded: send a JPEG, PNG, BMP, WebP or TIFF image"
HEADER_BYTES = 16  # what Pillow's plugins look at to recognise a format


def _recognised_format(data: bytes) -> str | None:
    """The format Pillow's plugins recognise from the first bytes of ``data`` (their header checks, the
    ones ``Image.open`` runs; nothing is opened or decoded), for the reason of a refusal; None: none, or
    one of ``ACCEPTED_FORMATS`` (which then did not open: a broken image)."""
    Image.init()
    prefix = data[:HEADER_BYTES]
    for name in Image.ID:
        accept = Image.OPEN[name][1]
        try:
            if accept is not None and accept(prefix) is True:
                return None if name in ACCEPTED_FORMATS else name  # an accepted one that would not open: broken
        except (struct.error, IndexError, TypeError, ValueError, SyntaxError):  # a check that needs more bytes: not it
            continue  # (Image.open ignores the same errors)
    return None


def open_image(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Encoded image bytes -> a Pillow image whose header only was read (no pixel decoded yet).

    Only ``ACCEPTED_FORMATS`` are tried (``Image.open(formats=...)``): ICO and ICNS, which Pillow decodes
    inside ``Image.open`` before any size could be checked, and every other format are refused from the
    header. max_pixels: width x height allowed (a 136 KB PNG can hold 144 megapixels, 430 MB decoded); None:
    Pillow's own limit. Raises ImageDecodeError when the bytes are empty, no image or another format,
    ImageTooLargeError when the image has more than ``max_pixels`` pixels.
    """
    if not data:
        raise ImageDecodeError("the request contains no image data")
    try:
        # reads the header only; in memory: nothing to close
        opened = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:  # past twice Pillow's own limit: refused while opening
        raise ImageTooLargeError(f"the image has more than {max_pixels or Image.MAX_IMAGE_PIXELS} pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        other = _recognised_format(data) if isinstance(exc, UnidentifiedImageError) else None
        if other is not None:
            raise ImageDecodeError(f"{other} images are not accepted: send a JPEG, PNG, BMP, WebP or TIFF image") from exc
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


def _stretch(image: Image.Image, width: int, height: int) -> Image.Image:
    # Pillow's bilinear filter (antialiased when shrinking), as Custom Vision's export samples.
    return image.resize((width, height), Image.Resampling.BILINEAR)


def _shorter_side(image: Image.Image, shorter: int, height: int, width: int) -> Image.Image:
    """Shorter side to ``shorter`` px (Pillow bilinear, antialiased), then the centre ``width`` x ``height``."""
    w, h = image.size
    ratio = shorter / min(h, w)
    new_w, new_h = max(width, round(w * ratio)), max(height, round(h * ratio))
    left, top = (new_w - width) // 2, (new_h - height) // 2
    # Resizing only the source region under the centre crop samples exactly the pixels a full
    # resize followed by the crop would (same scale, offset box), for about half the work.
    sx, sy = w / new_w, h / new_h
    box = (left * sx, top * sy, (left + width) * sx, (top + height) * sy)
    return image.resize((width, height), Image.Resampling.BILINEAR, box=box)


def limited_size(width: int, height: int) -> tuple[int, int]:
    """The size the original container's step 2 gives a ``width`` x ``height`` image: with a side of
    ``MAX_SIDE_PX`` or more, shrunk so that its longer side is ``MAX_SIDE_PX``; else unchanged."""
    if width < MAX_SIDE_PX and height < MAX_SIDE_PX:
        return width, height
    return (MAX_SIDE_PX * width // height, MAX_SIDE_PX) if height > width else (MAX_SIDE_PX, MAX_SIDE_PX * height // width)


def _limit_filter(size: tuple[int, int], new: tuple[int, int]) -> Image.Resampling:
    """Step 2's filter: bilinear when the new size is at least half the old, else bicubic (Pillow's)."""
    return Image.Resampling.BILINEAR if max(new) / max(size) >= 0.5 else Image.Resampling.BICUBIC


def _whole_px_step(size: int, new: int) -> int:
    """For a ``size`` px side shrunk to ``new`` px: the output px, multiples of ``new / gcd(size, new)``,
    whose source position (``px * size / new``) is a whole px."""
    return new // math.gcd(size, new)


def _aligned(low: int, high: int, step: int, new: int) -> tuple[int, int]:
    """``low`` .. ``high`` px of a side shrunk to ``new`` px, widened to multiples of ``step``
    (:func:`_whole_px_step`)."""
    return low - low % step, min(new, -(-high // step) * step)


def _limited_region(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Px ``box`` (left, top, right, bottom, at least) of the image step 2 makes of ``image``, HxWx3
    uint8, computing only about those px: Pillow's resize of the matching source box at the full
    resize's scale. Pillow takes a box as float32 and its scale as the box's width over the output's,
    so the box is widened to where its edges are whole source px: then both are exact and the
    weights those of the full resize (tests/test_fidelity.py checks the numbers). A 1920x1080
    photo's centre crop needs 53 % of the 1600x900 px. Returns the px and the box's top-left."""
    size = limited_size(*image.size)
    if size == image.size:
        return np.asarray(image.crop(box)), (box[0], box[1])
    step = _whole_px_step(image.width, size[0])
    left, right = _aligned(box[0], box[2], step, size[0])
    top, bottom = 0, size[1]  # every row: with fewer, Pillow 13 may run its two passes in the other order
    filter_ = _limit_filter(image.size, size)

    def band(low: int, high: int) -> np.ndarray:
        source = (low * image.width // size[0], top * image.height // size[1],
                  high * image.width // size[0], bottom * image.height // size[1])
        return np.asarray(image.resize((high - low, bottom - top), filter_, box=source))

    cuts = _bands(left, right, step, (right - left) * (bottom - top))
    if len(cuts) == 2:
        return band(left, right), (left, top)
    # Each band's edges are whole source px too, so each is exactly its columns of the one resize;
    # Pillow lets go of the GIL while it resamples, so the bands are computed on as many cores.
    parts = list(_band_pool().map(lambda edges: band(*edges), itertools.pairwise(cuts)))
    return np.concatenate(parts, axis=1), (left, top)


def _bands(left: int, right: int, step: int, pixels: int) -> list[int]:
    """The column edges (``left`` first, ``right`` last, the others multiples of ``step``) splitting a
    resize of ``pixels`` output px into one band per usable core (at most ``MAX_BANDS``; one band under
    ``BAND_PX``)."""
    count = min(_band_count(), (right - left) // step) if pixels > BAND_PX else 1
    inner = sorted({left + (right - left) * i // count // step * step for i in range(1, count)} - {left})
    return [left, *inner, right]


@functools.cache
def _band_count() -> int:
    """Bands a large resize is split into: the usable cores (read once: affinity and cgroup quota), at most
    ``MAX_BANDS``."""
    return min(usable_cores(), MAX_BANDS)


@functools.cache
def _band_pool() -> ThreadPoolExecutor:
    """The threads that resize a large photo's bands, one per band."""
    return ThreadPoolExecutor(_band_count(), thread_name_prefix="resize")


def _taps(first: int, count: int, side: int, square: int, origin: int, size: int) -> tuple[np.ndarray, ...]:
    """The original's two taps for output px ``first`` .. ``first + count - 1`` along one axis of a
    ``side`` px square sampled to ``square`` px: source indexes (low, high), and the weight of
    ``high`` in units of 1 / (2 * square) (all int arrays of ``count``).

    origin: the square's first source px; size: the source's px along this axis. As the original:
    position (i + 0.5) * side / square - 0.5, truncated toward zero (a position in (-1, 0) reads
    px 0 and 1 with a negative weight), the origin added, clamped at the last px with weight 0.
    """
    den = 2 * square
    position = (2 * np.arange(first, first + count) + 1) * side - square  # in 1/den px
    low = np.maximum(position, 0) // den
    weight = position - low * den
    low += origin
    edge = low >= size - 1
    low[edge], weight[edge] = size - 1, 0
    return low, np.where(edge, low, low + 1), weight


def _original(image: Image.Image, spec: InputSpec, recipe: Recipe) -> np.ndarray:
    """The Custom Vision Dockerfile export's recipe (docs/customvision.md section 4, steps 2-5):
    RGB Pillow image (EXIF orientation applied) -> the network input, as :func:`to_tensor`.

    The centre square is sampled to 256 x 256 (to the network size if larger: the original has
    no such case) by the original's 2x2 bilinear rule, then its centre kept; only the output px
    under that crop are computed, from only the source rows and columns they read. The original
    computes in float64 with weights that are multiples of 1/512 (side / 256 * k - 0.5 is), so
    its sums are exact and rounded once, to float32 (no rounding to uint8); these integer sums
    in units of 1/512**2, rounded once, are the same numbers (tests/test_fidelity.py).
    """
    w, h = limited_size(*image.size)
    height, width = spec.height, spec.width
    side, square = min(w, h), max(ORIGINAL_SQUARE_PX, height, width)
    den = 2 * square
    y_low, y_high, y_weight = _taps(square // 2 - height // 2, height, side, square, (h - side) // 2, h)
    x_low, x_high, x_weight = _taps(square // 2 - width // 2, width, side, square, (w - side) // 2, w)
    # only the rows and columns the taps read: of the image step 2 makes, without making all of it
    box = (int(min(x_low.min(), x_high.min())), int(min(y_low.min(), y_high.min())),
           int(max(x_low.max(), x_high.max())) + 1, int(max(y_low.max(), y_high.max())) + 1)
    region, (left, top) = _limited_region(image, box)
    x_low, x_high, y_low, y_high = x_low - left, x_high - left, y_low - top, y_high - top
    pixels = region.reshape(region.shape[0], region.shape[1] * 3)
    planar = spec.layout == "NCHW"
    channels = np.array([2, 1, 0] if recipe.colour == "BGR" else [0, 1, 2])
    x = np.concatenate((x_low, x_high))
    # Each sampled px's bytes in the tensor's order: px-major (NHWC) or channel-major (NCHW).
    columns = ((x.reshape(2, 1, width) * 3 + channels[:, None]) if planar else (x[:, None] * 3 + channels)).ravel()
    dtype = np.int32 if square <= 512 else np.int64  # |sums| <= 1020 * den**2
    x_high_weight = (np.tile(x_weight, 3) if planar else np.repeat(x_weight, 3)).astype(dtype)
    x_low_weight, y_weight = den - x_high_weight, y_weight.astype(dtype)[:, None]
    tensor = np.empty((1, 3, height, width) if planar else (1, height, width, 3), dtype=spec.dtype)
    out = tensor[0].transpose(1, 0, 2) if planar else tensor[0].reshape(height, 3 * width)
    for top in range(0, height, CHUNK_ROWS):  # a few rows at a time: small temporaries, in cache
        rows = slice(top, min(height, top + CHUNK_ROWS))
        n = rows.stop - top
        taps = pixels[np.concatenate((y_low[rows], y_high[rows]))].take(columns, axis=1)  # rows y_low, then y_high
        across = np.multiply(taps[:, 3 * width:], x_high_weight)
        across += taps[:, :3 * width] * x_low_weight
        sums = across[n:] * y_weight[rows]
        sums += across[:n] * (den - y_weight[rows])
        np.multiply(sums.reshape(out[rows].shape), np.float32(recipe.scale / den**2), out=out[rows], dtype=np.float32)
    return tensor


def to_tensor(image: Image.Image, spec: InputSpec, recipe: Recipe) -> np.ndarray:
    """RGB Pillow image (EXIF orientation applied) -> network input, shape [1,3,H,W] or [1,H,W,3]
    of ``spec.dtype``, channels in ``recipe.colour`` order, 0-255 times ``recipe.scale``."""
    if recipe.resize == "classic":
        return _original(image, spec, recipe)
    if recipe.resize == "stretch":
        fitted = _stretch(image, spec.width, spec.height)
    else:
        fitted = _shorter_side(image, recipe.shorter_side, spec.height, spec.width)
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
