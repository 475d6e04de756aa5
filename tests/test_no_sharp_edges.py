"""Issue 21, the sharp edges between ``make demo`` and a device, each against the real thing: a real runner (its
module processes, its control endpoint, the commands run as a user runs them), real sockets, real files."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import MODELS, ROOT, free_port, serving_folder, wait_for
from localedge.cli import build_parser
from localedge.runner.known import settings_variables

MODULES = ["ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"]
TOKEN = "k3Tq9-live-view-token-zR2vX8pLw4"  # the live view's token, in the runner's .env
LIVE_VIEW_PORT = free_port()


@dataclass
class Runner:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    state: Path
    log: Path


def _cli(env: dict[str, str], *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localedge", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _all_up(env: dict[str, str]) -> bool:
    done = _cli(env, "list", "--json")
    if done.returncode != 0:
        return False
    modules = json.loads(done.stdout)["modules"]
    return len(modules) == 4 and all(m["status"] == "running" and m["connected"] for m in modules)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """The shipped template under the local runner, as the README runs it, with a .env holding only the live view's
    token; the live view on (on a free port); TextToSpeech has no
    AUDIO_OUTPUT_DIR (this machine has no sound device: it writes WAVs where it writes them by default) and does not
    speak tags (``enabled`` false: only ``say`` speaks, so what it writes is what the tests ask for)."""
    folder = tmp_path_factory.mktemp("runner")
    state = Path(tempfile.mkdtemp(prefix="le-", dir="/tmp"))  # short: a Unix socket path has at most 107 bytes
    (folder / ".env").write_text(f"LIVE_VIEW_TOKEN={TOKEN}\n")
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(state)}
    log = folder / "runner.log"
    allowed = [f"ImageClassifierService.{name}=127.0.0.1" for name in ("URL_ALLOWED_HOSTS", "MODEL_URL_ALLOWED_HOSTS")
               if name in (settings_variables("ImageClassifierService") or ())]  # the test's model server is on loopback
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localedge", "run", "--duration", "600", "--env-file", str(folder / ".env"),
             "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4", "--set", "CameraCapture.LOOP_VIDEO=true",
             "--set", "CameraCapture.SHOW_VIDEO=true", "--set", f"CameraCapture.LIVE_VIEW_PORT={LIVE_VIEW_PORT}",
             *(arg for item in allowed for arg in ("--set", item)),
             "--set", "TextToSpeech.AUDIO_OUTPUT_MAX_FILES=3", "--set", "TextToSpeech.ENABLED=false",
             "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={folder / 'display'}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: process.poll() is not None or _all_up(env), 120)
        assert process.poll() is None, log.read_text()[-3000:]
        yield Runner(process, env, state, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(state, ignore_errors=True)


def _invoke(runner: Runner, module: str, method: str, payload: Any) -> tuple[int, Any]:
    done = _cli(runner.env, "invoke", module, method, json.dumps(payload))
    answer = json.loads(done.stdout)
    return int(answer["status"]), answer["payload"]


# ---- item 10: TextToSpeech's WAVs without a sound device ---------------------------------------------------------------

def test_without_a_sound_device_speech_is_written_under_the_runners_folder_the_newest_files_kept(runner: Runner) -> None:
    if Path("/proc/asound/pcm").exists() and "playback" in Path("/proc/asound/pcm").read_text():
        pytest.skip("this machine has a sound device: TextToSpeech plays instead of writing files")
    written = []
    for word in ("one", "two", "three", "four", "five"):
        status, answer = _invoke(runner, "TextToSpeech", "say", {"text": f"number {word}"})
        assert status == 200, answer
        written.append(Path(answer["file"]))
    folder = runner.state / "tmp" / "TextToSpeech" / "texttospeech"  # the runner's own folder, not /tmp/texttospeech
    assert all(path.parent == folder.resolve() for path in written), written
    assert sorted(folder.iterdir()) == sorted(written[2:])  # AUDIO_OUTPUT_MAX_FILES=3: the two oldest deleted
    assert [path.name.split("-", 1)[1] for path in written] == [f"number_{w}.wav" for w in
                                                                ("one", "two", "three", "four", "five")]
    assert all(path.read_bytes().startswith(b"RIFF") for path in written[2:])


# ---- item 9: run --set of a variable no module reads -----------------------------------------------------------------

def test_a_set_of_a_variable_the_module_does_not_read_is_refused_with_the_nearest_name(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path / "state")}
    (tmp_path / ".env").write_text("")
    done = _cli(env, "run", "--env-file", str(tmp_path / ".env"), "--duration", "1",
                "--set", "CameraCapture.VIDEO_PTH=demo/colours.mp4")
    assert done.returncode == 2, done.stdout + done.stderr
    refusal = [line for line in done.stdout.splitlines() if "VIDEO_PTH" in line]
    assert refusal == ["localedge | --set 'CameraCapture.VIDEO_PTH=demo/colours.mp4': CameraCapture has no setting "
                       "VIDEO_PTH: did you mean VIDEO_PATH? (docs/settings.md lists them)"]
    assert "running" not in done.stdout  # nothing was started
    done = _cli(env, "run", "--env-file", str(tmp_path / ".env"), "--duration", "1", "--set", "TextToSpeech.VOLUM=0.5")
    assert done.returncode == 2 and "TextToSpeech has no setting VOLUM: did you mean VOLUME?" in done.stdout


def test_a_set_of_a_settings_field_or_of_a_variable_the_manifest_declares_is_taken(tmp_path: Path) -> None:
    from localedge.deploy.manifest import load_manifest
    from localedge.runner.run import parse_sets

    template = json.loads((ROOT / "deployment.template.json").read_text())
    modules = template["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]
    modules["CameraCapture"]["env"]["SHOP_NAME"] = {"value": "corner"}  # a variable only the manifest's env declares
    (tmp_path / "deployment.template.json").write_text(json.dumps(template))
    manifest = load_manifest(tmp_path / "deployment.template.json", {})
    items = ["CameraCapture.VIDEO_PATH=clip.mp4", "CameraCapture.SHOP_NAME=north", "CameraCapture.LOG_LEVEL=DEBUG",
             "TextToSpeech.AUDIO_OUTPUT_MAX_FILES=5", "ImageClassifierService.PORT=8080", "SenseHatDisplay.METRICS_PORT=0"]
    assert parse_sets(items, manifest.modules) == {
        "CameraCapture": {"VIDEO_PATH": "clip.mp4", "SHOP_NAME": "north", "LOG_LEVEL": "DEBUG"},
        "TextToSpeech": {"AUDIO_OUTPUT_MAX_FILES": "5"}, "ImageClassifierService": {"PORT": "8080"},
        "SenseHatDisplay": {"METRICS_PORT": "0"}}


# ---- item 8: twin set and a model update's asynchronous outcome ----------------------------------------------------------

@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real HTTP server with a Custom Vision export zip (the fruits model); yields (base URL, the zip's SHA-256)."""
    root = tmp_path_factory.mktemp("exports")
    with zipfile.ZipFile(root / "fruits.zip", "w") as archive:
        for name in ("model.onnx", "labels.txt"):
            archive.write(MODELS / "fruits" / name, name)
    with serving_folder(root) as base:
        yield base, hashlib.sha256((root / "fruits.zip").read_bytes()).hexdigest()


