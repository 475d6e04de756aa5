"""Loading Custom Vision exports: the real fixture models, and small models built to each documented contract."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
from PIL import Image
import pytest
from onnx import TensorProto, helper

from classifier.export import load
from classifier.model import ModelLoadError
from classifier.preprocess import ImageDecodeError, decode
from conftest import IMAGES, MODELS, free_port

# fixtures README: apples-bananas classifies each photo correctly; fruits top-1 per its table (the
# original container's figures; test_fidelity.py checks every tag to 1e-4 against expected.json).
APPLES_BANANAS = {"apple1": "Apple", "apple2": "Apple", "apple3": "Apple",
                  "banana1": "Banana", "banana2": "Banana", "banana3": "Banana"}
FRUITS_TOP = {"apple1": ("Apple", 0.17), "apple2": ("Apple", 0.64), "apple3": ("Orange", 0.15),
              "banana1": ("Banana", 1.00), "banana2": ("Banana", 1.00), "banana3": ("Banana", 0.94)}


def _tags(predictions) -> dict[str, float]:
    return {p.tagName: p.probability for p in predictions}


def _classify(model, name: str) -> dict[str, float]:
    return _tags(model.classify(decode((IMAGES / f"{name}.jpg").read_bytes())))


def test_apples_bananas_fixture_matches_the_expected_results() -> None:
    model = load(MODELS / "apples-bananas")
    assert model.labels == ("Apple", "Banana")
    assert (model.spec.layout, model.spec.height, model.spec.width) == ("NHWC", 227, 227)
    assert model.recipe.colour == "BGR" and model.recipe.scale == 1.0
    for name, truth in APPLES_BANANAS.items():
        scores = _classify(model, name)
        assert max(scores, key=scores.get) == truth and scores[truth] >= 0.98, (name, scores)
    assert max(_classify(model, "backpod").values()) < 0.01


def test_fruits_fixture_matches_the_readme_table() -> None:
    model = load(MODELS / "fruits")
    for name, (tag, probability) in FRUITS_TOP.items():
        scores = _classify(model, name)
        assert max(scores, key=scores.get) == tag, (name, scores)
        assert scores[tag] == pytest.approx(probability, abs=0.01), (name, scores)
    assert max(_classify(model, "backpod").values()) < 0.01


def test_export_zip_loads_without_unpacking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in (MODELS / "apples-bananas").iterdir():
            if f.suffix != ".pb":
                z.write(f, f.name)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    model = load(archive)
    assert model.labels == ("Apple", "Banana")
    assert list(scratch.iterdir()) == []  # the unpacked copy is gone: a restarting module leaves none behind
    assert max(_classify(model, "banana2"), key=_classify(model, "banana2").get) == "Banana"


def _nchw_model(path: Path, out_name: str, labels: list[str], dtype: int = TensorProto.FLOAT,
                metadata: dict[str, str] | None = None, size: int = 32) -> None:
    """A tiny real network: mean of each channel -> scores = channel means (R,G,B order as given)."""
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], [out_name], axis=1)],
        "probe", [helper.make_tensor_value_info("data", dtype, ["N", 3, size, size])],
        [helper.make_tensor_value_info(out_name, dtype, ["N", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    (path / "labels.txt").write_text("\n".join(labels) + "\n")


def _solid(bgr: tuple[int, int, int]) -> Image.Image:
    return Image.fromarray(np.full((48, 64, 3), bgr[::-1], dtype=np.uint8))


def test_colour_order_and_range_come_from_model_metadata(tmp_path: Path) -> None:
    _nchw_model(tmp_path / "rgb01", "model_output", ["first", "second", "third"],
                metadata={"Image.BitmapPixelFormat": "Rgb8", "Image.NominalPixelRange": "Normalized_0_1"})
    model = load(tmp_path / "rgb01")
    scores = _tags(model.classify(_solid((255, 0, 51))))  # BGR: blue 255, red 51
    assert scores == pytest.approx({"first": 0.2, "second": 0.0, "third": 1.0}, abs=1e-3)


def test_no_range_metadata_means_0_255_and_bgr(tmp_path: Path) -> None:
    _nchw_model(tmp_path / "plain", "loss", ["b", "g", "r"])
    model = load(tmp_path / "plain")
    assert _tags(model.classify(_solid((10, 20, 30)))) == pytest.approx({"b": 10, "g": 20, "r": 30}, abs=0.01)


def test_metadata_properties_json_selects_stretch_and_rgb(tmp_path: Path) -> None:
    _nchw_model(tmp_path / "s1", "model_output", ["r", "g", "b"], size=30)
    (tmp_path / "s1" / "metadata_properties.json").write_text(json.dumps({
        "Image.BitmapPixelFormat": "Rgb8", "Image.NominalPixelRange": "Normalized_0_1",
        "CustomVision.Preprocess.ResizeMethod": "Stretch", "CustomVision.Preprocess.CropMethod": "NoCrop"}))
    model = load(tmp_path / "s1")
    assert model.recipe.resize == "stretch" and model.recipe.colour == "RGB"
    # Left half red, right half blue: a stretch keeps both halves, a centre crop would too,
    # but a 64x48 image stretched to 30x30 keeps the 50/50 split exactly.
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (255, 0, 0)  # RGB: red half
    image[:, 32:] = (0, 0, 255)  # blue half
    scores = _tags(model.classify(Image.fromarray(image)))
    assert scores["r"] == pytest.approx(0.5, abs=0.02) and scores["b"] == pytest.approx(0.5, abs=0.02)


def test_float16_input_is_fed_float16(tmp_path: Path) -> None:
    _nchw_model(tmp_path / "f16", "model_output", ["b", "g", "r"], dtype=TensorProto.FLOAT16)
    model = load(tmp_path / "f16")
    assert model.spec.dtype == np.float16
    assert _tags(model.classify(_solid((100, 50, 25))))["b"] == pytest.approx(100, abs=0.5)


def _zipmap_export(path: Path, labels: list[str], labels_txt: str | None = None) -> None:
    """An ONNX12-flavour export: channel means -> a ZipMap with ``labels`` embedded (one per channel
    when three, all reading the first channel's mean otherwise), and ``labels.txt`` when given."""
    count = len(labels)
    nodes = [helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["means"], axis=1)]
    if count != 3:
        nodes.append(helper.make_node("Slice", ["means", "zero", "one", "axis"], ["first"]))
        nodes.append(helper.make_node("Tile", ["first", "repeats"], ["means_n"]))
    nodes.append(helper.make_node("ZipMap", ["means" if count == 3 else "means_n"], ["loss"], domain="ai.onnx.ml",
                                  classlabels_strings=labels))
    constants = [helper.make_tensor(n, TensorProto.INT64, [len(v)], v)
                 for n, v in {"zero": [0], "one": [1], "axis": [1], "repeats": [1, count]}.items()] if count != 3 else []
    graph = helper.make_graph(
        nodes, "onnx12", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_value_info("loss", helper.make_sequence_type_proto(
            helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    if labels_txt is not None:
        (path / "labels.txt").write_text(labels_txt)


def test_zipmap_output_reads_embedded_labels(tmp_path: Path) -> None:
    """ONNX12 flavour: a ZipMap with classlabels_strings, no labels.txt needed."""
    _zipmap_export(tmp_path / "z", ["x", "y", "z"])
    loaded = load(tmp_path / "z")
    assert loaded.labels == ("x", "y", "z") and loaded.info.flavour == "ONNX12"
    assert _tags(loaded.classify(_solid((1, 2, 3)))) == pytest.approx({"x": 1, "y": 2, "z": 3}, abs=0.01)


def test_embedded_labels_keep_the_models_declared_order(tmp_path: Path) -> None:
    """ONNX Runtime answers a ZipMap as a dict sorted by label; the model's own order is kept."""
    _zipmap_export(tmp_path / "z", ["zebra", "apple", "mango"])
    loaded = load(tmp_path / "z")
    assert loaded.labels == ("zebra", "apple", "mango")
    assert [p.tagName for p in loaded.classify(_solid((1, 2, 3)))] == ["zebra", "apple", "mango"]
    assert _tags(loaded.classify(_solid((1, 2, 3)))) == pytest.approx({"zebra": 1, "apple": 2, "mango": 3}, abs=0.01)


def test_labels_txt_that_differs_from_the_embedded_labels_is_refused_in_one_sentence(tmp_path: Path) -> None:
    """Today such an export starts "ready" and answers 500 to every image (a KeyError per request)."""
    _zipmap_export(tmp_path / "z", ["x", "y", "z"], "Apple\nBanana\nCherry\n")
    with pytest.raises(ModelLoadError) as caught:
        load(tmp_path / "z")
    message = str(caught.value)
    assert message == ("labels.txt lists Apple, Banana, Cherry but the model's own labels are x, y, z: "
                       "use the labels.txt exported with this model, or remove it to use the model's own")


def test_label_lists_in_the_refusal_are_shortened(tmp_path: Path) -> None:
    embedded = [f"embedded-tag-number-{i:03d}-with-a-very-long-name-indeed" for i in range(40)]
    _zipmap_export(tmp_path / "z", embedded, "".join(f"other-{i}\n" for i in range(50)))
    with pytest.raises(ModelLoadError) as caught:
        load(tmp_path / "z")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 500, message
    assert "other-0, other-1" in message and "and 44 more" in message and "and 34 more" in message
    assert "embedded-tag-number-000-with-a" in message and "very-long-name-indeed" not in message


def test_labels_txt_with_the_embedded_labels_in_another_order_is_served_in_its_order(tmp_path: Path) -> None:
    _zipmap_export(tmp_path / "z", ["x", "y", "z"], "z\nx\ny\n")
    loaded = load(tmp_path / "z")
    assert loaded.labels == ("z", "x", "y")
    assert _tags(loaded.classify(_solid((1, 2, 3)))) == pytest.approx({"x": 1, "y": 2, "z": 3}, abs=0.01)


def test_missing_labels_file_is_one_clear_sentence(tmp_path: Path) -> None:
    shutil.copy(MODELS / "apples-bananas" / "model.onnx", tmp_path / "model.onnx")
    with pytest.raises(ModelLoadError, match=r"labels\.txt is missing: copy labels\.txt from your export"):
        load(tmp_path)


def test_labels_that_do_not_match_the_model_are_refused(tmp_path: Path) -> None:
    shutil.copy(MODELS / "apples-bananas" / "model.onnx", tmp_path / "model.onnx")
    (tmp_path / "labels.txt").write_text("Apple\nBanana\nCherry\n")
    with pytest.raises(ModelLoadError, match="lists 3 tags but the model scores 2"):
        load(tmp_path)


def test_corrupt_model_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07garbage" * 100)
    (tmp_path / "labels.txt").write_text("A\n")
    with pytest.raises(ModelLoadError, match="export it again|legacy"):
        load(tmp_path)


def test_missing_model_folder_and_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist: set MODEL_DIR"):
        load(tmp_path / "nowhere")
    with pytest.raises(ModelLoadError, match="no model.onnx, model.tflite or model.pb in"):
        load(tmp_path)


def test_decode_refuses_what_is_not_an_image() -> None:
    with pytest.raises(ImageDecodeError):
        decode(b"")
    with pytest.raises(ImageDecodeError):
        decode(b"GIF89a-not-really")
    assert decode((IMAGES / "frame640x480.jpg").read_bytes()).size == (640, 480)


RED, WHITE = (255, 0, 0), (255, 255, 255)


@pytest.mark.parametrize(("orientation", "stored_size", "red_corner"), [
    # EXIF orientation: how the stored pixels must be turned to be seen upright (the TIFF/EXIF rules: 3 = row 0 is
    # the bottom, column 0 the right; 6 = row 0 is the right side, column 0 the top; 8 = row 0 is the left side,
    # column 0 the bottom). The upright picture is 48x32, white, with a red 16x16 square in its top-left corner;
    # here is where a camera that wrote it with each orientation stored that square.
    (1, (48, 32), (0, 0)),      # as seen
    (3, (48, 32), (32, 16)),    # upside down: bottom-right
    (6, (32, 48), (0, 32)),     # turned a quarter anticlockwise: bottom-left
    (8, (32, 48), (16, 0)),     # turned a quarter clockwise: top-right
])
def test_exif_orientation_is_applied(orientation: int, stored_size: tuple[int, int], red_corner: tuple[int, int]) -> None:
    """A photo stored sideways or upside down with its EXIF orientation is decoded the right way up: the red
    corner of the scene is top-left again, whatever the camera stored."""
    import io

    stored = Image.new("RGB", stored_size, WHITE)
    stored.paste(RED, (*red_corner, red_corner[0] + 16, red_corner[1] + 16))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif, quality=95)
    decoded = decode(buffer.getvalue()).convert("RGB")
    assert decoded.size == (48, 32)

    def near(xy: tuple[int, int], colour: tuple[int, int, int]) -> bool:
        return all(abs(a - b) <= 12 for a, b in zip(decoded.getpixel(xy), colour, strict=True))  # JPEG: close, not exact

    assert near((8, 8), RED), decoded.getpixel((8, 8))  # the centre of the top-left square
    for xy in ((40, 8), (8, 24), (40, 24), (24, 16)):  # the other corners and the middle
        assert near(xy, WHITE), (xy, decoded.getpixel(xy))


def test_platform_without_onnx_runtime_gets_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on arm32v7, where no onnxruntime wheel exists
    with pytest.raises(ModelLoadError, match="ONNX Runtime is not installed on this platform"):
        load(MODELS / "apples-bananas")


def _legacy_export(path: Path) -> None:
    """The legacy "ONNX 1.0" flavour (WinMLTools, 2018): ai.onnx opset 1, BatchNormalization(1)."""
    from onnx import numpy_helper

    nodes = [helper.make_node("BatchNormalization", ["data", "s", "b", "m", "v"], ["bn"], consumed_inputs=[0, 0, 0, 1, 1],
                              epsilon=1e-5, is_test=1, spatial=1),
             helper.make_node("GlobalAveragePool", ["bn"], ["loss"])]
    inits = [numpy_helper.from_array(np.ones(3, np.float32), n) for n in "sbmv"]
    graph = helper.make_graph(nodes, "legacy", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 227, 227])],
                              [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [1, 3, 1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 1)], producer_name="WinMLTools")
    model.ir_version = 3
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path / "model.onnx")
    (path / "labels.txt").write_text("a\nb\nc\n")


