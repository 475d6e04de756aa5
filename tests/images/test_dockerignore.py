"""The root .dockerignore, proven with the real daemon: no .env value and no venv reaches an image layer.

The module images' build context is the solution root (module.json contextPath "../../"). The test
copies the tracked files to a folder, adds what a developer's checkout holds after ``make demo``
(``.env`` with a secret, ``.venv/``, ``.node/``, ``.localedge/``, ``demo-output/``, ``__pycache__``),
builds ``FROM scratch`` + ``COPY . /context`` with the real .dockerignore, and scans every layer of
``docker save``'s archive: the secret and those folders are absent, and what the Dockerfiles COPY
(edgekit/, modules/) is present. The same build without the .dockerignore must show the secret, so
the scan can fail. Needs a running Docker daemon (CI starts one): without it the test fails, it
does not skip.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT

PROBE_DOCKERFILE = "FROM scratch\nCOPY . /context\n"
NEVER = (".env", ".venv", ".venv-iotedgedev", ".node", ".localedge", "demo-output", ".git", "__pycache__")


def _docker_or_fail() -> None:
    if shutil.which("docker") is None:
        pytest.fail("docker is not installed: this test builds a real image (Debian: apt-get install docker.io)")
    done = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail("the Docker daemon is not running: this test builds a real image; start it "
                    "(as root: dockerd > /var/log/dockerd.log 2>&1 &)")


def _context(folder: Path, secret: str, dockerignore: bool) -> Path:
    """The tracked files, plus a developer's untracked secrets and environments."""
    context = folder / "context"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
    (context / ".dockerignore").unlink(missing_ok=True)
    if dockerignore:
        shutil.copy2(ROOT / ".dockerignore", context / ".dockerignore")
    (context / ".env").write_text(f"CONTAINER_REGISTRY_PASSWORD={secret}\nBLOB_ACCOUNT_KEY={secret}\n")
    (context / "modules" / "CameraCapture" / ".env").write_text(f"SPEECH_KEY={secret}\n")
    for folder_name in (".venv", ".venv-iotedgedev", ".node", ".localedge", "demo-output"):
        (context / folder_name).mkdir(exist_ok=True)
        (context / folder_name / "marker.txt").write_text(f"{folder_name} marker {secret}\n")
    (context / ".venv" / "bin").mkdir()
    (context / ".venv" / "bin" / "python").write_text("#!/bin/sh\n")
    (context / ".git").mkdir(exist_ok=True)
    (context / ".git" / "config").write_text(f"[credential]\n\thelper = store {secret}\n")
    cache = context / "edgekit" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "probe.cpython-311.pyc").write_bytes(secret.encode())
    return context


def _build(context: Path, dockerfile: Path, tag: str) -> None:
    buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0
    env = dict(os.environ)
    if buildx:
        command = ["docker", "buildx", "build", "--load", "-f", str(dockerfile), "-t", tag, str(context)]
    else:
        env["DOCKER_BUILDKIT"] = "0"
        command = ["docker", "build", "-f", str(dockerfile), "-t", tag, str(context)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, f"probe build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _layers(image: str, folder: Path) -> Iterator[tuple[str, bytes]]:
    """(layer name, layer tar bytes) for every layer of ``image`` in ``docker save``'s archive."""
    archive = folder / "image.tar"
    subprocess.run(["docker", "save", "-o", str(archive), image], check=True, capture_output=True)
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            member = outer.extractfile(name)
            assert member is not None
            yield name, member.read()


def _scan(image: str, folder: Path, secret: str) -> tuple[bool, set[str]]:
    """Whether the secret is in any layer (names or content), and the paths in all layers."""
    found = False
    paths: set[str] = set()
    for _, data in _layers(image, folder):
        found = found or secret.encode() in data
        with tarfile.open(fileobj=io.BytesIO(data)) as layer:
            paths.update(m.name.lstrip("./") for m in layer.getmembers())
    return found, paths


@pytest.fixture()
def probe_tags() -> Iterator[list[str]]:
    tags: list[str] = []
    yield tags
    for tag in tags:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_dockerignore_keeps_secrets_and_venvs_out_of_every_layer(tmp_path: Path, probe_tags: list[str]) -> None:
    _docker_or_fail()
    secret = f"localedge-secret-{uuid.uuid4().hex}"
    dockerfile = tmp_path / "Dockerfile.probe"
    dockerfile.write_text(PROBE_DOCKERFILE)

    kept = _context(tmp_path / "with", secret, dockerignore=True)
    tag = f"localedge-dockerignore-probe:{uuid.uuid4().hex[:12]}"
    probe_tags.append(tag)
    _build(kept, dockerfile, tag)
    leaked, paths = _scan(tag, tmp_path / "with", secret)
    assert not leaked, "a .env value (or a file holding it) is in a layer of the image"
    bad = sorted(p for p in paths for part in NEVER if part in p.split("/"))
    assert not bad, f"ignored paths reached the image: {bad[:10]}"
    assert not any(p.split("/")[-1] == ".env" or p.endswith(".pyc") for p in paths)
    # what the Dockerfiles COPY is there
    for needed in ("context/edgekit/__init__.py", "context/modules/CameraCapture/main.py",
                   "context/modules/ImageClassifierService/requirements.txt", "context/modules/TextToSpeech/Dockerfile.amd64"):
        assert needed in paths, f"{needed} is missing from the build context"
    assert not any(p.startswith(("context/localedge", "context/tests", "context/README")) for p in paths)

    # the control: the same context without .dockerignore carries the secret, so the scan above can fail
    exposed = _context(tmp_path / "without", secret, dockerignore=False)
    control = f"localedge-dockerignore-probe:{uuid.uuid4().hex[:12]}"
    probe_tags.append(control)
    _build(exposed, dockerfile, control)
    leaked, paths = _scan(control, tmp_path / "without", secret)
    assert leaked and "context/.venv/marker.txt" in paths and "context/.env" in paths
