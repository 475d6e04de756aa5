"""The same answers as the container the service replaces: every fixture image under both fixture
models, through every Dockerfile-export route and input form, within 1e-4 of
tests/fixtures/expected.json (what the Custom Vision "Dockerfile" export's predict.py answers,
run unmodified under TensorFlow on each model.pb; the service runs the tf2onnx conversion of the
same graph, whose outputs match TensorFlow's to 1e-6).

And the recipe itself (docs/customvision.md section 4) against a per-pixel rendering of the rule,
on sizes the fixtures lack (tiny, portrait, odd, over 3200 px), and EXIF orientations.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from classifier.app import create_app
from classifier.export import load
from classifier.preprocess import InputSpec, Recipe, decode, to_tensor
from classifier.settings import ClassifierSettings
from conftest import FIXTURES, MODELS, serving_folder

EXPECTED: dict[str, dict[str, dict[str, float]]] = json.loads((FIXTURES / "expected.json").read_text())["models"]
IMAGES = sorted(next(iter(EXPECTED.values())))  # "images/apple1.jpg", ...
TOLERANCE = 1e-4
PREFIXES = ["", "/proj", "/proj/classify/iterations/Iteration1", "/proj/detect/iterations/Iteration1"]
ROUTES = [f"{p}/{kind}{n}" for kind in ("image", "url") for p in PREFIXES for n in ("", "/nostore") if p or not n]


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    """A real HTTP server on loopback serving the fixtures, for /url."""
    with serving_folder(FIXTURES) as base:
        yield base


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def served(request: pytest.FixtureRequest) -> tuple[str, FlaskClient]:
    """(model name, a client of the service serving it); loopback allowed for /url, and 6 MB bodies:
    the 3.3 MB photos in base64 are 4.4 MB, over the default 4 MB cap (the original's too)."""
    settings = ClassifierSettings(url_allowed_hosts="127.0.0.1", max_image_bytes=6 * 1024 * 1024)
    return request.param, create_app(load(MODELS / request.param), settings).test_client()


def _post(client: FlaskClient, route: str, form: str, image: str, server: str) -> TestResponse:
    """POST fixture ``image`` to ``route`` as the Dockerfile export takes it: ``raw`` body, multipart
    ``file`` field imageData, ``field`` imageData (base64 text), or ``url`` ({"url": ...})."""
    data = (FIXTURES / image).read_bytes()
    if form == "url":
        return client.post(route, json={"url": f"{server}/{image}"})
    if form == "file":
        return client.post(route, data={"imageData": (io.BytesIO(data), "image.jpg")}, content_type="multipart/form-data")
    if form == "field":
        return client.post(route, data={"imageData": base64.b64encode(data).decode()})
    return client.post(route, data=data, content_type="application/octet-stream")


def _assert_matches(reply: TestResponse, expected: dict[str, float], labels: tuple[str, ...], case: str) -> None:
    assert reply.status_code == 200, (case, reply.get_json())
    got = {p["tagName"]: p["probability"] for p in reply.get_json()["predictions"]}
    assert set(got) <= set(labels), case
    worst = max(abs(got.get(tag, 0.0) - expected.get(tag, 0.0)) for tag in labels)
    assert worst <= TOLERANCE, (case, got, expected)


def _labels(name: str) -> tuple[str, ...]:
    return tuple((MODELS / name / "labels.txt").read_text().split())


@pytest.mark.parametrize("form", ["raw", "file", "field", "url"])
@pytest.mark.parametrize("image", IMAGES)
def test_every_image_in_every_form_answers_as_the_original(served: tuple[str, FlaskClient], image: str, form: str,
                                                           image_server: str) -> None:
    name, client = served
    reply = _post(client, "/url" if form == "url" else "/image", form, image, image_server)
    _assert_matches(reply, EXPECTED[name][image], _labels(name), f"{name} {image} {form}")


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_answers_as_the_original(served: tuple[str, FlaskClient], route: str, image_server: str) -> None:
    name, client = served
    image = IMAGES[ROUTES.index(route) % len(IMAGES)]  # each route on another photo
    reply = _post(client, route, "url" if "/url" in route else "raw", image, image_server)
    _assert_matches(reply, EXPECTED[name][image], _labels(name), f"{name} {route} {image}")


def _rule(image: Image.Image, points: list[tuple[int, int]], crop: int = 227) -> np.ndarray:
    """Output px (x, y) of the ``crop`` x ``crop`` network input, BGR, by the rule as section 4 words
    it, one px at a time: shrink to 1600 px, centre square, 2x2 taps around (x + 0.5) * ratio - 0.5
    of the 256 x 256 square, in float64."""
    w, h = image.size
    if max(w, h) >= 1600:
        size = (1600 * w // h, 1600) if h > w else (1600, 1600 * h // w)
        image = image.resize(size, Image.Resampling.BILINEAR if max(size) / max(w, h) >= 0.5 else Image.Resampling.BICUBIC)
    bgr = np.asarray(image)[:, :, ::-1].astype(np.float64)
    h, w = bgr.shape[:2]
    ratio, origin = min(w, h) / 256, (int(0.5 * (w - min(w, h))), int(0.5 * (h - min(w, h))))

    def tap(i: int, axis: int) -> tuple[int, int, float]:
        position = (i + 0.5) * ratio - 0.5
        low = int(position)  # toward zero
        weight, low = position - low, low + origin[axis]
        last = (w, h)[axis] - 1
        return (last, last, 0.0) if low >= last else (low, low + 1, weight)

    offset = 128 - crop // 2
    out = []
    for x, y in points:
        x0, x1, fx = tap(x + offset, 0)
        y0, y1, fy = tap(y + offset, 1)
        top = fx * bgr[y0, x1] + (1 - fx) * bgr[y0, x0]
        bottom = fx * bgr[y1, x1] + (1 - fx) * bgr[y1, x0]
        out.append(fy * bottom + (1 - fy) * top)
    return np.array(out, dtype=np.float32)


@pytest.mark.parametrize("size", [(9, 7), (5, 300), (257, 256), (256, 256), (300, 301), (1599, 1000), (1600, 900), (1920, 1080),
                                  (1080, 1920), (3500, 1000), (1000, 3500), (4032, 3024)])
def test_recipe_follows_the_rule_on_every_size(size: tuple[int, int]) -> None:
    """The vectorised recipe gives the rule's numbers exactly (float32 equality), including upscaling
    (negative weights), the edge clamp, the 1600 px bilinear and (above 3200 px) bicubic shrink."""
    width, height = size
    rng = np.random.default_rng(width * height)
    image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    tensor = to_tensor(image, InputSpec("x", "NHWC", 227, 227, np.float32), Recipe())
    points = [(x, y) for x in (0, 1, 113, 225, 226) for y in (0, 2, 114, 226)] + [tuple(p) for p in rng.integers(0, 227, (40, 2))]
    np.testing.assert_array_equal(tensor[0][tuple(np.array(points)[:, ::-1].T)], _rule(image, points))


def test_recipe_in_nchw_rgb_0_1_is_the_same_numbers() -> None:
    """A classic ONNX export (NCHW, RGB, 0-1) gets the same pixels in its own layout and range."""
    image = decode((FIXTURES / "images" / "banana1.jpg").read_bytes())
    nhwc = to_tensor(image, InputSpec("x", "NHWC", 224, 224, np.float32), Recipe())[0]
    nchw = to_tensor(image, InputSpec("x", "NCHW", 224, 224, np.float32), Recipe(colour="RGB", scale=1 / 255))[0]
    np.testing.assert_allclose(nchw.transpose(1, 2, 0)[:, :, ::-1] * 255, nhwc, rtol=1e-6)


# EXIF orientation -> the stored pixels turned the right way up (the EXIF standard).
UPRIGHT: dict[int, Callable[[np.ndarray], Any]] = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1], 5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: a.transpose(1, 0, 2)[:, ::-1], 7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: a.transpose(1, 0, 2)[::-1],
}


