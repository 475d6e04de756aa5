"""Nothing the runner started outlives it, whenever it is killed (issue 22, item 10): modules, their children
(TextToSpeech's Piper), the MQTT transport's brokers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, wait_for


def _children() -> dict[int, int]:
    """pid -> parent pid of every process now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("after_s", [0.5, 1.5, 3.0, 5.0, 8.0])
def test_a_killed_runner_leaves_no_process(tmp_path: Path, after_s: float) -> None:
    runner = subprocess.Popen([sys.executable, "-m", "localedge", "run", "--transport", "mqtt",
                               "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4",
                               "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={tmp_path / 'audio'}"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path / "state")})
    seen: set[int] = {runner.pid}
    deadline = time.monotonic() + after_s
    while time.monotonic() < deadline:  # follow the runner's descendants as they start
        for pid, parent in _children().items():
            if parent in seen:
                seen.add(pid)
        time.sleep(0.02)
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    seen.discard(runner.pid)

    def all_gone() -> bool:
        for pid, parent in _children().items():  # children started after the kill too (re-parented or not)
            if parent in seen:
                seen.add(pid)
        return not [pid for pid in seen if _alive(pid)]

    try:
        wait_for(all_gone, 20)
    finally:
        left = [pid for pid in seen if _alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert not left, [Path(f"/proc/{p}/cmdline").read_bytes()[:200] for p in left if Path(f"/proc/{p}").exists()]
