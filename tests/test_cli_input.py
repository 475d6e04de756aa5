"""What a user types into the session commands: JSON that cannot be sent gets one line, never a traceback
(issue 22, item 7). These are argument errors, refused before any runner is asked (exit 2, as argparse's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(("args", "says"), [
    (["twin", "set", "CameraCapture", '{"videoPath": "\\ud800.mp4"}'], "lone surrogate"),
    (["invoke", "SenseHatDisplay", "show", '{"tag": "\\udfff"}'], "lone surrogate"),
    (["invoke", "SenseHatDisplay", "show", DEEP], "nested deeper than 32 levels"),
    (["twin", "set", "CameraCapture", '{"a":' * 40 + "1" + "}" * 40], "nested deeper than 32 levels"),
])
def test_json_that_cannot_be_sent_is_one_line(args: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "localedge", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and says in errors[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
