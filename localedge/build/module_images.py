"""``python -m localedge images build|push``: the four module images for a platform, built and pushed.

``make images PLATFORM=amd64|arm64v8|arm32v7`` and ``make push`` call it. Each image is tagged as
``iotedgedev build`` tags it: ``<module.json repository, ${CONTAINER_REGISTRY_ADDRESS} substituted,
lowercased>:<image.tag.version>-<platform>``, by :func:`localedge.deploy.genconfig.image_name`, so
genconfig's manifests and the runner's ``--images`` name the same images.
CONTAINER_REGISTRY_ADDRESS comes from the environment, else ``.env``, else ``localhost:5000``.

Build: the module's Dockerfile.<platform> with the solution root as context (module.json
``contextPath`` "../../"; the root's .dockerignore keeps .env, venvs and the rest out). With
``docker buildx`` when ``docker buildx version`` works (``--platform ... --load``), otherwise the
classic builder (``DOCKER_BUILDKIT=0 docker build --platform ...``); a foreign platform runs under
QEMU (binfmt_misc). A FROM image that is missing is made first by ``tools/base-images <platform>``
(pull, else a stand-in from Debian packages). Per module it prints the build time and the image
size; a failed build prints module, platform and the last 30 lines of its log, the other modules
still build, and the command exits 1. Logs: .localedge/build/<module>.<platform>.log.

Push: ``docker push`` of each image to CONTAINER_REGISTRY_ADDRESS; refused with ``docker login``'s
advice when the registry wants credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.commandline import add_command

PLATFORMS = {"amd64": "linux/amd64", "arm64v8": "linux/arm64/v8", "arm32v7": "linux/arm/v7"}
HOST_PLATFORM = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64v8", "arm64": "arm64v8", "armv7l": "arm32v7"}
DEFAULT_REGISTRY = "localhost:5000"
LOG_LINES = 30


class ImageBuildError(RuntimeError):
    """One line: what is missing and how to get it."""


@dataclass
class ModuleImage:
    module: str
    platform: str
    dockerfile: Path
    tag: str


def host_platform() -> str:
    return HOST_PLATFORM.get(host.machine().lower(), "amd64")


def variables(env_file: Path | None, environ: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """Substitution variables (.env, then the environment), and whether the registry was defaulted."""
    from localedge.deploy.manifest import load_variables

    values = load_variables(env_file, environ)
    if values.get("CONTAINER_REGISTRY_ADDRESS", "").strip():
        return values, False
    values["CONTAINER_REGISTRY_ADDRESS"] = DEFAULT_REGISTRY
    return values, True


def module_images(root: Path, platform: str, values: Mapping[str, str], only: Sequence[str] = ()) -> list[ModuleImage]:
    """The modules' images for ``platform``, in modules/ order (or the ``only`` ones, in that order)."""
    from localedge.deploy.genconfig import image_name

    found: dict[str, ModuleImage] = {}
    for module_json in sorted(root.glob("modules/*/module.json")):
        folder = module_json.parent.name
        image = json.loads(module_json.read_text(encoding="utf-8"))["image"]
        dockerfile = image["tag"]["platforms"].get(platform)
        if dockerfile is None:
            continue
        tag = image_name(root, folder, platform, values, module_json)
        found[folder] = ModuleImage(folder, platform, (module_json.parent / dockerfile).resolve(), tag)
    unknown = [m for m in only if m not in found]
    if unknown:
        raise ImageBuildError(f"no module {unknown[0]!r} with a {platform} image; modules: {', '.join(found)}")
    return [found[m] for m in only] if only else list(found.values())


def from_images(dockerfile: Path) -> list[str]:
    """The external images a Dockerfile starts from (build stages named with AS excluded)."""
    images: list[str] = []
    stages: set[str] = set()
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, flags=re.I)
        if match:
            if match.group(1) not in stages and match.group(1) not in images:
                images.append(match.group(1))
            if match.group(2):
                stages.add(match.group(2))
    return images


def _docker(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, env=dict(env) if env else None)


def check_docker() -> None:
    if shutil.which("docker") is None:
        raise ImageBuildError("the docker command is not installed (Debian/Ubuntu: sudo apt-get install docker.io)")
    if _docker("version", "--format", "{{.Server.Version}}").returncode != 0:
        raise ImageBuildError("the Docker daemon is not running: start it (sudo systemctl start docker, "
                              "or as root: dockerd > /var/log/dockerd.log 2>&1 &)")


def has_buildx() -> bool:
    return _docker("buildx", "version").returncode == 0


def build_command(image: ModuleImage, root: Path, buildx: bool, no_cache: bool = False) -> tuple[list[str], dict[str, str]]:
    """The docker command line (and its environment) that builds one image."""
    common = ["--platform", PLATFORMS[image.platform], "-f", str(image.dockerfile), "-t", image.tag,
              *(["--no-cache"] if no_cache else [])]
    env = dict(os.environ)
    if buildx:
        return ["docker", "buildx", "build", "--load", "--progress=plain", *common, str(root)], env
    env["DOCKER_BUILDKIT"] = "0"  # docker 23+ would want buildx for `docker build`; the classic builder needs nothing
    return ["docker", "build", *common, str(root)], env


