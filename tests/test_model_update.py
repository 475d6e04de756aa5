"""Live model updates through the module twin, and 503 while no model is loaded.

Real parts throughout: export zips served by a real HTTP server, the real fixture models, the
classifier's Flask app, and for the twin path the real ImageClassifierService process talking
to the local runner's bus (which stands in for edgeHub)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from classifier.app import create_app
from classifier.export import load
from classifier.fetch import AddressGuard
from classifier.serving import ModelSlot, ModelUpdater
from classifier.settings import ClassifierSettings
from conftest import IMAGES, MODELS, ROOT, free_port, serving_folder, wait_for
from localedge.runner.bus import Bus, UpstreamSink
from module_processes import start_modules, stop_modules
from slow_server import trickling_server

BANANA = (IMAGES / "banana1.jpg").read_bytes()


def _zip(source: Path, target: Path, labels: str | None = None, folder: str = "") -> str:
    """Zip an export (model.onnx + labels.txt) as Custom Vision does, or inside ``folder`` as a
    user re-zipping an unpacked export does; returns its SHA-256."""
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(source / "model.onnx", f"{folder}model.onnx")
        archive.writestr(f"{folder}labels.txt", labels if labels is not None else (source / "labels.txt").read_text())
    return hashlib.sha256(target.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real HTTP server with export zips: fruits, apples-bananas, wrong labels, not a zip."""
    root = tmp_path_factory.mktemp("exports")
    digests = {"fruits": _zip(MODELS / "fruits", root / "fruits.zip"),
               "apples-bananas": _zip(MODELS / "apples-bananas", root / "apples-bananas.zip"),
               "wrong-labels": _zip(MODELS / "fruits", root / "wrong-labels.zip", "Apple\nBanana\n"),
               "in-folder": _zip(MODELS / "fruits", root / "in-folder.zip", folder="fruits-export/")}
    (root / "garbage.zip").write_bytes(b"PK\x03\x04 this is not really a zip" * 20)
    with serving_folder(root) as base:
        yield base, digests


class Service:
    """The app over a slot holding apples-bananas, an updater reporting into ``reported``."""

    def __init__(self, cache: Path) -> None:
        self.slot = ModelSlot(load(MODELS / "apples-bananas"))
        self.client = create_app(self.slot, ClassifierSettings()).test_client()
        self.reported: dict[str, Any] = {}
        self.updater = ModelUpdater(self.slot, self.reported.update, MODELS / "apples-bananas", cache_dir=cache, timeout_s=5,
                                    guard=AddressGuard(["127.0.0.1"], "MODEL_URL_ALLOWED_HOSTS"))

    def labels(self) -> list[str]:
        reply = self.client.post("/image", data=BANANA, content_type="application/octet-stream")
        assert reply.status_code == 200
        return [p["tagName"] for p in reply.get_json()["predictions"]]

    def update(self, url: str, sha256: str = "") -> dict[str, Any]:
        self.updater.request(url, sha256)
        assert self.updater.wait_idle(30)
        return self.reported["modelUpdate"]


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[Service]:
    s = Service(tmp_path / "cache")
    yield s
    s.updater.close()


def test_update_downloads_verifies_and_swaps(service: Service, exports: tuple[str, dict[str, str]]) -> None:
    base, digests = exports
    assert service.labels() == ["Banana"]  # apples-bananas on banana1: Apple scores 0, dropped
    outcome = service.update(f"{base}/fruits.zip", digests["fruits"])
    assert outcome["status"] == "applied" and outcome["reason"] == ""
    model = service.reported["model"]
    assert model["labels"] == "Apple,Banana,Lemon,Orange" and model["inputSize"] == "227x227"
    assert model["flavour"] and model["runtime"] == "ONNX Runtime" and len(model["sha256"]) == 64
    assert service.labels() == ["Apple", "Banana", "Lemon", "Orange"]  # fruits scores every tag above 1e-8
    metrics = service.client.get("/metrics").get_data(as_text=True)
    assert 'labels="Apple,Banana,Lemon,Orange"' in metrics and f'sha256="{model["sha256"]}"' in metrics
    ready = service.client.get("/health/ready").get_json()
    assert ready["model"]["labels"] == ["Apple", "Banana", "Lemon", "Orange"]


def test_update_from_a_zip_with_the_export_in_a_folder(service: Service, exports: tuple[str, dict[str, str]]) -> None:
    base, digests = exports
    outcome = service.update(f"{base}/in-folder.zip", digests["in-folder"])
    assert outcome["status"] == "applied", outcome
    assert service.labels() == ["Apple", "Banana", "Lemon", "Orange"]


