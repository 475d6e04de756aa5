"""Shared test helpers: paths to the project and to ../shared/fixtures, and running the local runner."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = (ROOT.parent / "shared" / "fixtures").resolve()
MODELS = FIXTURES / "models"
IMAGES = FIXTURES / "images"


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
    assert FIXTURES.is_dir(), f"the shared fixtures are expected at {FIXTURES}"
    return FIXTURES
