"""Prove every module image installs for every platform it lists, without a Docker engine; estimate its size.

For each module and each platform in its module.json:
- its requirements file resolves, dependencies included, to wheels for that platform with
  ``pip download --only-binary=:all: --platform ...`` (Python 3.11, glibc up to 2.36 = Debian 12).
  paho-mqtt 1.6.1 is published only as source, so it is first built into a wheel (pure Python);
  packages a Dockerfile compiles in a builder stage (``pip wheel X==v``) are checked as sources;
  and on arm32v7, packages the Dockerfile takes from Debian (``python3-numpy``...) stand in at
  Debian's version, as pip sees them through ``--system-site-packages``;
- every apt package it names exists in Debian 12 for that architecture (``apt-cache show``; the
  machine needs ``dpkg --add-architecture armhf arm64`` and ``apt-get update`` first);
- its size: the base image, plus the Debian packages with their dependencies, plus the wheels
  unpacked.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.commandline import add_command

DEBIAN_ARCH = {"amd64": "amd64", "arm64v8": "arm64", "arm32v7": "armhf"}
PIP_ARCH = {"amd64": "x86_64", "arm64v8": "aarch64", "arm32v7": "armv7l"}
GLIBC_MINORS = range(17, 37)  # manylinux_2_17 .. manylinux_2_36 (Debian 12 has glibc 2.36)
SOURCE_ONLY = {"paho-mqtt": "1.6.1"}  # published as sdist only; pure Python, built into a wheel first
APT_PYTHON = {"python3-numpy": "numpy", "python3-pil": "pillow", "python3-opencv": "opencv-python-headless",
              "python3-cryptography": "cryptography"}
# The base images' own size, uncompressed: Debian 12's "required" packages (computed) plus, for the
# python:3.11-slim images, CPython 3.11 in /usr/local (approximate).
PYTHON_SLIM_INTERPRETER_MB = 50.0


@dataclass
class ImagePlan:
    """What one Dockerfile installs."""

    module: str
    platform: str
    dockerfile: Path
    base: str
    requirements: Path | None
    apt: list[str] = field(default_factory=list)  # installed in the final image
    builder_apt: list[str] = field(default_factory=list)  # only in builder stages (checked, not counted)
    built: dict[str, str] = field(default_factory=dict)  # compiled in a builder stage: name -> version
    first_layer: str = ""  # the final stage's first RUN: shared with the solution's other images when identical


@dataclass
class ImageReport:
    plan: ImagePlan
    problems: list[str]
    wheels_mb: float = 0.0
    apt_mb: float = 0.0
    base_mb: float = 0.0

    @property
    def total_mb(self) -> float:
        return self.base_mb + self.apt_mb + self.wheels_mb


def parse_dockerfile(module: str, platform: str, path: Path, root: Path) -> ImagePlan:
    """The final stage's base, apt packages and requirements file, and what the builder stage compiles."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    stages = re.split(r"^FROM\s+", text, flags=re.M)[1:]
    final = stages[-1]
    base = final.split()[0]
    def apt_of(stage: str) -> list[str]:
        return sorted({pkg for line in re.findall(r"apt-get install ([^&\n]+)", stage)
                       for pkg in line.split() if not pkg.startswith("-")})

    apt = apt_of(final)
    builder_apt = sorted({pkg for stage in stages[:-1] for pkg in apt_of(stage)} - set(apt))
    first = re.search(r"^RUN .*$", final.split("\nCOPY ", 1)[0], flags=re.M)  # shared only before any COPY
    requirements = None
    match = re.search(r"^COPY\s+(\S*requirements[^\s]*\.txt)\s", final, flags=re.M)
    if match:
        requirements = root / match.group(1)
    built = dict(re.findall(r"pip wheel [^\n]*?([A-Za-z0-9_.-]+)==([0-9][^\s]*)", "\n".join(stages[:-1])))
    return ImagePlan(module, platform, path, base, requirements, apt, builder_apt, built, first.group(0) if first else "")


def plans(root: Path) -> list[ImagePlan]:
    """Every (module, platform) image of the solution."""
    found = []
    for module_json in sorted(root.glob("modules/*/module.json")):
        platforms = json.loads(module_json.read_text(encoding="utf-8"))["image"]["tag"]["platforms"]
        for platform, dockerfile in platforms.items():
            if platform in DEBIAN_ARCH:
                found.append(parse_dockerfile(module_json.parent.name, platform, module_json.parent / dockerfile, root))
    return found