def ensure_bases(images: Sequence[ModuleImage], root: Path) -> None:
    """Run tools/base-images for the platform when a Dockerfile's FROM image is missing."""
    for platform in sorted({i.platform for i in images}):
        missing = [b for i in images if i.platform == platform for b in from_images(i.dockerfile)
                   if _docker("image", "inspect", b).returncode != 0]
        if missing:
            print(f"images: {', '.join(sorted(set(missing)))} missing: tools/base-images {platform}", flush=True)
            if subprocess.run([str(root / "tools" / "base-images"), platform]).returncode != 0:
                raise ImageBuildError(f"the {platform} base image could not be made (see above); the images were not built")


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"


def image_size(tag: str) -> int:
    done = _docker("image", "inspect", "--format", "{{.Size}}", tag)
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def build(root: Path, platform: str, values: Mapping[str, str], only: Sequence[str] = (), no_cache: bool = False) -> int:
    """Build the images; 0 when all built."""
    check_docker()
    images = module_images(root, platform, values, only)
    ensure_bases(images, root)
    buildx = has_buildx()
    logs = root / ".localedge" / "build"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"images: building {len(images)} {platform} image(s) with "
          f"{'docker buildx' if buildx else 'the classic builder (no docker buildx here)'}", flush=True)
    failed: list[str] = []
    started_all = time.monotonic()
    for image in images:
        command, env = build_command(image, root, buildx, no_cache)
        log = logs / f"{image.module}.{platform}.log"
        print(f"images: {image.module} ({platform}) -> {image.tag} ...", flush=True)
        started = time.monotonic()
        with log.open("w", encoding="utf-8") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            failed.append(image.module)
            tail = log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()[-LOG_LINES:]
            print(f"images: FAILED {image.module} ({platform}) after {_seconds(seconds)} s; the last {len(tail)} lines of {log}:")
            for line in tail:
                print(f"    {line}")
            continue
        print(f"images: built {image.module} ({platform}) in {_seconds(seconds)} s, {image_size(image.tag) / 1e6:.0f} MB: {image.tag}",
              flush=True)
    total = time.monotonic() - started_all
    if failed:
        print(f"images: {len(failed)} of {len(images)} {platform} image(s) failed: {', '.join(failed)} ({total:.0f} s)")
        return 1
    print(f"images: all {len(images)} {platform} image(s) built in {total:.0f} s")
    return 0


AUTH_ERRORS = re.compile(r"unauthorized|authentication required|denied|no basic auth credentials|login", re.I)


def push(root: Path, platform: str, values: Mapping[str, str], only: Sequence[str] = ()) -> int:
    """Push the built images to CONTAINER_REGISTRY_ADDRESS; 0 when all were pushed."""
    check_docker()
    images = module_images(root, platform, values, only)
    registry = values["CONTAINER_REGISTRY_ADDRESS"]
    missing = [i.tag for i in images if _docker("image", "inspect", i.tag).returncode != 0]
    if missing:
        raise ImageBuildError(f"{missing[0]} is not built: make images PLATFORM={platform}")
    for image in images:
        print(f"images: pushing {image.tag}", flush=True)
        done = _docker("push", image.tag)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["docker push failed"])[-1]
            if AUTH_ERRORS.search(done.stderr):
                raise ImageBuildError(f"{registry} refused {image.tag} ({last}): docker login {registry} first "
                                      "(user and password: CONTAINER_REGISTRY_USERNAME / CONTAINER_REGISTRY_PASSWORD in .env)")
            raise ImageBuildError(f"docker push {image.tag} failed: {last}")
        digest = re.search(r"digest: (sha256:[0-9a-f]+)", done.stdout)
        print(f"images: pushed {image.tag}{' ' + digest.group(1) if digest else ''}")
    return 0


def run(args: argparse.Namespace) -> int:
    values, defaulted = variables(Path(args.env_file), os.environ)
    if defaulted:
        print(f"images: CONTAINER_REGISTRY_ADDRESS is not set (environment or {args.env_file}); using {DEFAULT_REGISTRY}")
    try:
        if args.action == "push":
            return push(ROOT, args.platform, values, args.module)
        return build(ROOT, args.platform, values, args.module, args.no_cache)
    except ImageBuildError as exc:
        print(f"images: error: {exc}")
        return 1


def add_parser(commands: Any) -> None:
    """The ``images`` command: ``images build`` and ``images push``."""
    cmd = add_command(
        commands, "images", "build (or push) the module images for a platform, tagged as iotedgedev tags them",
        "Build the module images for a platform with Docker (or push them to CONTAINER_REGISTRY_ADDRESS), named as the "
        "generated manifests name them.",
        ["python -m localedge images build -P arm32v7", "python -m localedge images push -P arm32v7"])
    actions = cmd.add_subparsers(dest="action", required=True)
    for action, text in (("build", "build the module images (make images)"), ("push", "push them to CONTAINER_REGISTRY_ADDRESS (make push)")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("-P", "--platform", choices=list(PLATFORMS), default=host_platform(),
                         help="the image platform (default: this machine's, %(default)s)")
        sub.add_argument("-m", "--module", action="append", default=[], help="only this module (repeatable)")
        sub.add_argument("--env-file", default=".env", help="where CONTAINER_REGISTRY_ADDRESS may be (default: %(default)s)")
        if action == "build":
            sub.add_argument("--no-cache", action="store_true", help="build every layer again")
        else:
            sub.set_defaults(no_cache=False)
        sub.set_defaults(func=run)
