"""How long `make test` takes on a fresh clone: from nothing (the venvs, Azurite and the tools' venvs made
first; Debian packages already installed), then again with everything made (the suite alone).

    .venv/bin/python benchmarks/suite.py            # [--runs 1] [--keep]

Clones this repository (its committed HEAD) into a temporary folder, runs `make test` there twice and
prints the wall time of each run and pytest's own summary line (tests passed, its time). pip's cache
is whatever this machine has; a machine that downloads every wheel takes longer for the first run.
Figures: docs/benchmarks.md "Tests".
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_make_test(folder: Path) -> tuple[float, str]:
    """(wall time in s, pytest's summary line) of one `make test` in ``folder``; raises on a failure."""
    started = time.monotonic()
    done = subprocess.run(["make", "test"], cwd=folder, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    summary = next((line.strip("= ") for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ passed", line)), "")
    if done.returncode != 0:
        raise SystemExit(f"make test failed after {took:.0f} s:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return took, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs with everything made, after the first (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="suite-"))
    clone = base / "clone"
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        took, summary = timed_make_test(clone)
        print(f"from nothing: make test {took / 60:.1f} min ({summary})", flush=True)
        for run in range(args.runs):
            took, summary = timed_make_test(clone)
            print(f"with its venvs, run {run + 1}: make test {took / 60:.1f} min ({summary})", flush=True)
    finally:
        if args.keep:
            print(f"kept: {clone}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