@pytest.mark.parametrize("orientation", sorted(UPRIGHT))
def test_exif_orientation_is_applied_before_the_recipe(served: tuple[str, FlaskClient], orientation: int) -> None:
    """A photo stored turned, with its EXIF orientation, answers exactly as the same photo stored upright."""
    _, client = served
    stored = np.asarray(Image.open(FIXTURES / "images" / "banana2.jpg").convert("RGB"))

    def png(pixels: np.ndarray, exif: Image.Exif | None = None) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, "PNG", **({"exif": exif} if exif else {}))
        return buffer.getvalue()

    exif = Image.Exif()
    exif[0x0112] = orientation
    answers = [client.post("/image", data=body, content_type="application/octet-stream").get_json()["predictions"]
               for body in (png(stored, exif), png(UPRIGHT[orientation](stored)))]
    assert answers[0] == answers[1]


@pytest.mark.parametrize("bands", [2, 3, 4])
def test_a_large_photo_resized_in_column_bands_has_the_pixels_of_one_resize(bands: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 2 of a 1920x1080 photo, split into column bands resized on several cores, gives exactly the
    pixels Pillow's one resize of the same source columns gives (worked out here with Pillow directly)."""
    import classifier.preprocess as preprocess

    image = decode((FIXTURES / "images" / "apple3.jpg").read_bytes())
    box = (403, 53, 1200, 850)
    monkeypatch.setattr(preprocess, "_band_count", lambda: bands)
    assert len(preprocess._bands(400, 1200, 5, 800 * 900)) == bands + 1
    region, (left, top) = preprocess._limited_region(image, box)
    # 1920 -> 1600 px: source px are whole at output columns that are multiples of 5
    assert (left, top) == (400, 0) and region.shape == (900, 800, 3)
    one = np.asarray(image.resize((800, 900), Image.Resampling.BILINEAR, box=(480, 0, 1440, 1080)))
    assert np.array_equal(region, one)
