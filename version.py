"""Bump the image version in the modules' module.json: ``python version.py [--major|--minor|--patch] [Module ...]``.

Every module by default, or the ones named; patch by default. Prints ``Module: old -> new`` for
each. Only the version string is rewritten, so the file's formatting stays exactly as it was. A
module.json that is not valid JSON, or whose image.tag.version is not MAJOR.MINOR.PATCH, is refused
with a message naming the file and the fix, and no file is changed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class VersionError(ValueError):
    """A module.json that cannot be bumped; the message names the file and the fix."""


def bump(version: str, part: str) -> str:
    """``1.2.3`` -> ``2.0.0`` / ``1.3.0`` / ``1.2.4`` for part major / minor / patch."""
    match = SEMVER.match(version)
    if not match:
        raise ValueError(version)
    major, minor, patch = (int(x) for x in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def plan(path: Path, part: str) -> tuple[str, str, str]:
    """(old version, new version, new file text) for one module.json; raises VersionError."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
        old = document["image"]["tag"]["version"]
    except ValueError as exc:
        raise VersionError(f"{path}: not valid JSON ({exc}); fix the file, then run again") from exc
    except (KeyError, TypeError) as exc:
        raise VersionError(f"{path}: no image.tag.version; add \"version\": \"0.1.0\" under image.tag") from exc
    try:
        new = bump(str(old), part)
    except ValueError as exc:
        raise VersionError(f"{path}: image.tag.version {old!r} is not MAJOR.MINOR.PATCH; set it to e.g. \"0.1.0\"") from exc
    pattern = re.compile(r'("version"\s*:\s*")' + re.escape(str(old)) + '"')
    if len(pattern.findall(text)) != 1:
        raise VersionError(f"{path}: cannot tell which \"version\": \"{old}\" is the image's; keep one")
    return old, new, pattern.sub(lambda m: f'{m.group(1)}{new}"', text)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    for part in ("major", "minor", "patch"):
        group.add_argument(f"--{part}", dest="part", action="store_const", const=part)
    parser.add_argument("modules", nargs="*", help="module folders under modules/ (default: all)")
    args = parser.parse_args(argv)
    part = args.part or "patch"
    folders = sorted(p.parent for p in (root / "modules").glob("*/module.json"))
    if args.modules:
        known = {f.name: f for f in folders}
        missing = [m for m in args.modules if m not in known]
        if missing:
            print(f"error: no module {', '.join(missing)} (modules: {', '.join(known)})", file=sys.stderr)
            return 2
        folders = [known[m] for m in args.modules]
    try:
        plans = [(folder, *plan(folder / "module.json", part)) for folder in folders]
    except VersionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for folder, old, new, text in plans:
        (folder / "module.json").write_text(text, encoding="utf-8")
        print(f"{folder.name}: {old} -> {new}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
