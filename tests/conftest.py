"""Shared test helpers: paths to the project and to its test fixtures (tests/fixtures), and running the local runner."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"  # real Custom Vision models, photos, the clip: see its README.md
MODELS = FIXTURES / "models"
IMAGES = FIXTURES / "images"
SCHEMAS = ROOT / "localedge" / "deploy" / "schemas"  # SchemaStore's IoT Edge deployment schemas


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tool_venv(name: str, rule: str) -> Path:
    """The python of a tool venv that the Makefile makes from its pinned requirements (``make test`` makes them
    all, once, and reuses them). Missing or older than its requirements file: the test fails naming the rule."""
    venv = ROOT / name
    stamp = venv / ".installed-stamp"
    requirements = ROOT / "tools" / f"requirements-{name.removeprefix('.venv-')}.txt"
    if not stamp.exists():
        pytest.fail(f"{name} is missing: run `make {rule}` (make test makes it)", pytrace=False)
    if requirements.exists() and stamp.stat().st_mtime < requirements.stat().st_mtime:
        pytest.fail(f"{name} is older than {requirements.relative_to(ROOT)}: run `make {rule}`", pytrace=False)
    return venv / "bin" / "python"


def run_localedge(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m localedge`` from the project root, as a user would; output captured."""
    return subprocess.run(
        [sys.executable, "-m", "localedge", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )


def wait_for(condition: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Poll ``condition`` until it returns something truthy (returned), or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def fixtures() -> Path:
    assert FIXTURES.is_dir(), f"the test fixtures are expected at {FIXTURES}"
    return FIXTURES


@contextmanager
def classifier_main(env: Mapping[str, str], folder: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """ImageClassifierService's main.py as IoT Edge runs it (standalone) on a free port, ``env`` over this
    process's, its log in ``folder/service.log`` (a file, not a pipe nobody reads); yields (process, port, log)
    once ``/health/ready`` answers 200 (30 s). On exit: SIGTERM, and it must have stopped cleanly (code 0, no
    traceback in its log)."""
    port = free_port()
    log = folder / "service.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")],
                                   env={**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), **env},
                                   stdout=out, stderr=subprocess.STDOUT, text=True)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    try:
        wait_for(ready, 30)
        yield process, port, log
    finally:
        process.terminate()
        process.wait(timeout=15)
    output = log.read_text()
    assert process.returncode == 0 and "Traceback" not in output, output[-3000:]


def copy_solution(folder: Path, env: str) -> Path:
    """``folder`` with a copy of the solution's deployment templates and modules and ``env`` as its .env."""
    shutil.copytree(ROOT / "modules", folder / "modules", ignore=shutil.ignore_patterns("__pycache__"))
    for template in ("deployment.template.json", "deployment.arm32v7.template.json"):
        shutil.copy(ROOT / template, folder / template)
    (folder / ".env").write_text(env)
    return folder


@contextmanager
def serving_folder(folder: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving ``folder``'s files (for /url and modelUrl); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