def _apt_show(packages: list[str], arch: str) -> dict[str, dict[str, str]]:
    """apt-cache's fields of each package that exists for ``arch`` (or "all"), one call for all of them."""
    if not packages:
        return {}
    done = subprocess.run(["apt-cache", "show", "--no-all-versions", *[f"{p}:{arch}" for p in packages]],
                          capture_output=True, text=True)
    found = _apt_fields(done.stdout, arch)
    missing = [p for p in packages if p not in found]
    if missing and arch != "all":  # an Architecture: all package (ca-certificates) is not found as <name>:armhf
        again = subprocess.run(["apt-cache", "show", "--no-all-versions", *[f"{p}:all" for p in missing]],
                               capture_output=True, text=True)
        for package, fields in _apt_fields(again.stdout, arch).items():
            found.setdefault(package, fields)
    return found


def _apt_fields(text: str, arch: str) -> dict[str, dict[str, str]]:
    """Each package block of apt-cache show's ``text`` for ``arch`` (or "all"): name -> fields."""
    found: dict[str, dict[str, str]] = {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(": ")
            if sep and not line.startswith(" "):
                fields[key] = value
        if "Package" in fields and fields.get("Architecture") in (arch, "all"):
            found.setdefault(fields["Package"], fields)
    return found


def _apt_closure_mb(packages: list[str], arch: str) -> float:
    return _closure_mb(tuple(sorted(packages)), arch)


@functools.lru_cache(maxsize=None)
def _closure_mb(packages: tuple[str, ...], arch: str) -> float:
    """Installed size of ``packages`` and their dependencies, less what every Debian system has."""
    done = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                           "--no-breaks", "--no-replaces", "--no-enhances", *[f"{p}:{arch}" for p in packages]],
                          capture_output=True, text=True)
    names = sorted({line.strip().split(":")[0] for line in done.stdout.splitlines()
                    if line and not line.startswith((" ", "<"))})  # <name>: a virtual package
    total_kb = sum(int(info.get("Installed-Size", "0")) for info in _apt_show(names, arch).values()
                   if info.get("Priority") not in ("required", "important"))
    return total_kb / 1024


@functools.lru_cache(maxsize=None)
def _required_mb(arch: str) -> float:
    """Installed size of Debian 12's "required" packages for ``arch``: what a -slim base image holds."""
    listing = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True).stdout
    sizes: dict[str, int] = {}
    for block in listing.split("\n\n"):
        if "\nPriority: required" in block and (f"\nArchitecture: {arch}" in block or "\nArchitecture: all" in block):
            name = re.search(r"^Package: (\S+)", block, flags=re.M)
            size = re.search(r"\nInstalled-Size: (\d+)", block)
            if name and size:
                sizes[name.group(1)] = int(size.group(1))
    return sum(sizes.values()) / 1024


def _base_mb(base: str, arch: str) -> float:
    return _required_mb(arch) + (PYTHON_SLIM_INTERPRETER_MB if "python" in base else 0.0)


def _stand_in_wheel(folder: Path, name: str, version: str) -> None:
    """An empty wheel named like a package Debian provides, so pip's resolver sees it as installed."""
    dist = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: localedge\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist}.dist-info/RECORD", "")


def _target_args(platform: str) -> list[str]:
    """pip options selecting wheels for ``platform``'s image: CPython 3.11, glibc up to 2.36."""
    arch = PIP_ARCH[platform]
    tags = [f"manylinux_2_{v}_{arch}" for v in GLIBC_MINORS] + [f"manylinux2014_{arch}", f"linux_{arch}"]
    args = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
            "--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    for tag in tags:
        args += ["--platform", tag]
    return args


def _pip_download(plan: ImagePlan, requirements: Path, links: Path, target: Path) -> tuple[bool, str]:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               *_target_args(plan.platform), "--find-links", str(links), "-d", str(target), "-r", str(requirements)]
    done = subprocess.run(command, capture_output=True, text=True)
    errors = "\n".join(line for line in done.stderr.splitlines() if line.startswith("ERROR"))
    return done.returncode == 0, errors