@pytest.mark.parametrize("case, reason", [
    ("sha", "SHA-256 is"),
    ("missing", "HTTP 404"),
    ("garbage", "neither an export zip nor"),
    ("wrong-labels", "lists 2 tags but the model scores 4"),
    ("unreachable", "could not download modelUrl"),
])
def test_failed_update_keeps_the_previous_model_answering(service: Service, exports: tuple[str, dict[str, str]],
                                                          case: str, reason: str) -> None:
    base, digests = exports
    url, sha = {"sha": (f"{base}/fruits.zip", digests["apples-bananas"]),
                "missing": (f"{base}/nothing.zip", ""),
                "garbage": (f"{base}/garbage.zip", ""),
                "wrong-labels": (f"{base}/wrong-labels.zip", digests["wrong-labels"]),
                "unreachable": ("http://127.0.0.1:9/export.zip", "")}[case]
    before = service.slot.current
    outcome = service.update(url, sha)
    assert outcome["status"] == "failed" and reason in outcome["reason"], outcome
    assert service.slot.current is before
    assert service.labels() == ["Banana"]
    cache = service.updater.cache_dir
    assert not cache.exists() or list(cache.iterdir()) == []  # nothing of a failed update stays


def test_requests_keep_being_answered_during_an_update(service: Service, exports: tuple[str, dict[str, str]]) -> None:
    base, digests = exports
    statuses: list[int] = []
    stop = threading.Event()
    client = create_app(service.slot, ClassifierSettings()).test_client()

    def hammer() -> None:
        while not stop.is_set():
            statuses.append(client.post("/image", data=BANANA, content_type="application/octet-stream").status_code)

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        assert service.update(f"{base}/fruits.zip", digests["fruits"])["status"] == "applied"
        time.sleep(0.2)
    finally:
        stop.set()
        worker.join()
    assert len(statuses) > 5 and set(statuses) == {200}


def test_clearing_model_url_goes_back_to_the_configured_model(service: Service, exports: tuple[str, dict[str, str]]) -> None:
    base, digests = exports
    service.update(f"{base}/fruits.zip", digests["fruits"])
    assert len(service.slot.current.labels) == 4
    assert [p.name for p in service.updater.cache_dir.iterdir()] == [digests["fruits"]]  # only the serving download kept
    assert service.update("")["status"] == "applied"
    assert service.slot.current.labels == ("Apple", "Banana")
    assert list(service.updater.cache_dir.iterdir()) == []


def test_no_model_yet_is_503_with_a_reason() -> None:
    client = create_app(ModelSlot(), ClassifierSettings()).test_client()
    reply = client.post("/image", data=BANANA, content_type="application/octet-stream")
    assert reply.status_code == 503 and reply.get_json()["code"] == "ServiceUnavailable"
    assert "loading" in reply.get_json()["message"]
    assert client.post("/url", json={"url": "http://example.invalid/x.jpg"}).status_code == 503
    assert client.get("/health/ready").status_code == 503
    assert client.get("/health/live").status_code == 200


def _post(port: int) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/image", data=BANANA,
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def test_module_twin_update_in_the_real_module(tmp_path: Path, exports: tuple[str, dict[str, str]]) -> None:
    """ImageClassifierService as a process under the local runner's bus: desired modelUrl swaps
    the model, reported properties show it, a bad modelSha256 is refused and service goes on."""
    base, digests = exports
    bus = Bus([], {"ImageClassifierService": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    port = free_port()
    env = {**os.environ, **bus.environment("ImageClassifierService"), "PORT": str(port),
           "MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT),
           "MODEL_URL_ALLOWED_HOSTS": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    reported = bus.reported["ImageClassifierService"]
    try:
        wait_for(lambda: reported.get("model", {}).get("labels") == "Apple,Banana", 20)
        assert [p["tagName"] for p in _post(port)["predictions"]] == ["Banana"]
        bus.patch_desired("ImageClassifierService", {"modelUrl": f"{base}/fruits.zip", "modelSha256": digests["fruits"]})
        wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "applied", 30)
        assert reported["model"]["labels"] == "Apple,Banana,Lemon,Orange"
        assert [p["tagName"] for p in _post(port)["predictions"]] == ["Apple", "Banana", "Lemon", "Orange"]
        bus.patch_desired("ImageClassifierService", {"modelUrl": f"{base}/apples-bananas.zip", "modelSha256": "0" * 64})
        wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "failed", 30)
        assert "SHA-256" in reported["modelUpdate"]["reason"]
        assert reported["model"]["labels"] == "Apple,Banana,Lemon,Orange"  # still the last good model
        assert [p["tagName"] for p in _post(port)["predictions"]] == ["Apple", "Banana", "Lemon", "Orange"]
        bus.patch_desired("ImageClassifierService", {"modelSha256": "not-hex"})
        wait_for(lambda: "modelSha256" in reported.get("desiredStatus", {}).get("refused", ""), 10)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        bus.close()
    assert process.returncode == 0, output[-3000:]


def test_network_failure_is_retried_with_backoff_until_the_export_is_reachable(tmp_path: Path) -> None:
    """The export's server is down when the update is asked for: the update is retried with
    backoff (reported), and applied once the server is up, without a new desired update."""
    port = free_port()
    root = tmp_path / "www"
    root.mkdir()
    digest = _zip(MODELS / "fruits", root / "fruits.zip")
    slot = ModelSlot(load(MODELS / "apples-bananas"))
    reported: dict[str, Any] = {}
    updater = ModelUpdater(slot, reported.update, MODELS / "apples-bananas", cache_dir=tmp_path / "cache",
                           timeout_s=2, retry_s=0.3, guard=AddressGuard(["127.0.0.1"], "MODEL_URL_ALLOWED_HOSTS"))
    try:
        updater.request(f"http://127.0.0.1:{port}/fruits.zip", digest)
        failed = wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "failed" and reported["modelUpdate"], 10)
        assert "could not download modelUrl" in failed["reason"] and "retrying in 0.3 s" in failed["reason"]
        wait_for(lambda: "retrying in 0.6 s" in reported["modelUpdate"]["reason"], 10)  # backoff doubles
        assert slot.current.labels == ("Apple", "Banana")  # still serving the previous model
        server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            wait_for(lambda: reported["modelUpdate"]["status"] == "applied", 15)
            assert slot.current.labels == ("Apple", "Banana", "Lemon", "Orange")
        finally:
            server.shutdown()
            server.server_close()
    finally:
        updater.close()


