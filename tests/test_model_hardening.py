"""Model updates that cannot hurt: zip bombs, zip slips, manifests naming files outside the export,
credentials in ``modelUrl``, and whatever else a user can send through ``modelUrl``.

Real parts throughout: zips built here (a real 1 GiB zip bomb among them), served by a real HTTP
server, the real fixture models, the updater's own report patches, and the real module process."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from classifier.export import load
from classifier.model import ModelLoadError
from classifier.zipsafety import DEFAULT_LIMITS, MIB, UnpackLimits
from classifier.fetch import AddressGuard
from classifier.serving import ModelSlot, ModelUpdater
from conftest import IMAGES, MODELS, ROOT, free_port, serving_folder

BOMB_BYTES = 1024 * MIB  # what the bomb unpacks to: 1 GiB of zeros, about 1 MB packed
PASSWORD, SIGNATURE = "pa55-W0RD-x7", "S1GNATURE-q9"


def _export_zip(target: Path, source: Path = MODELS / "fruits", extra: dict[str, str | bytes] | None = None,
                skip: tuple[str, ...] = ()) -> Path:
    """A real export zip (model.onnx + labels.txt of ``source``) with ``extra`` entries added."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("model.onnx", "labels.txt"):
            if name not in skip:
                archive.write(source / name, name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


def _bomb(target: Path) -> Path:
    """A zip bomb: labels.txt and a "model.onnx" of ``BOMB_BYTES`` zeros, deflated (~1000:1)."""
    zeros = bytes(MIB)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("labels.txt", "Apple\nBanana\n")
        with archive.open("model.onnx", "w", force_zip64=True) as member:
            for _ in range(BOMB_BYTES // MIB):
                member.write(zeros)
    if target.stat().st_size >= 1.1 * MIB:  # setup, not a test: the zip must be small for what it unpacks to
        raise RuntimeError(f"the bomb fixture is {target.stat().st_size} bytes, not a ~1 MB zip of 1 GiB")
    return target


def _liar(target: Path) -> Path:
    """A zip whose directory declares its 8 MiB model as 1000 bytes (local and central headers)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("labels.txt", "Apple\nBanana\n")
        archive.writestr("model.onnx", bytes(8 * MIB))
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as archive:
        entry = archive.getinfo("model.onnx")
    local, central = entry.header_offset, data.rindex(b"PK\x01\x02")
    data[local + 22:local + 26] = (1000).to_bytes(4, "little")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    return target


def _symlink_entry(target: Path, name: str, points_to: str) -> Path:
    """An export zip with ``name`` stored as a symbolic link to ``points_to`` (as ``zip -y`` stores links)."""
    _export_zip(target, skip=("model.onnx",))
    with zipfile.ZipFile(target, "a") as archive:
        link = zipfile.ZipInfo(name)
        link.create_system = 3  # Unix
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, points_to)
    return target


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real HTTP server over a folder of zips; returns its base URL and the folder."""
    root = tmp_path_factory.mktemp("www")
    _bomb(root / "bomb.zip")
    _liar(root / "liar.zip")
    _export_zip(root / "fruits.zip")
    _export_zip(root / "slip.zip", extra={"../../evil.txt": "x"})
    _export_zip(root / "outside.zip", skip=("model.onnx",),
                extra={"cvexport.manifest": json.dumps({"ModelFileName": str(MODELS / "fruits" / "model.onnx")})})
    with serving_folder(root) as base:
        yield base, root


class Updater:
    """A slot serving apples-bananas, an updater over ``cache``, and every report patch it emitted."""

    def __init__(self, cache: Path) -> None:
        self.slot = ModelSlot(load(MODELS / "apples-bananas"))
        self.patches: list[dict[str, Any]] = []
        self.cache = cache
        self.updater = ModelUpdater(self.slot, self.patches.append, MODELS / "apples-bananas", cache_dir=cache, timeout_s=5,
                                    guard=AddressGuard(["127.0.0.1"], "MODEL_URL_ALLOWED_HOSTS"))

    def update(self, url: str, sha256: str = "") -> dict[str, Any]:
        """Ask for ``url`` and wait for its outcome: the last ``modelUpdate`` reported."""
        self.updater.request(url, sha256)
        assert self.updater.wait_idle(60)
        return [p["modelUpdate"] for p in self.patches if "modelUpdate" in p][-1]

    def cache_entries(self) -> list[str]:
        return sorted(p.name for p in self.cache.iterdir()) if self.cache.is_dir() else []


@pytest.fixture()
def updater(tmp_path: Path) -> Iterator[Updater]:
    u = Updater(tmp_path / "cache")
    yield u
    u.updater.close()


def _refused_and_previous_kept(u: Updater, outcome: dict[str, Any], reason: str) -> None:
    assert outcome["status"] == "failed" and reason in outcome["reason"], outcome
    assert u.slot.current is not None and u.slot.current.labels == ("Apple", "Banana")  # the previous model serves
    assert u.cache_entries() == []  # nothing of the failed update stays


# --- zip bombs ---------------------------------------------------------------------------------


def test_zip_bomb_through_a_live_update_is_refused_and_leaves_nothing(updater: Updater, served: tuple[str, Path]) -> None:
    outcome = updater.update(f"{served[0]}/bomb.zip")
    _refused_and_previous_kept(updater, outcome, "the export zip holds a file of more than 200 MiB unpacked")


def test_zip_bomb_as_model_dir_is_refused_by_load_and_leaves_nothing(served: tuple[str, Path], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(ModelLoadError, match="holds a file of more than 200 MiB unpacked: .*zip bomb"):
        load(served[1] / "bomb.zip")
    assert list(scratch.iterdir()) == []


def test_zip_bomb_as_model_dir_stops_the_module_with_one_line_and_leaves_nothing(served: tuple[str, Path],
                                                                                tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "MODEL_DIR": str(served[1] / "bomb.zip"), "PORT": str(free_port()), "METRICS_PORT": "0", "PYTHONPATH": str(ROOT),
           "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "cannot start:" in line]
    assert len(errors) == 1 and "zip bomb" in errors[0] and "Traceback" not in done.stderr
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("limits, reason", [
    (UnpackLimits(total_bytes=3 * MIB), "the export zip unpacks to more than 3 MiB"),  # fruits: 2.8 MB model + labels
    (UnpackLimits(file_bytes=2 * MIB), "the export zip holds a file of more than 2 MiB unpacked"),
    (UnpackLimits(files=2), "the export zip holds 3 files, more than 2"),
])
def test_unpack_caps_are_parameters_of_load(tmp_path: Path, limits: UnpackLimits, reason: str) -> None:
    archive = _export_zip(tmp_path / "export.zip", extra={"metadata_properties.json": "{}" + " " * 300 * 1024})
    with pytest.raises(ModelLoadError, match=reason):
        load(archive, limits=limits)
    assert load(archive).labels == ("Apple", "Banana", "Lemon", "Orange")  # well within the default caps


def test_too_many_files_is_refused_with_the_default_cap(tmp_path: Path) -> None:
    archive = _export_zip(tmp_path / "many.zip", extra={f"x/{i}.txt": "" for i in range(DEFAULT_LIMITS.files)})
    with pytest.raises(ModelLoadError, match=f"holds {DEFAULT_LIMITS.files + 2} files, more than {DEFAULT_LIMITS.files}"):
        load(archive)


def test_zip_whose_sizes_lie_is_refused_and_leaves_nothing(updater: Updater, served: tuple[str, Path]) -> None:
    """The directory says 1000 bytes, the data holds 8 MiB: never more than declared is written."""
    outcome = updater.update(f"{served[0]}/liar.zip")
    _refused_and_previous_kept(updater, outcome, "the export zip cannot be unpacked")


# --- paths leaving the export ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.txt", "/evil.txt", "sub/../../evil.txt", "../../../../../tmp/evil.txt"])
def test_zip_slip_entries_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "zips").mkdir()
    archive = _export_zip(tmp_path / "zips" / "slip.zip", extra={name: "x"})
    with pytest.raises(ModelLoadError, match="a path or link leading outside its folder"):
        load(archive)
    assert not list(tmp_path.rglob("evil.txt"))


def test_zip_entry_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    archive = _symlink_entry(tmp_path / "link.zip", "model.onnx", str(MODELS / "fruits" / "model.onnx"))
    with pytest.raises(ModelLoadError, match="'model.onnx', a path or link leading outside its folder"):
        load(archive)


def test_zip_slip_through_a_live_update_is_refused(updater: Updater, served: tuple[str, Path]) -> None:
    outcome = updater.update(f"{served[0]}/slip.zip")
    _refused_and_previous_kept(updater, outcome, "'../../evil.txt', a path or link leading outside its folder")


def _export_naming(folder: Path, manifest: dict[str, str]) -> Path:
    """An export folder with fruits' labels.txt and a cvexport.manifest, but no model file of its own."""
    folder.mkdir(parents=True)
    (folder / "labels.txt").write_text((MODELS / "fruits" / "labels.txt").read_text())
    (folder / "cvexport.manifest").write_text(json.dumps({"Platform": "ONNX", **manifest}))
    return folder


@pytest.mark.parametrize("field, name", [
    ("ModelFileName", str(MODELS / "fruits" / "model.onnx")),  # an absolute path
    ("ModelFileName", "../elsewhere/model.onnx"),
    ("LabelFileName", str(MODELS / "fruits" / "labels.txt")),
    ("MetadataPropsFileName", "../elsewhere/props.json"),
])
def test_manifest_naming_a_file_outside_the_export_is_refused(tmp_path: Path, field: str, name: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "model.onnx").symlink_to(MODELS / "fruits" / "model.onnx")
    (elsewhere / "props.json").write_text("{}")
    export = _export_naming(tmp_path / "export", {field: name})
    if field != "ModelFileName":
        (export / "model.onnx").write_bytes((MODELS / "fruits" / "model.onnx").read_bytes())
    with pytest.raises(ModelLoadError, match=f"{name[:80]!r} in .* points outside the export folder"):
        load(export)


@pytest.mark.parametrize("link", ["model.onnx", "labels.txt"])
def test_export_file_that_is_a_symbolic_link_out_of_the_export_is_refused(tmp_path: Path, link: str) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for name in ("model.onnx", "labels.txt"):
        if name == link:
            (export / name).symlink_to(MODELS / "fruits" / name)
        else:
            shutil.copy(MODELS / "fruits" / name, export / name)
    with pytest.raises(ModelLoadError, match=f"'{link}' in .* points outside the export folder"):
        load(export)


def test_links_inside_the_export_are_followed(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "data").mkdir(parents=True)
    shutil.copy(MODELS / "fruits" / "model.onnx", export / "data" / "model.onnx")
    shutil.copy(MODELS / "fruits" / "labels.txt", export / "labels.txt")
    (export / "model.onnx").symlink_to("data/model.onnx")  # as a Kubernetes volume lays files out
    assert load(export).labels == ("Apple", "Banana", "Lemon", "Orange")


def test_manifest_outside_the_export_through_a_live_update_is_refused(updater: Updater, served: tuple[str, Path]) -> None:
    outcome = updater.update(f"{served[0]}/outside.zip")
    _refused_and_previous_kept(updater, outcome, "points outside the export folder")
    assert "model" not in [k for p in updater.patches for k in p]  # never reported as the cached one


# --- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["password", "sas"])
@pytest.mark.parametrize("path", ["fruits.zip", "missing.zip", "bomb.zip"])
def test_credentials_in_model_url_never_appear_in_reports_or_logs(updater: Updater, served: tuple[str, Path],
                                                                  caplog: pytest.LogCaptureFixture, form: str, path: str) -> None:
    """The URL really downloads (or really fails): the password or signature is masked everywhere."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # as edgekit.runtime.configure_logging sets it
    host = served[0].removeprefix("http://")
    url = {"password": f"http://reader:{PASSWORD}@{host}/{path}",
           "sas": f"http://{host}/{path}?sv=2024-11-04&se=2030-01-01&sr=b&sp=r&sig={SIGNATURE}"}[form]
    outcome = updater.update(url)
    assert outcome["status"] == ("applied" if path == "fruits.zip" else "failed"), outcome
    assert "***" in outcome["url"] and host in outcome["url"]
    reported = json.dumps(updater.patches)
    for secret in (PASSWORD, SIGNATURE):
        assert secret not in reported and secret not in caplog.text
        assert all(secret not in r.getMessage() for r in caplog.records)
    assert updater.updater.last["url"] == outcome["url"]


# --- whatever a user can send ------------------------------------------------------------------


def _bad_exports(root: Path) -> dict[str, Path]:
    """Exports a user could point modelUrl at, each broken in its own way."""
    fruits = (MODELS / "fruits" / "model.onnx").read_bytes()
    truncated = root / "truncated.zip"
    truncated.write_bytes(_export_zip(root / "whole.zip").read_bytes()[: 1 * MIB])
    encrypted = _export_zip(root / "encrypted.zip")
    data = bytearray(encrypted.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + flag_at] |= 0x1  # "encrypted", as a password-protected zip says
            start += 4
    encrypted.write_bytes(bytes(data))
    unsupported = _export_zip(root / "unsupported.zip")
    data = bytearray(unsupported.read_bytes())
    for signature, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + method_at:start + method_at + 2] = (99).to_bytes(2, "little")  # AES, not supported
            start += 4
    unsupported.write_bytes(bytes(data))
    return {
        "labels-not-utf8": _export_zip(root / "latin1.zip", extra={"labels.txt": "Äpfel\nBanane\n".encode("latin-1")},
                                       skip=("labels.txt",)),
        "manifest-not-object": _export_zip(root / "manifest.zip", extra={"cvexport.manifest": "[1, 2]"}),
        "manifest-odd-values": _export_zip(root / "odd.zip", extra={"cvexport.manifest": json.dumps(
            {"ModelFileName": {"a": 1}, "LabelFileName": "nul\u0000.txt", "MetadataPropsFileName": 7})}),
        "manifest-long-name": _export_zip(root / "long.zip", extra={"cvexport.manifest": json.dumps({"LabelFileName": "a" * 5000})}),
        "directory-named-model": _export_zip(root / "dir.zip", skip=("model.onnx",), extra={"model.onnx/x": "x"}),
        "model-not-onnx": _export_zip(root / "junk.zip", skip=("model.onnx",), extra={"model.onnx": fruits[:4096]}),
        "truncated": truncated,
        "encrypted": encrypted,
        "unsupported-compression": unsupported,
        "empty-zip": _export_zip(root / "empty.zip", skip=("model.onnx", "labels.txt")),
    }


@pytest.fixture(scope="module")
def bad_exports(served: tuple[str, Path]) -> dict[str, str]:
    root = served[1] / "bad"
    root.mkdir()
    return {case: f"{served[0]}/bad/{path.name}" for case, path in _bad_exports(root).items()}


BAD_URLS = ["http://[", "http://[::1", "http://a..b/x.zip", "http://" + "a" * 300 + ".example/x.zip",
            "http://127.0.0.1:65536/x.zip", "http://exa mple.com/x.zip", "http://\u2603.invalid/x.zip"]


@pytest.mark.parametrize("case", ["labels-not-utf8", "manifest-not-object", "manifest-odd-values", "manifest-long-name",
                                  "directory-named-model", "model-not-onnx", "truncated", "encrypted",
                                  "unsupported-compression", "empty-zip", *BAD_URLS])
def test_anything_sent_through_model_url_is_refused_and_the_model_keeps_serving(
        updater: Updater, served: tuple[str, Path], bad_exports: dict[str, str], case: str) -> None:
    """Each ends as ``failed`` with a short reason; the previous model serves; nothing stays in the
    cache; and the updater still applies a good export afterwards."""
    outcome = updater.update(bad_exports.get(case, case))
    assert outcome["status"] == "failed" and outcome["reason"], outcome
    assert "unexpected error" not in outcome["reason"] and len(outcome["reason"]) < 400, outcome
    assert updater.slot.current is not None and updater.slot.current.labels == ("Apple", "Banana")
    assert updater.cache_entries() == []
    updater.updater.close()  # a fresh updater over the same cache: no retry of the bad URL pending
    updater.updater = ModelUpdater(updater.slot, updater.patches.append, MODELS / "apples-bananas",
                                   cache_dir=updater.cache, timeout_s=5, guard=AddressGuard(["127.0.0.1"], "MODEL_URL_ALLOWED_HOSTS"))
    assert updater.update(f"{served[0]}/fruits.zip")["status"] == "applied"
    assert updater.slot.current.labels == ("Apple", "Banana", "Lemon", "Orange")


def test_a_target_size_that_is_not_a_number_is_ignored_when_the_model_fixes_its_input(
        updater: Updater, served: tuple[str, Path]) -> None:
    """``metadata_properties.json``'s target size only stands in for input dimensions the model leaves open
    (the export module's docstring: size from the model's input); the fruits model fixes its own, so a
    ``TargetHeight`` of "huge" is a harmless oddity: the export is applied and classifies as without it."""
    _export_zip(served[1] / "meta.zip", extra={"metadata_properties.json": json.dumps(
        {"CustomVision.Preprocess.TargetHeight": "huge"})})
    outcome = updater.update(f"{served[0]}/meta.zip")
    assert outcome["status"] == "applied", outcome
    assert updater.slot.current is not None and updater.slot.current.labels == ("Apple", "Banana", "Lemon", "Orange")
    with Image.open(IMAGES / "banana1.jpg") as photo:
        best = max(updater.slot.current.classify(photo.convert("RGB")), key=lambda p: p.probability)
    assert best.tagName == "Banana", best


def test_a_single_model_file_is_served_whatever_its_name(updater: Updater, served: tuple[str, Path]) -> None:
    """An ONNX12-style single model file (labels embedded, in the model's order) named as the user
    likes, e.g. ``colours-v2.onnx``: saved as the model file the loader looks for."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["data"], ["pooled"]), helper.make_node("Flatten", ["pooled"], ["means"], axis=1),
         helper.make_node("Softmax", ["means"], ["scores"], axis=1),
         helper.make_node("ZipMap", ["scores"], ["loss"], domain="ai.onnx.ml", classlabels_strings=["red", "green", "blue"])],
        "onnx12", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_value_info("loss", helper.make_sequence_type_proto(
            helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    onnx.save(model, served[1] / "colours-v2.onnx")
    outcome = updater.update(f"{served[0]}/colours-v2.onnx?sv=1&sig=x")
    assert outcome["status"] == "applied", outcome
    assert updater.slot.current is not None and updater.slot.current.labels == ("red", "green", "blue")


def test_credentials_in_model_url_stay_out_of_the_real_modules_twin_and_log(served: tuple[str, Path], tmp_path: Path) -> None:
    """The module process under the local runner's bus, at LOG_LEVEL=DEBUG: desired ``modelUrl``
    with a password and a SAS signature downloads and applies, and neither secret appears in
    reported properties or anywhere in the module's output."""
    import io

    from conftest import wait_for
    from localedge.runner.bus import Bus, UpstreamSink

    host = served[0].removeprefix("http://")
    bus = Bus([], {"ImageClassifierService": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    env = {**os.environ, **bus.environment("ImageClassifierService"), "PORT": str(free_port()), "METRICS_PORT": "0", "LOG_LEVEL": "DEBUG",
           "MODEL_URL_ALLOWED_HOSTS": "127.0.0.1",
           "MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reported = bus.reported["ImageClassifierService"]
    try:
        wait_for(lambda: reported.get("model", {}).get("labels") == "Apple,Banana", 30)
        url = f"http://reader:{PASSWORD}@{host}/fruits.zip?sv=2024-11-04&sr=b&sp=r&sig={SIGNATURE}"
        bus.patch_desired("ImageClassifierService", {"modelUrl": url})
        wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "applied", 30)
        bus.patch_desired("ImageClassifierService", {"modelUrl": url.replace("fruits.zip", "missing.zip")})
        wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "failed", 30)
        document = json.dumps(reported)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        bus.close()
    assert process.returncode == 0, output[-3000:]
    assert "reader:***@" in reported["modelUpdate"]["url"] and "sig=***" in reported["modelUpdate"]["url"]
    for secret in (PASSWORD, SIGNATURE):
        assert secret not in document and secret not in output, output[-3000:]


@pytest.mark.parametrize("url", ["http://a..b/x.zip", "http://" + "a" * 300 + "/x.zip", "http://host:99999/x.zip",
                                 "ftp://host/x.zip", "http://[::1/x.zip"])
def test_a_model_url_that_does_not_parse_is_final_not_retried(url: str) -> None:
    from classifier.fetch import FetchError, fetch

    with pytest.raises(FetchError) as error:
        fetch(url, 1.0, 1024, lambda _chunk: None)
    assert not error.value.transient  # retrying every 30 s (up to 15 min) forever cannot help
