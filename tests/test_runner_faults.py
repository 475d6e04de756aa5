"""The local runner under faults: killed with SIGKILL, given malformed manifests (run and genconfig alike)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, ROOT, SCHEMAS, run_localedge, wait_for

ENV = ("CONTAINER_REGISTRY_ADDRESS=myregistry.azurecr.io\nCONTAINER_REGISTRY_USERNAME=u\nCONTAINER_REGISTRY_PASSWORD=p\nSPEECH_KEY=\nSPEECH_REGION=\nSPEECH_HOST=\nPREDICTION_KEY=\nLIVE_VIEW_TOKEN=\n"
       "BLOB_ACCOUNT_NAME=captures01\nBLOB_ACCOUNT_KEY=" + "QUJD" * 21 + "QQ==\n"  # a 64-byte key
       "BLOB_UPLOAD_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=cloud;AccountKey=" + "QUJD" * 21 + "QQ==\n")
MODULES = ["ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"]


def _children(parent: int) -> list[int]:
    """PIDs of the live processes whose parent is ``parent`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _state(int(entry.name)) not in (None, "Z") and _ppid(int(entry.name)) == parent:
            found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...


def _state(pid: int) -> str | None:
    """The process's state letter, None when it no longer exists; "Z" (exited, not yet reaped) counts as gone."""
    fields = _stat(pid)
    return fields[0] if fields else None


def _ppid(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if _state(pid) not in (None, "Z")]


def _kill_leftovers(pids: list[int]) -> None:
    for pid in _alive(pids):
        os.kill(pid, signal.SIGKILL)


def test_every_module_exits_when_the_runner_is_killed(tmp_path: Path) -> None:
    """Every process the runner started (the modules and Azurite) ends when the runner is killed."""
    log = tmp_path / "runner.log"
    with log.open("w") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "localedge", "run", "--duration", "300",
             "--set", f"CameraCapture.VIDEO_PATH={FIXTURES / 'video' / 'fruit.mp4'}",
             "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={tmp_path / 'audio'}",
             "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={tmp_path / 'display'}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    modules: list[int] = []
    try:
        # the four modules and Azurite, in place of the blob module (localedge.runner.standins)
        modules = wait_for(lambda: len(found := _children(runner.pid)) == len(MODULES) + 1 and found, 60)
        logged = [re.compile(rf"^{name} +\| ", re.M) for name in MODULES]
        wait_for(lambda: all(p.search(log.read_text()) for p in logged), 60)  # each module is up and logging
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        try:
            wait_for(lambda: not _alive(modules), 60)
        except AssertionError:
            left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[-80:] for pid in _alive(modules)}
            raise AssertionError(f"still running after the runner was killed: {left}\n{log.read_text()[-3000:]}") from None
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        _kill_leftovers(modules)


SUPERVISED = """
import signal, sys, threading, time
from pathlib import Path
signal.signal(signal.SIGTERM, lambda *_: (Path(sys.argv[1]).write_text("terminated"), sys.exit(0)))
Path(sys.argv[1]).write_text("running")
while True:
    time.sleep(1)
"""
SUPERVISOR = """
import sys, threading, time
from pathlib import Path
from localedge.runner.supervisor import Supervisor
supervisor = Supervisor(sys.stdout, Path.cwd())
supervisor.add("Sleeper", Path(sys.argv[1]), {"PYTHONPATH": ""}, "always")
supervisor.add("Sleeper2", Path(sys.argv[2]), {"PYTHONPATH": ""}, "always")
supervisor.start_all()
threading.Event().wait()
"""


def test_a_module_that_never_reaches_the_bus_still_gets_sigterm_when_the_runner_dies(tmp_path: Path) -> None:
    """From the runner's side alone (no bus): the supervisor's processes are told to stop by the kernel."""
    scripts = []
    for name in ("one", "two"):
        script = tmp_path / f"{name}.py"
        script.write_text(SUPERVISED.replace("sys.argv[1]", repr(str(tmp_path / f"{name}.state"))))
        scripts.append(str(script))
    supervisor = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SUPERVISOR), *scripts], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    modules: list[int] = []
    try:
        wait_for(lambda: all((tmp_path / f"{n}.state").is_file() for n in ("one", "two")), 30)
        modules = _children(supervisor.pid)
        assert len(modules) == 2
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(10)
        wait_for(lambda: not _alive(modules), 30)
        assert [(tmp_path / f"{n}.state").read_text() for n in ("one", "two")] == ["terminated", "terminated"]
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        _kill_leftovers(modules)


def _route(content: dict[str, Any], name: str, text: str) -> None:
    content["$edgeHub"]["properties.desired"]["routes"][name]["route"] = text


MALFORMED: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    # case: (change to modulesContent, JSON path or route in the line, the fix in the line)
    "startupOrder first": (
        lambda c: c["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"].update(startupOrder="first"),
        "modulesContent.$edgeAgent.properties.desired.modules.CameraCapture.startupOrder: 'first' is not of type 'integer'",
        "write a whole number"),
    "desired properties a string": (
        lambda c: c["CameraCapture"].update({"properties.desired": "nope"}),
        "modulesContent.CameraCapture.properties.desired: 'nope' is not of type 'object'", "write a JSON object"),
    "PORT missing": (
        lambda c: c["$edgeAgent"]["properties.desired"]["modules"]["ImageClassifierService"]["env"].pop("PORT"),
        "modules.ImageClassifierService.env: no PORT, but modulesContent.CameraCapture.properties.desired."
        "imageProcessingEndpoint reaches ImageClassifierService at http://ImageClassifierService:80",
        'add "PORT": {"value": "80"}'),
    "PORT not a number": (
        lambda c: c["$edgeAgent"]["properties.desired"]["modules"]["ImageClassifierService"]["env"]["PORT"].update(value="eighty"),
        "modules.ImageClassifierService.env.PORT.value: 'eighty' is not a TCP port", "a number from 1 to 65535"),
    "restartPolicy sometimes": (
        lambda c: c["$edgeAgent"]["properties.desired"]["modules"]["TextToSpeech"].update(restartPolicy="sometimes"),
        "modules.TextToSpeech.restartPolicy: 'sometimes' is not one of ['never', 'on-failure', 'on-unhealthy', 'always']",
        "use one of those"),
    "WHERE clause cut short": (
        lambda c: _route(c, "CameraToUpstream", "FROM /messages/modules/CameraCapture/outputs/classification "
                                                "WHERE tagName = INTO $upstream"),
        "routes.CameraToUpstream: route 'CameraToUpstream': the condition 'tagName =' ends where a value is expected",
        "write a condition like tagName = 'Apple'"),
}


@pytest.mark.parametrize("command", ["run", "genconfig"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_manifest_is_one_line_naming_the_file_the_path_and_the_fix(tmp_path: Path, case: str, command: str) -> None:
    change, where, fix = MALFORMED[case]
    document = json.loads((ROOT / "deployment.template.json").read_text())
    change(document["modulesContent"])
    template = tmp_path / "deployment.template.json"
    template.write_text(json.dumps(document, indent=2))
    (tmp_path / ".env").write_text(ENV)
    if command == "run":
        done = run_localedge("run", "--manifest", str(template), "--env-file", str(tmp_path / ".env"), "--duration", "1",
                             timeout=60)
    else:
        done = run_localedge("genconfig", "-f", str(template), "--env-file", str(tmp_path / ".env"),
                             "--schema-dir", str(SCHEMAS), "--output-dir", str(tmp_path / "config"), timeout=60)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0, done.stdout + done.stderr
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert lines[0].startswith(f"localedge | {template}: ") and where in lines[0] and fix in lines[0], lines[0]
    assert not (tmp_path / "config").exists()