def test_twin_set_waits_for_the_model_update_and_fails_when_it_fails(runner: Runner, exports: tuple[str, str]) -> None:
    base, sha256 = exports
    missing = _cli(runner.env, "twin", "set", "ImageClassifierService", json.dumps({"modelUrl": f"{base}/nothing.zip"}),
                   "--wait", "60")
    assert missing.returncode == 1, missing.stdout + missing.stderr
    lines = missing.stdout.splitlines()
    assert lines[0].startswith("ImageClassifierService: desired properties version") and lines[0].endswith(" applied")
    assert lines[2].startswith(f"ImageClassifierService: model update pending: {base}/nothing.zip; waiting up to ")
    assert lines[-1].startswith("ImageClassifierService: model update failed: ") and "404" in lines[-1], missing.stdout

    wrong = _cli(runner.env, "twin", "set", "ImageClassifierService",
                 json.dumps({"modelUrl": f"{base}/fruits.zip", "modelSha256": "0" * 64}), "--wait", "60")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert wrong.stdout.splitlines()[-1].startswith("ImageClassifierService: model update failed: ")
    assert "SHA-256" in wrong.stdout.splitlines()[-1], wrong.stdout

    right = _cli(runner.env, "twin", "set", "ImageClassifierService",
                 json.dumps({"modelUrl": f"{base}/fruits.zip", "modelSha256": sha256}), "--wait", "60")
    assert right.returncode == 0, right.stdout + right.stderr
    assert right.stdout.splitlines()[-1].startswith("ImageClassifierService: model update applied")
    twin = json.loads(_cli(runner.env, "twin", "get", "ImageClassifierService").stdout)["properties"]["reported"]
    assert twin["modelUpdate"]["status"] == "applied" and twin["model"]["labels"] == "Apple,Banana,Lemon,Orange"
    again = _cli(runner.env, "twin", "set", "ImageClassifierService",  # the same model again: nothing to load, applied
                 json.dumps({"modelUrl": f"{base}/fruits.zip", "modelSha256": sha256}), "--wait", "60")
    assert again.returncode == 0 and "model update applied" in again.stdout, again.stdout