def check(plan: ImagePlan, work: Path) -> ImageReport:
    """Resolve and size one image; problems name the Dockerfile and what to change."""
    report = ImageReport(plan, [])
    arch = DEBIAN_ARCH[plan.platform]
    where = plan.dockerfile
    available = _apt_show(plan.apt + plan.builder_apt, arch)
    for package in plan.apt + plan.builder_apt:
        if package not in available:
            report.problems.append(f"{where}: apt package {package!r} does not exist in Debian 12 for {arch} "
                                   f"(or this machine lacks the {arch} package lists: dpkg --add-architecture {arch} && apt-get update)")
    report.apt_mb = _apt_closure_mb(plan.apt, arch) if plan.apt else 0.0
    report.base_mb = _base_mb(plan.base, arch)
    if plan.requirements is None:
        return report
    links = work / f"links-{plan.module}-{plan.platform}"
    links.mkdir(parents=True, exist_ok=True)
    for name, version in SOURCE_ONLY.items():
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                        "-w", str(links), f"{name}=={version}"], check=True, capture_output=True)
    for apt_name, pypi in APT_PYTHON.items():
        if apt_name in plan.apt:
            info = available.get(apt_name)
            if info:
                version = re.sub(r"^\d+:", "", info["Version"]).split("-")[0].split("+")[0]
                _stand_in_wheel(links, pypi, version)
    lines = plan.requirements.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.split("==")[0].strip().lower() not in {b.lower() for b in plan.built}]
    filtered = work / f"requirements-{plan.module}-{plan.platform}.txt"
    filtered.write_text("\n".join(kept) + "\n", encoding="utf-8")
    target = work / f"wheels-{plan.platform}"
    ok, errors = _pip_download(plan, filtered, links, target)
    if not ok:
        report.problems.append(f"{plan.requirements}: does not resolve to {plan.platform} wheels: {errors or 'pip failed'}")
        return report
    resolved = _resolution(filtered, links, target, plan)
    report.wheels_mb = sum(_unpacked_mb(wheel) for wheel in resolved)
    return report


def _resolution(requirements: Path, links: Path, target: Path, plan: ImagePlan) -> list[Path]:
    """The wheels pip chose for this image, from the files already downloaded (no network): the
    download folder is shared by every image of a platform, so only this image's are counted."""
    with tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
                   "--ignore-installed", "--target", str(Path(tmp) / "t"), *_target_args(plan.platform), "--no-index",
                   "--find-links", str(target), "--find-links", str(links), "--report", str(report_file),
                   "-r", str(requirements)]
        subprocess.run(command, capture_output=True, text=True, check=True)
        report = json.loads(report_file.read_text())
    names = [Path(item["download_info"]["url"].removeprefix("file://")).name for item in report["install"]]
    return [target / name if (target / name).exists() else links / name for name in names]


def _unpacked_mb(wheel: Path) -> float:
    with zipfile.ZipFile(wheel) as archive:
        return sum(info.file_size for info in archive.infolist()) / 1024 / 1024


def download_mb(reports: list[ImageReport]) -> float:
    """What a device pulls for these images: the base once, an identical first layer once, the rest per image."""
    if not reports:
        return 0.0
    bases = {r.plan.base: r.base_mb for r in reports}
    total = sum(bases.values())
    shared: dict[str, float] = {}
    for r in reports:
        own = r.apt_mb + r.wheels_mb
        key = f"{r.plan.base}|{r.plan.first_layer}"
        layer = _layer_mb(r)
        if r.plan.first_layer and key in shared:
            own -= layer
        shared.setdefault(key, layer)
        total += own
    return total


def _layer_mb(report: ImageReport) -> float:
    """Size of the final stage's first apt layer of an image."""
    packages = re.findall(r"apt-get install ([^&\n]+)", report.plan.first_layer)
    names = [p for line in packages for p in line.split() if not p.startswith("-")]
    return _apt_closure_mb(names, DEBIAN_ARCH[report.plan.platform]) if names else 0.0


def main(root: Path) -> int:
    """Check every image; print a size table; 0 when every image installs."""
    reports = []
    with tempfile.TemporaryDirectory(prefix="check-images-") as tmp:
        for plan in plans(root):
            reports.append(check(plan, Path(tmp)))
    print(f"{'module':<24}{'platform':<10}{'base':>8}{'apt':>8}{'wheels':>8}{'total MB':>10}")
    for r in reports:
        print(f"{r.plan.module:<24}{r.plan.platform:<10}{r.base_mb:>8.0f}{r.apt_mb:>8.0f}{r.wheels_mb:>8.0f}{r.total_mb:>10.0f}")
    for platform in DEBIAN_ARCH:
        mine = [r for r in reports if r.plan.platform == platform]
        total = sum(r.total_mb for r in mine)
        print(f"all four {platform} images: {total:.0f} MB; a device downloads {download_mb(mine):.0f} MB "
              "(base image and identical first layers once)")
    problems = [p for r in reports for p in r.problems]
    for problem in problems:
        print(f"error: {problem}")
    return 1 if problems else 0


def add_parser(commands: Any) -> None:
    """The ``check-images`` command."""
    cmd = add_command(
        commands, "check-images", "prove each module image installs for each platform; estimate sizes",
        "For each module and each platform in its module.json, without Docker: its requirements resolve to wheels for "
        "that platform (pip download --only-binary), every apt package it names exists in Debian 12 for that "
        "architecture, and its image's size is estimated.", ["python -m localedge check-images"])
    cmd.set_defaults(func=lambda _args: main(ROOT))
