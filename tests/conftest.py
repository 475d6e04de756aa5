"""Shared test helpers: paths to the project and to its test fixtures (tests/fixtures), and running the local runner."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers per core this process may use. Most of the suite waits (on module processes,
    brokers, clips played at their frame rate), so a core serves two workers; measured in docs/benchmarks.md "Tests"."""
    return 2 * len(os.sched_getaffinity(0))


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest process (each xdist worker) keeps runner state in a folder of its own, so that runners of
    parallel tests, or of a run in another checkout, never see each other's state files; short, under /tmp,
    because the control socket's path must fit in 108 bytes."""
    state = tempfile.mkdtemp(prefix="le-state-", dir="/tmp")
    os.environ["LOCALEDGE_STATE_DIR"] = state
    config.add_cleanup(partial(shutil.rmtree, state, ignore_errors=True))
    low, high = worker_addresses()
    os.environ["LOCALEDGE_BROKER_ADDRESSES"] = f"127.0.0.{low}-127.0.0.{high}"  # the runners' brokers


def worker_addresses() -> tuple[int, int]:
    """The last bytes (first, last) of this worker's own block of loopback addresses 127.0.0.2-254, where
    its runners' and stand-ins' brokers listen on port 8883; xdist worker gwN of M gets block N of M."""
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), index + 1)
    size = 253 // count
    return 2 + index * size, 1 + (index + 1) * size


def loopback_address(port: int = 8883) -> str:
    """An address in this worker's block with ``port`` free on it now."""
    low, high = worker_addresses()
    for n in random.sample(range(low, high + 1), high - low + 1):
        with socket.socket() as sock:
            try:
                sock.bind((f"127.0.0.{n}", port))
            except OSError:
                continue
        return f"127.0.0.{n}"
    raise AssertionError(f"no address 127.0.0.{low}-{high} has port {port} free")


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


def convert_model(*args: str, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    """``make convert-model ARGS`` from the project root, as docs/models.md tells a user (one conversion on 2
    cores takes well under a minute; ``timeout`` in s)."""
    return subprocess.run(["make", "--no-print-directory", "convert-model", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


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


def ask_runner(command: str, state: Path | None = None, **fields: Any) -> Any:
    """The result of one control request to the running runner (the one in ``state``, else this process's
    state folder), asked in-process through the same socket the ``python -m localedge`` commands use;
    None while no runner answers or it answers with an error (poll it with :func:`wait_for`)."""
    from localedge.runner.commands import CommandError, find_runner, result
    from localedge.runner.control import Request

    try:
        return result(find_runner(None, state), Request(command=command, **fields), 10.0)  # type: ignore[arg-type]
    except CommandError:
        return None


def run_until(args: list[str], done: Callable[[str], Any], folder: Path, timeout_s: float = 120.0,
              env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m localedge run <args>`` until ``done(output so far)`` holds (deadline ``timeout_s``), then
    Ctrl-C, as a user ends a run; returns its exit code and output. The run ends on the event the test
    waits for instead of after a fixed duration. Output goes to ``folder/runner.log``."""
    log_path = folder / "runner.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "localedge", *args], cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, text=True, env=None if env is None else dict(env))
    try:
        deadline = time.monotonic() + timeout_s
        while not done(log_path.read_text()):
            if process.poll() is not None:
                break  # it ended by itself: the caller's assertions say what is missing
            if time.monotonic() > deadline:
                raise AssertionError(f"the run did not reach its end condition in {timeout_s} s:\n"
                                     + log_path.read_text()[-3000:])
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, log_path.read_text(), "")