# ---- item 7: one model identity, from the layer's desired modelSha256 to the fleet's modelServed metric ------------------

def _served(query: str, twin: dict[str, Any]) -> bool:
    """Whether IoT Hub's ``modelServed`` query counts the device whose classifier module twin is ``twin``."""
    from localedge.deploy.layering import matches

    prefix = "SELECT deviceId FROM devices.modules WHERE moduleId = 'ImageClassifierService' AND "
    assert query.startswith(prefix), query
    return bool(matches(query[len(prefix):], {"properties": {"reported": twin}}))


def test_the_metric_query_counts_the_device_by_the_hash_the_operator_sets(runner: Runner, exports: tuple[str, str]) -> None:
    from localedge.deploy.fleet import bundled_model_sha256
    from localedge.deploy.layering import metric_queries

    base, zip_sha256 = exports
    bundled = hashlib.sha256((ROOT / "modules/ImageClassifierService/model/model.onnx").read_bytes()).hexdigest()
    assert bundled_model_sha256(ROOT, "amd64") == bundled
    query = {sha: metric_queries("vision", MODULES, sha)["queries"]["modelServed"] for sha in (bundled, zip_sha256)}

    back = _cli(runner.env, "twin", "set", "ImageClassifierService", '{"modelUrl": "", "modelSha256": ""}', "--wait", "60")
    assert back.returncode == 0, back.stdout  # the bundled model (no modelUrl in the layer): counted by its file's hash
    twin = json.loads(_cli(runner.env, "twin", "get", "ImageClassifierService").stdout)["properties"]["reported"]
    assert [_served(query[bundled], twin), _served(query[zip_sha256], twin)] == [True, False]

    update = {"modelUrl": f"{base}/fruits.zip", "modelSha256": zip_sha256}  # what the layer desires: the zip's hash
    done = _cli(runner.env, "twin", "set", "ImageClassifierService", json.dumps(update), "--wait", "60")
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == f"ImageClassifierService: model update applied (sha256 {zip_sha256})"
    twin = json.loads(_cli(runner.env, "twin", "get", "ImageClassifierService").stdout)["properties"]["reported"]
    assert twin["model"]["exportSha256"] == zip_sha256 and twin["model"]["labels"] == "Apple,Banana,Lemon,Orange"
    assert [_served(query[bundled], twin), _served(query[zip_sha256], twin)] == [False, True]


def test_a_sha256_in_the_template_is_not_taken_for_a_secret(tmp_path: Path) -> None:
    from localedge.deploy.validation import _secret_problems

    template = json.loads((ROOT / "deployment.template.json").read_text())
    desired = template["modulesContent"]["ImageClassifierService"]["properties.desired"]
    desired["modelUrl"], desired["modelSha256"] = "https://models.example.com/fruits.zip", "ab12" * 16
    assert _secret_problems(template, "deployment.template.json") == []
    desired["modelSha256"] = "Zm9yIHRoZSBjYXNlIG9mIGEga2V5IHdyaXR0ZW4gaW50byB0aGUgdGVtcGxhdGU="  # not a hash: still flagged
    assert [p.path for p in _secret_problems(template, "deployment.template.json")] == [
        "modulesContent.ImageClassifierService.properties.desired.modelSha256"]


# ---- item 6: a model folder with another export's leftovers -----------------------------------------------------------

DEMO_MODEL = ROOT / "modules" / "ImageClassifierService" / "model"


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_a_folder_whose_manifest_does_not_match_its_model_is_refused_naming_file_and_hashes(tmp_path: Path) -> None:
    from classifier.export import ModelLoadError, load

    folder = tmp_path / "model"
    shutil.copytree(DEMO_MODEL, folder)  # the demo's files ...
    for name in ("model.onnx", "labels.txt"):  # ... and the user's export unzipped over them (no manifest of its own)
        shutil.copy(MODELS / "fruits" / name, folder / name)
    with pytest.raises(ModelLoadError) as refused:
        load(folder)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{folder / 'model.onnx'} is not the model cvexport.manifest describes")
    assert f"SHA-1 {_sha1(DEMO_MODEL / 'model.onnx')} expected, the file's is {_sha1(MODELS / 'fruits' / 'model.onnx')}" \
        in message


