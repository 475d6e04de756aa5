"""The runner's state folder (keys, control socket, volumes) is private: issue 22, item 9."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _no_module_template(folder: Path) -> Path:
    """The solution's template with no module built from modules/: the runner stops right after it prepared its state."""
    document = json.loads((ROOT / "deployment.template.json").read_text())
    for spec in document["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"].values():
        spec["settings"]["image"] = "example.azurecr.io/other:1.0"
    path = folder / "template.json"
    path.write_text(json.dumps(document))
    return path


def test_a_state_folder_open_to_others_is_made_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    done = subprocess.run([sys.executable, "-m", "localedge", "run", "--manifest", str(_no_module_template(tmp_path)),
                           "--duration", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "LOCALEDGE_STATE_DIR": str(state)})
    assert stat.S_IMODE(state.stat().st_mode) == 0o700, done.stdout
    assert f"the state folder {state} was open to others (mode 777); made private (0700)" in done.stdout
    assert done.returncode == 2 and "no module of this solution to run" in done.stdout  # and then stops, as it would
