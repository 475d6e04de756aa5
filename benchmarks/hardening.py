"""ImageClassifierService under the two attacks of issue 22 whose figures are limits, on the real service process.

1. ``bombs``: for every format Pillow can write, a 12000 x 12000 all-black image in it (AVIF and QOI 5000 x
   5000, BLP 1024 x 1024; mode L, else the first mode the format takes; compressed where the format can be),
   plus the hand-made bombs Pillow cannot write: a 12000 x 12000 RGBA PNG inside an ICO whose directory says
   256x256 and inside an ICNS ``ic08`` entry (tests/bombs.py). Each is POSTed to /image four times at once; the answer (status and code) and
   the service's peak resident memory so far (VmHWM) are printed after each format. Target: the peak
   stays under 250 MB over all of them.
2. ``held``: ``--connections`` (default 260, the limit is CONNECTION_LIMIT=250) TCP connections held
   open to the service and reopened as it closes them, default IDLE_TIMEOUT_S (10 s); meanwhile
   ``--probes`` /health/live requests one after the other, each on a new connection, timed from connect to
   answer. Target: every probe within 1 s (the image's HEALTHCHECK gives up at 4 s).

The service serves ``--model`` (default: the fixture apples-bananas model), every other setting at its default.

Run: .venv/bin/python benchmarks/hardening.py [bombs|held|all] [--connections 260] [--probes 20] [--model DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bombs import icns, ico, png  # noqa: E402

SIDE = 12000
MAX_IMAGE_BYTES = 4 * 1024 * 1024
COMPRESSED = {"TIFF": {"compression": "tiff_deflate"}, "TGA": {"compression": "tga_rle"}, "WEBP": {"lossless": True},
              "JPEG": {"quality": 1}, "MPO": {"quality": 1}}
# Pillow's AVIF and QOI writers take 20-50 s for 12000 x 12000 (5000 x 5000 is still over MAX_IMAGE_PIXELS), its
# BLP writer (palette, pure Python) about 10 minutes: 1024 x 1024 (not a format the service accepts anyway)
SIDES = {"AVIF": 5000, "QOI": 5000, "BLP": 1024}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(folder: Path, model: Path) -> tuple[subprocess.Popen[bytes], int]:
    """main.py standalone on a free port serving ``model``, every other setting its default; returns once ready."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")],
                               env={**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), "METRICS_PORT": "0",
                                    "TMPDIR": str(folder), "MODEL_DIR": str(model)},
                               stdout=(folder / "service.log").open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as reply:
                if reply.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the service did not become ready: {(folder / 'service.log').read_text()[-2000:]}")


def peak_mb(process: subprocess.Popen[bytes]) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise KeyError("VmHWM")


def post(port: int, data: bytes) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/image", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return str(reply.status)
    except urllib.error.HTTPError as error:
        code = error.read().split(b'"code":"', 1)[-1].split(b'"', 1)[0].decode()
        return f"{error.code} {code}"
    except OSError:  # a body over MAX_IMAGE_BYTES: refused (413) from its Content-Length, closed while being sent
        return "refused unread, closed"


def bomb_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of every bomb: each format Pillow writes, then the hand-made PNG, ICO and ICNS."""
    Image.init()
    files: list[tuple[str, bytes]] = []
    for fmt in Image.SAVE:
        for mode in ("L", "RGB", "RGBA", "1", "P"):
            out = io.BytesIO()
            try:
                side = SIDES.get(fmt, SIDE)
                Image.new(mode, (side, side)).save(out, fmt, **COMPRESSED.get(fmt, {}))
            except Exception:  # noqa: BLE001 - not this mode, or a format without a save handler here
                continue
            files.append((f"{fmt} ({mode}, {side}x{side})", out.getvalue()))
            break
        else:
            print(f"  {fmt}: Pillow cannot write it here (no mode, or no handler)")
    frame = png(SIDE, SIDE, channels=4)
    files += [("PNG, hand-made RGBA", frame), ("ICO around that PNG", ico(frame)), ("ICNS ic08 around that PNG", icns(frame))]
    return files


def bombs(model: Path) -> float:
    files = bomb_files()
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_service(Path(tmp), model)
        try:
            print(f"{'format':32} {'bytes':>11}  answers (4 at once)            peak RSS so far")
            for name, data in files:
                with ThreadPoolExecutor(4) as pool:
                    answers = sorted(set(pool.map(partial(post, port), [data] * 4)))
                print(f"{name:32} {len(data):>11}  {', '.join(answers):32} {peak_mb(process):.0f} MB", flush=True)
            alive = post(port, (ROOT / "tests" / "fixtures" / "images" / "banana1.jpg").read_bytes())
            peak = peak_mb(process)
            print(f"afterwards a photo: {alive}; peak RSS over all {len(files)} formats, 4 at once: {peak:.0f} MB (target < 250 MB)")
        finally:
            process.terminate()
            process.wait(15)
    return peak


def held(model: Path, connections: int, probes: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_service(Path(tmp), model)
        stop = threading.Event()
        open_ = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]

        def hold() -> None:  # reopen each connection the service closes
            while not stop.is_set():
                readable = select.select(open_, [], [], 0.2)[0]
                for sock in readable:
                    if sock.recv(1) == b"":
                        sock.close()
                        open_[open_.index(sock)] = socket.create_connection(("127.0.0.1", port))

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        took: list[float] = []
        try:
            for _ in range(probes):
                started = time.monotonic()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=60) as reply:
                    assert reply.status == 200
                took.append(time.monotonic() - started)
        finally:
            stop.set()
            holder.join(5)
            for sock in open_:
                sock.close()
            process.terminate()
            process.wait(15)
    took.sort()
    print(f"/health/live with {connections} connections held (limit 250, reopened as closed): {probes} probes, "
          f"median {took[len(took) // 2]:.3f} s, max {took[-1]:.3f} s (target < 1 s)")
    return took[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=("bombs", "held", "all"), default="all")
    parser.add_argument("--connections", type=int, default=260)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--model", type=Path, default=ROOT / "tests" / "fixtures" / "models" / "apples-bananas")
    args = parser.parse_args()
    if args.what in ("bombs", "all"):
        bombs(args.model)
    if args.what in ("held", "all"):
        held(args.model, args.connections, args.probes)


if __name__ == "__main__":
    main()