def test_a_leftover_model_of_another_flavour_is_never_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from classifier.export import ModelLoadError, load

    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("model.onnx", "labels.txt"):  # the user's ONNX export with its own manifest ...
        shutil.copy(MODELS / "fruits" / name, folder / name)
    manifest = {"DomainType": "Classification", "Platform": "ONNX", "Flavor": None, "ExporterVersion": "2.0",
                "ModelFileName": "model.onnx", "LabelFileName": "labels.txt",
                "ModelFileSHA1": _sha1(MODELS / "fruits" / "model.onnx")}
    (folder / "cvexport.manifest").write_text(json.dumps(manifest))
    shutil.copy(DEMO_MODEL / "model.tflite", folder / "model.tflite")  # ... and the demo's TensorFlow Lite model left over
    assert load(folder).info.labels == ("Apple", "Banana", "Lemon", "Orange")  # with ONNX Runtime: the user's model
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on arm32v7, where there is no ONNX Runtime
    with pytest.raises(ModelLoadError) as refused:
        load(folder)
    assert "onnx" in str(refused.value).lower() and "\n" not in str(refused.value)  # not the demo's model.tflite

    # the demo's folder itself: its manifest vouches for its TensorFlow Lite twin (AlternateModelFiles, with its SHA-1)
    demo = load(DEMO_MODEL)
    assert demo.info.runtime == "TensorFlow Lite" and demo.info.sha256 == hashlib.sha256(
        (DEMO_MODEL / "model.tflite").read_bytes()).hexdigest()


def test_a_leftover_metadata_file_is_not_applied_to_a_model_whose_manifest_does_not_name_it(tmp_path: Path) -> None:
    from classifier.export import load

    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("model.onnx", "labels.txt"):
        shutil.copy(MODELS / "fruits" / name, folder / name)
    manifest = {"DomainType": "Classification", "Platform": "ONNX", "Flavor": "ONNX12", "ExporterVersion": "2.0",
                "ModelFileName": "model.onnx", "LabelFileName": "labels.txt",
                "ModelFileSHA1": _sha1(MODELS / "fruits" / "model.onnx")}
    (folder / "cvexport.manifest").write_text(json.dumps(manifest))
    own = load(folder).info
    shutil.copy(DEMO_MODEL / "metadata_properties.json", folder / "metadata_properties.json")  # the demo's, left over
    left = load(folder).info
    assert (left.layout, left.colour, left.value_range) == (own.layout, own.colour, own.value_range) == ("NHWC", "BGR", "0-255")  # its input is Nx227x227x3


def test_the_docs_put_your_own_export_into_an_empty_folder() -> None:
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    section = text[text.index("## Use your own Custom Vision export"):]
    end = section.find("\n## ", 5)  # the next section, or the page's end
    section = section[:end] if end > 0 else section
    assert "replacing the demo files" not in section
    assert "empty folder" in section and "ModelFileSHA1" in section


# ---- item 5: nothing the runner starts is reachable from another machine; the live view's token ------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def _listening(pids: set[int]) -> dict[int, str]:
    """{port: local address} of the TCP sockets in LISTEN state that ``pids`` hold (from /proc)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = {}
    for table, size in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # host-order 32-bit words
                found[int(port, 16)] = str(ipaddress.ip_address(words if size == 32 else raw[::-1]))
    return found


def test_every_port_the_runner_starts_listens_on_loopback_only(runner: Runner) -> None:
    def reported(module: str) -> dict[str, Any]:
        twin = json.loads(_cli(runner.env, "twin", "get", module).stdout)["properties"]["reported"]
        return dict(twin["settings"])

    settings = {module: reported(module) for module in MODULES}
    wanted = {settings["ImageClassifierService"]["port"], LIVE_VIEW_PORT, *(s["metricsPort"] for s in settings.values())}
    assert len(wanted) == 6
    listening = wait_for(lambda: (found := _listening(_descendants(runner.process.pid))) and wanted <= set(found) and found,
                         30)
    assert {port: address for port, address in listening.items() if address not in ("127.0.0.1", "::1")} == {}
    assert all(s["bindAddress"] == "127.0.0.1" for s in settings.values())  # what the runner gave each module


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """(status, headers (names case-insensitive), body; only the first bytes of a stream)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - the test's own loopback URL
            return reply.status, reply.headers, reply.read(64 if "stream" in url else -1)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_live_view_answers_only_with_its_token_which_is_never_shown(runner: Runner) -> None:
    base = f"http://127.0.0.1:{LIVE_VIEW_PORT}"
    wait_for(lambda: _get(f"{base}/status")[0] == 401, 30)
    for path in ("/", "/status", "/stream.mjpg", "/?token=wrong-token"):
        status, headers, body = _get(base + path)
        assert status == 401 and b"LIVE_VIEW_TOKEN" in body and headers.get("WWW-Authenticate") == "Bearer", path
    status, headers, body = _get(f"{base}/?token={TOKEN}")
    assert status == 200 and b"<h1>CameraCapture</h1>" in body
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert "HttpOnly" in headers["Set-Cookie"] and cookie == f"live_view_token={TOKEN}"
    assert _get(f"{base}/status", {"Cookie": cookie})[0] == 200
    status, headers, _ = _get(f"{base}/stream.mjpg", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and headers["Content-Type"].startswith("multipart/x-mixed-replace")
    twin = json.loads(_cli(runner.env, "twin", "get", "CameraCapture").stdout)["properties"]
    assert twin["reported"]["settings"]["liveViewToken"] == "**********" and TOKEN not in json.dumps(twin)
    assert TOKEN not in runner.log.read_text()  # nor in any log line


# ---- item 11: the command line's rough edges ------------------------------------------------------------------------------

def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """What ``python -m localedge <args> --help`` prints (the real parser, in-process: one import, not one
    interpreter per command); argparse exits 0 after it."""
    with pytest.raises(SystemExit) as ended:
        build_parser().parse_args([*args, "--help"])
    assert ended.value.code == 0, args
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["run", "genconfig", "metrics", "check-images", "images", "list", "logs", "restart",
                                     "twin", "monitor", "invoke", "upstream", "captures"])
