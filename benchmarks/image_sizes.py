"""The module images' real sizes, from the local Docker daemon: what ``docker image ls`` says, and what
a device downloads.

    .venv/bin/python benchmarks/image_sizes.py [-P amd64 -P arm32v7 ...] [--layers N]

For each platform (default: each one whose four images are built; ``make images PLATFORM=...``):

- per module: ``docker image ls``'s size (uncompressed, the base included) and the gzip-compressed
  size of its layers (what a registry stores and a device downloads for that image alone);
- all four together: ``docker save`` of the four images in one archive holds each layer once, so
  the sum of its layers gzip-compressed (level 6, as docker push compresses) is what a device
  downloads for the whole solution, shared layers (base, Python, venv and user) counted once;
- the largest layers, with the Dockerfile step that made them: what takes the space.

Sizes are in MB = 10^6 bytes, as ``docker image ls`` counts. Image names: the tags ``make images``
gives (CONTAINER_REGISTRY_ADDRESS from the environment or .env, else localhost:5000).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localedge.build.module_images import PLATFORMS, module_images, variables  # noqa: E402

MB = 1e6


@dataclass
class Layer:
    path: str
    raw: int
    gz: int
    step: str = ""


@dataclass
class ImageSizes:
    module: str
    tag: str
    size: int
    layers: list[Layer] = field(default_factory=list)

    @property
    def gz(self) -> int:
        return sum(layer.gz for layer in self.layers)


def gzip_size(stream: IO[bytes] | None) -> tuple[int, int]:
    """(bytes read, bytes gzip-compressed at level 6) of a binary stream."""
    assert stream is not None
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    raw = packed = 0
    while chunk := stream.read(1 << 20):
        raw += len(chunk)
        packed += len(compressor.compress(chunk))
    packed += len(compressor.flush())
    return raw, packed


def _step(created_by: str) -> str:
    text = created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ").strip()
    return " ".join(text.split())[:110]


def measure(platform: str) -> tuple[list[ImageSizes], int, int] | None:
    """The platform's images, and the unique layers' raw and gzip size; None when not all are built."""
    values, _ = variables(ROOT / ".env", os.environ)
    images = module_images(ROOT, platform, values)
    sizes = []
    for image in images:
        done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", image.tag], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        sizes.append(ImageSizes(image.module, image.tag, int(done.stdout.strip())))
    with tempfile.TemporaryDirectory(prefix="image-sizes-") as tmp:
        archive = Path(tmp) / "all.tar"
        subprocess.run(["docker", "save", "-o", str(archive), *[s.tag for s in sizes]], check=True)
        layers: dict[str, Layer] = {}
        with tarfile.open(archive) as saved:
            manifest = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
            for entry in manifest:
                for path in entry["Layers"]:
                    if path not in layers:
                        raw, gz = gzip_size(saved.extractfile(path))
                        layers[path] = Layer(path, raw, gz)
            for entry in manifest:
                config = json.load(saved.extractfile(entry["Config"]))  # type: ignore[arg-type]
                steps = [_step(h.get("created_by", "")) for h in config.get("history", []) if not h.get("empty_layer")]
                steps = [""] * (len(entry["Layers"]) - len(steps)) + steps
                mine = next(s for s in sizes if s.tag in (entry.get("RepoTags") or []))
                for path, step in zip(entry["Layers"], steps, strict=True):
                    layer = layers[path]
                    layer.step = layer.step or step
                    mine.layers.append(layer)
    unique = list(layers.values())
    return sizes, sum(layer.raw for layer in unique), sum(layer.gz for layer in unique)


def report(platforms: list[str], top: int) -> str:
    lines = ["| module | platform | `docker image ls` MB | compressed MB (alone) |", "|---|---|---:|---:|"]
    totals = []
    biggest: list[tuple[str, Layer, list[str]]] = []
    for platform in platforms:
        measured = measure(platform)
        if measured is None:
            print(f"image_sizes: the {platform} images are not all built (make images PLATFORM={platform}); skipped", file=sys.stderr)
            continue
        sizes, raw, gz = measured
        for s in sizes:
            lines.append(f"| {s.module} | {platform} | {s.size / MB:.0f} | {s.gz / MB:.0f} |")
        separate = sum(s.gz for s in sizes)
        totals.append(f"| {platform} | {sum(s.size for s in sizes) / MB:.0f} | {separate / MB:.0f} | {raw / MB:.0f} | **{gz / MB:.0f}** |")
        users: dict[str, list[str]] = {}
        for s in sizes:
            for layer in s.layers:
                users.setdefault(layer.path, []).append(s.module)
        seen: dict[str, Layer] = {layer.path: layer for s in sizes for layer in s.layers}
        for layer in sorted(seen.values(), key=lambda x: -x.gz)[:top]:
            biggest.append((platform, layer, users[layer.path]))
    out = ["## Per image", "", *lines, "",
           "## What a device downloads (all four modules, shared layers once)", "",
           "| platform | sum of `docker image ls` MB | sum of the images compressed, each alone, MB | unique layers MB | downloaded (unique layers, gzip) MB |",
           "|---|---:|---:|---:|---:|", *totals, "",
           f"## The largest layers (top {top} per platform, gzip MB)", "",
           "| platform | gzip MB | raw MB | used by | step |", "|---|---:|---:|---|---|"]
    for platform, layer, used in biggest:
        who = "all four" if len(used) == 4 else ", ".join(used)
        out.append(f"| {platform} | {layer.gz / MB:.0f} | {layer.raw / MB:.0f} | {who} | `{(layer.step or 'base image').replace('|', '/')}` |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-P", "--platform", action="append", choices=list(PLATFORMS), help="default: every platform")
    parser.add_argument("--layers", type=int, default=6, help="how many of the largest layers to list per platform")
    args = parser.parse_args()
    print(report(args.platform or list(PLATFORMS), args.layers), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