def test_a_slow_model_download_does_not_hold_the_direct_methods(tmp_path: Path) -> None:
    """Issue 22 item 4: modelUrl on a server sending one byte every 3 s (the download would take hours), then
    reloadModel four times at once: each answers at once, "started" or "already in progress" (the reload runs
    on a thread of its own, behind the download), and modelInfo answers while it lasts, with the download's
    progress in modelUpdate. The deadlines are generous (20 s each); the download alone would hold a method
    for up to 900 s."""
    bus = Bus([], {"ImageClassifierService": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    env = {"PORT": str(free_port()), "MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(tmp_path),
           "MODEL_URL_ALLOWED_HOSTS": "127.0.0.1"}
    processes = start_modules(bus, {"ImageClassifierService": env}, tmp_path)
    reported = bus.reported["ImageClassifierService"]
    try:
        with trickling_server(3.0) as base:
            wait_for(lambda: reported.get("model", {}).get("labels") == "Apple,Banana", 30)
            bus.patch_desired("ImageClassifierService", {"modelUrl": f"{base}/export.zip"})
            wait_for(lambda: reported.get("modelUpdate", {}).get("status") == "downloading", 20)
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(lambda _: bus.invoke("ImageClassifierService", "reloadModel", None, 20), range(4)))
            assert all(status == 200 for status, _ in answers), answers
            said = sorted(answer["reload"] for _, answer in answers)
            assert said == ["already in progress"] * 3 + ["started"], said
            status, info = bus.invoke("ImageClassifierService", "modelInfo", None, 20)
            assert status == 200 and info["labels"] == ["Apple", "Banana"], info
            assert info["modelUpdate"]["status"] == "downloading" and info["reloadInProgress"] is True
    finally:
        stop_modules(processes, bus)
    log = (tmp_path / "ImageClassifierService.log").read_text()
    assert processes["ImageClassifierService"].returncode == 0 and "Traceback" not in log, log[-3000:]


def test_model_url_reaches_no_private_address_unless_allowed(tmp_path: Path, exports: tuple[str, dict[str, str]]) -> None:
    """Issue 22 item 5: the module process refuses a desired modelUrl on the cloud metadata address
    (169.254.169.254) and on loopback, as /url does, with a reason naming MODEL_URL_ALLOWED_HOSTS, without
    retrying; the bundled model keeps serving. (Listed in MODEL_URL_ALLOWED_HOSTS, loopback is reached:
    test_module_twin_update_in_the_real_module.)"""
    base, digests = exports
    bus = Bus([], {"ImageClassifierService": {}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    port = free_port()
    env = {"PORT": str(port), "MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(tmp_path)}
    processes = start_modules(bus, {"ImageClassifierService": env}, tmp_path)
    reported = bus.reported["ImageClassifierService"]
    try:
        wait_for(lambda: reported.get("model", {}).get("labels") == "Apple,Banana", 30)
        for url in ("http://169.254.169.254/latest/meta-data/model.zip", f"{base}/fruits.zip"):
            bus.patch_desired("ImageClassifierService", {"modelUrl": url, "modelSha256": ""})
            outcome = wait_for(lambda u=url: (m := reported.get("modelUpdate", {})).get("url") == u
                               and m.get("status") == "failed" and m, 30)
            assert "not a public address" in outcome["reason"] and "MODEL_URL_ALLOWED_HOSTS" in outcome["reason"], outcome
            assert "retrying" not in outcome["reason"]
            assert reported["model"]["labels"] == "Apple,Banana"
            assert [p["tagName"] for p in _post(port)["predictions"]] == ["Banana"]
    finally:
        stop_modules(processes, bus)
    assert processes["ImageClassifierService"].returncode == 0
