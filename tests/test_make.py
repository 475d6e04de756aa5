"""What the README's first commands install (issue 21, item 12): `make demo` only what the solution runs, saying
what it installs; the test tools and Azurite only for `make test` / `make install`. Checked with make's dry run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT


def _dry_run(target: str, tmp_path: Path) -> str:
    done = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_demo_installs_what_the_solution_runs_and_says_so(tmp_path: Path) -> None:
    plan = _dry_run("demo", tmp_path)
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert len(installs) == 1 and installs[0].rstrip().endswith("-e .") and "[dev]" not in installs[0], installs
    assert "npm install" not in plan  # no Azurite
    assert "the solution's pinned dependencies" in plan  # said before the long step
    assert "-m localedge run" in plan


def test_make_install_adds_the_test_tools_and_azurite(tmp_path: Path) -> None:
    plan = _dry_run("install", tmp_path)
    assert "-e '.[dev]'" in plan and "adding the test tools" in plan