def test_every_command_has_a_description_and_an_example_in_its_help(
        command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    text = _help(capsys, command)
    usage, _, rest = text.partition("\n\n")
    assert usage.startswith(f"usage: python -m localedge {command}"), usage
    description = rest.split("\n\n", 1)[0]
    assert not description.startswith(("positional arguments", "options")), (command, text[:300])
    assert "\nexample" in text and f"python -m localedge {command}" in text.split("\nexample", 1)[1], command


def test_subcommands_help_shows_their_own_example(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    for sub in ("get", "set"):
        assert f"python -m localedge twin {sub} CameraCapture" in _help(capsys, "twin", sub)
    assert "the Azurite of a running local runner" in " ".join(_help(capsys, "captures", "list").split())


def test_logs_t_gives_each_line_one_timestamp(runner: Runner) -> None:
    done = _cli(runner.env, "logs", "CameraCapture", "--tail", "3", "-t")
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 3, done.stdout
    for line in lines:  # 2026-12-06T04:40:01.123Z INFO capture...: the runner's UTC time, then the module's line
        stamp, level = line.split(" ", 2)[:2]
        assert stamp.endswith("Z") and "T" in stamp and level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), line


def test_invoke_of_a_module_that_does_not_run_lists_those_that_do(runner: Runner) -> None:
    done = _cli(runner.env, "invoke", "Foo", "ping")
    assert done.returncode == 1
    assert done.stdout.strip() == f"localedge | no module 'Foo' runs here (modules: {', '.join(MODULES)})"


def test_twin_sets_bad_json_hint_shows_a_twin_patch(runner: Runner) -> None:
    done = _cli(runner.env, "twin", "set", "CameraCapture", "{threshold: 0.9}")
    assert done.returncode == 2 and "e.g. '{\"threshold\": 0.9}'" in done.stderr and '"text"' not in done.stderr


def test_nothing_written_exits_2_from_genconfig_and_its_layered_form_as_from_make_config(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("")  # no registry values: the manifest cannot be valid
    for layered in ([], ["--layered"]):
        done = _cli(dict(os.environ), "genconfig", "-P", "amd64", "--env-file", str(tmp_path / ".env"),
                    "--output-dir", str(tmp_path / "config"), *layered)
        assert done.returncode == 2 and "nothing written" in done.stdout, (layered, done.stdout[-500:])
        assert not (tmp_path / "config").exists()


def test_captures_alone_lists(tmp_path: Path) -> None:
    env = {**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path / "state")}
    alone = _cli(env, "captures", timeout=120)
    listing = _cli(env, "captures", "list", timeout=120)
    assert "usage:" not in alone.stdout + alone.stderr
    assert (alone.returncode, alone.stdout) == (listing.returncode, listing.stdout)


def test_env_example_says_which_engines_speak_without_a_speech_key() -> None:
    text = (ROOT / ".env.example").read_text()
    comment = text[:text.index("SPEECH_KEY=")].rsplit("\n\n", 1)[1]
    assert "Piper" in comment and "espeak-ng" in comment
