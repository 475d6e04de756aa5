"""version.py bumps module versions in place, and refuses what it cannot bump without touching anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from version import main


@pytest.fixture()
def solution(tmp_path: Path) -> Path:
    for module in ("CameraCapture", "TextToSpeech"):
        (tmp_path / "modules" / module).mkdir(parents=True)
        shutil.copy(ROOT / "modules" / module / "module.json", tmp_path / "modules" / module / "module.json")
    return tmp_path


def _version(root: Path, module: str) -> str:
    return json.loads((root / "modules" / module / "module.json").read_text())["image"]["tag"]["version"]


def test_patch_is_the_default_and_every_module_moves(solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (solution / "modules" / "CameraCapture" / "module.json").read_text()
    assert main([], root=solution) == 0
    assert capsys.readouterr().out == "CameraCapture: 0.1.0 -> 0.1.1\nTextToSpeech: 0.1.0 -> 0.1.1\n"
    after = (solution / "modules" / "CameraCapture" / "module.json").read_text()
    assert after == before.replace('"version": "0.1.0"', '"version": "0.1.1"')  # formatting untouched


def test_minor_and_major_for_one_module(solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--minor", "TextToSpeech"], root=solution) == 0
    assert _version(solution, "TextToSpeech") == "0.2.0" and _version(solution, "CameraCapture") == "0.1.0"
    assert main(["--major", "TextToSpeech"], root=solution) == 0
    assert _version(solution, "TextToSpeech") == "1.0.0"
    assert capsys.readouterr().out.splitlines()[-1] == "TextToSpeech: 0.2.0 -> 1.0.0"


def test_malformed_file_is_refused_and_nothing_changes(solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = solution / "modules" / "TextToSpeech" / "module.json"
    bad.write_text(bad.read_text().replace('"0.1.0"', '"one"'))
    assert main([], root=solution) == 2
    err = capsys.readouterr().err
    assert "TextToSpeech/module.json: image.tag.version 'one' is not MAJOR.MINOR.PATCH" in err
    assert _version(solution, "CameraCapture") == "0.1.0"  # all or nothing
    bad.write_text("{ not json")
    assert main([], root=solution) == 2 and "not valid JSON" in capsys.readouterr().err


def test_unknown_module_is_named(solution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["Camera"], root=solution) == 2
    assert "no module Camera (modules: CameraCapture, TextToSpeech)" in capsys.readouterr().err
