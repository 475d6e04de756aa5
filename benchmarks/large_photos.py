"""Large photos in the classifier: time per 1920x1080 photo in process, and the service's memory after 200.

1. In this process, with the service's thread settings: decode, preprocessing (the original
   container's recipe), ``session.run`` and the whole (decode + preprocessing + run + output
   decoding) for the fixtures' two 1920x1080 photos, which are PNG files (``apple3.jpg``,
   ``banana3.jpg``: 3.3 MB each), and for the same pixels saved as JPEG (quality 90, 0.3 MB):
   p50 over ``--requests`` turns, all four taking turns (target: p50 <= 40 ms).
2. The real service (modules/ImageClassifierService/main.py): resident memory (VmRSS) after
   warm-up, after ``--photos`` large photos POSTed one at a time (the PNGs and JPEGs in turn),
   and after as many again from 2 clients at once; and its peak (VmHWM) (target <= 120 MB).

Run: .venv/bin/python benchmarks/large_photos.py [--model DIR] [--requests 50] [--photos 200]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "modules" / "ImageClassifierService"), str(ROOT / "benchmarks")]

from classifier.export import load  # noqa: E402
from classifier.preprocess import decode  # noqa: E402
from classifier.settings import ClassifierSettings  # noqa: E402
from classifier_service import free_port, start_service  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
PHOTOS = ("apple3.jpg", "banana3.jpg")


def photos() -> dict[str, bytes]:
    """name -> encoded bytes: the two fixture PNGs, and the same pixels as JPEG quality 90."""
    found = {}
    for name in PHOTOS:
        data = (FIXTURES / "images" / name).read_bytes()
        found[f"{name} (PNG)"] = data
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(buffer, "JPEG", quality=90)
        found[f"{name} as JPEG q90"] = buffer.getvalue()
    return found


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_process(model_dir: Path, bodies: dict[str, bytes], turns: int) -> None:
    threads = ClassifierSettings().effective_inference_threads
    model = load(model_dir, threads=threads)
    steps: dict[str, dict[str, list[float]]] = {name: {"decode": [], "preprocess": [], "run": [], "total": []}
                                                 for name in bodies}
    for turn in range(turns + 3):
        for name, data in bodies.items():
            began = time.perf_counter()
            image = decode(data)
            decoded = time.perf_counter()
            tensor = model.preprocess(image)
            prepared = time.perf_counter()
            raw = model.predict(tensor)
            ran = time.perf_counter()
            model.postprocess(raw)
            ended = time.perf_counter()
            if turn >= 3:  # the first turns warm up
                for step, ms in (("decode", decoded - began), ("preprocess", prepared - decoded), ("run", ran - prepared),
                                 ("total", ended - began)):
                    steps[name][step].append(ms * 1000)
    print(f"in process ({os.cpu_count()} cores, {threads} inference threads), p50 over {turns} turns:")
    for name, measured in steps.items():
        p50 = {step: statistics.median(values) for step, values in measured.items()}
        print(f"  {name:26} total {p50['total']:5.1f} ms = decode {p50['decode']:5.1f} + preprocess "
              f"{p50['preprocess']:4.1f} + run {p50['run']:4.1f} (+ outputs)   (target <= 40 ms)")


def post_all(url: str, bodies: list[bytes], count: int) -> None:
    with requests.Session() as session:
        for i in range(count):
            reply = session.post(url, data=bodies[i % len(bodies)], headers={"Content-Type": "application/octet-stream"},
                                 timeout=30)
            reply.raise_for_status()


def memory(model_dir: Path, bodies: dict[str, bytes], count: int) -> None:
    port = free_port()
    process, _ = start_service(model_dir, port)
    url = f"http://127.0.0.1:{port}/image"
    try:
        post_all(url, [(FIXTURES / "images" / "frame640x480.jpg").read_bytes()], 20)
        warm = status_mb(process.pid, "VmRSS")
        post_all(url, list(bodies.values()), count)
        after = status_mb(process.pid, "VmRSS")
        clients = [threading.Thread(target=post_all, args=(url, list(bodies.values())[i:] + list(bodies.values())[:i], count // 2))
                   for i in range(2)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        concurrent = status_mb(process.pid, "VmRSS")
        peak = status_mb(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(10)
    print(f"service memory: {warm:.0f} MB after warm-up, {after:.0f} MB after {count} large photos, "
          f"{concurrent:.0f} MB after {count} more from 2 clients; peak {peak:.0f} MB   (target <= 120 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=FIXTURES / "models" / "apples-bananas")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--only", choices=["all", "time", "memory"], default="all")
    args = parser.parse_args()
    bodies = photos()
    if args.only in ("all", "time"):
        in_process(args.model, bodies, args.requests)
    if args.only in ("all", "memory"):
        memory(args.model, bodies, args.photos)


if __name__ == "__main__":
    main()