def test_legacy_onnx_export_is_one_clear_sentence(tmp_path: Path) -> None:
    _legacy_export(tmp_path)
    with pytest.raises(ModelLoadError) as caught:
        load(tmp_path)
    assert str(caught.value).endswith("is a legacy ONNX export that current ONNX Runtime cannot run: "
                                      "re-export the model from Custom Vision as ONNX or TensorFlow Lite")


@pytest.mark.parametrize("broken", ["legacy", "corrupt", "no-labels"])
def test_service_with_an_unusable_export_exits_with_the_reason(tmp_path: Path, broken: str) -> None:
    """The module process does not start half-working: it exits 2, its log says why in one line."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    export = tmp_path / "export"
    if broken == "legacy":
        _legacy_export(export)
    else:
        export.mkdir()
        shutil.copy(MODELS / "apples-bananas" / "model.onnx", export / "model.onnx")
        if broken == "corrupt":
            (export / "model.onnx").write_bytes(b"\x08\x07garbage" * 100)
            (export / "labels.txt").write_text("A\n")
    env = {**os.environ, "MODEL_DIR": str(export), "PORT": str(free_port()), "METRICS_PORT": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "cannot start:" in line]
    expected = {"legacy": "is a legacy ONNX export", "corrupt": "is not a loadable ONNX model",
                "no-labels": "labels.txt is missing: copy labels.txt from your export"}[broken]
    assert len(errors) == 1 and expected in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_service_whose_port_is_taken_exits_with_the_reason(tmp_path: Path) -> None:
    """Another program listens on PORT: one line naming the port, exit 2, no traceback (IoT Edge restarts it)."""
    import os
    import socket
    import subprocess
    import sys

    from conftest import ROOT

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "MODEL_DIR": str(MODELS / "apples-bananas"), "PORT": str(port), "BIND_ADDRESS": "127.0.0.1",
               "METRICS_PORT": "0", "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "cannot start:" in line]
    assert len(errors) == 1 and f"cannot listen on 127.0.0.1 port {port}: Address already in use" in errors[0], errors
    assert "Traceback" not in done.stderr


def test_cvexport_manifest_names_the_files_and_the_flavour(tmp_path: Path) -> None:
    """Current exports (ExporterVersion 2.x): cvexport.manifest says which files hold the model,
    labels and metadata; the loader follows it instead of the default names."""
    _nchw_model(tmp_path / "build", "model_output", ["r", "g", "b"], size=16)
    export = tmp_path / "export"
    export.mkdir()
    (tmp_path / "build" / "model.onnx").rename(export / "classifier.onnx")
    (export / "tags.txt").write_text("r\ng\nb\n")
    (export / "props.json").write_text(json.dumps({"Image.BitmapPixelFormat": "Rgb8", "Image.NominalPixelRange": "Normalized_0_1"}))
    (export / "cvexport.manifest").write_text(json.dumps({
        "DomainType": "Classification", "Platform": "ONNX", "Flavor": "ONNX", "ExporterVersion": "2.0",
        "ModelFileName": "classifier.onnx", "LabelFileName": "tags.txt", "MetadataPropsFileName": "props.json"}))
    model = load(export)
    assert model.labels == ("r", "g", "b") and model.info.flavour == "ONNX"
    assert model.recipe.colour == "RGB" and model.recipe.scale == 1 / 255
    assert _tags(model.classify(_solid((0, 0, 255)))) == pytest.approx({"r": 1.0, "g": 0.0, "b": 0.0}, abs=1e-3)


def test_a_tag_listed_twice_in_labels_txt_is_refused(tmp_path: Path) -> None:
    """Issue 22: labels.txt naming a tag twice (the last one silently won: its score hid the first's) is
    refused in one sentence naming the tag and its lines, at start-up and for a modelUrl update alike."""
    _nchw_model(tmp_path / "twice", "model_output", ["Apple", "Banana", " Apple"])
    with pytest.raises(ModelLoadError) as caught:
        load(tmp_path / "twice")
    assert str(caught.value) == ("labels.txt lists the tag 'Apple' twice (lines 1 and 3): each tag once, in the "
                                 "model's order; use the labels.txt exported with the model")
