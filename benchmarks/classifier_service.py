"""ImageClassifierService benchmark: overhead over the in-process floor, scaling, memory and start-up.

In one run, on one model (default: the fixture apples-bananas model):
1. start-up: the real service process (modules/ImageClassifierService/main.py, waitress) from
   launch to /health/ready answering 200, in s (target < 2 s);
2. service latency for the fixtures' 640x480 JPEG: one keep-alive client POSTing /image back to
   back, p50 and p95 in ms: a lean client (a prepared request on a socket, the answer read by
   its Content-Length), so that the figure is the service's; and, for comparison, http.client,
   whose own work (about 0.3-0.6 ms here, parsing the answer's headers) a client adds;
3. the floor: the same decode + preprocessing (the original container's recipe, as the service)
   + run + decoding of the outputs in this process, with no HTTP, with the same thread settings
   as the service (target: service p50 <= 1.15x the floor's p50);
   for comparison: the runtime's own run call (ONNX Runtime ``session.run``) on the image
   already preprocessed (raw), and the floor with the old preprocessing (Pillow's antialiased
   resize of the shorter side). All take turns, one call each, so that all see the same machine;
4. throughput with 1 and 2 concurrent clients, requests/s (target: 2 clients >= 1.6x one);
5. the service's resident memory (VmRSS) after warm-up, MB (target <= 120 MB).

Run: .venv/bin/python benchmarks/classifier_service.py [--model DIR] [--requests 300] [--seconds 8]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "modules" / "ImageClassifierService")]

from classifier.export import load  # noqa: E402
from classifier.preprocess import decode  # noqa: E402
from classifier.settings import ClassifierSettings  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_service(model: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "PORT": str(port), "MODEL_DIR": str(model), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING",
           "METRICS_PORT": "0"}  # /metrics on PORT only: no clash with another module's collector port
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")], env=env)
    while time.monotonic() - started < 30:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process, time.monotonic() - started
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}")
        time.sleep(0.01)
    raise SystemExit("the service was not ready within 30 s")


class LeanClient:
    """A keep-alive HTTP/1.1 client sending one prepared POST and reading the answer by its
    Content-Length: as little client work as a request can take."""

    def __init__(self, port: int, path: str, body: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
        self.request = head.encode() + body

    def _more(self, data: bytes) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("the service closed the connection")
        return data + chunk

    def post(self) -> None:
        self.sock.sendall(self.request)
        data = b""
        while b"\r\n\r\n" not in data:
            data = self._more(data)
        head, _, body = data.partition(b"\r\n\r\n")
        if head.split(b" ", 2)[1] != b"200":
            raise SystemExit(f"/image answered {head.splitlines()[0]!r}")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if length is None:
            raise SystemExit("the answer has no Content-Length")
        while len(body) < int(length.group(1)):
            body = self._more(body)

    def close(self) -> None:
        self.sock.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def client_loop(url: str, jpeg: bytes, stop: threading.Event, counts: list[int], latencies: list[float] | None) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            begun = time.perf_counter()
            reply = session.post(url, data=jpeg, headers={"Content-Type": "application/octet-stream"}, timeout=10)
            reply.raise_for_status()
            if latencies is not None:
                latencies.append((time.perf_counter() - begun) * 1000)
            counts[0] += 1


def throughput(url: str, jpeg: bytes, clients: int, seconds: float) -> float:
    stop = threading.Event()
    counts = [[0] for _ in range(clients)]
    threads = [threading.Thread(target=client_loop, args=(url, jpeg, stop, counts[i], None)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # warm every connection and worker
    before = sum(c[0] for c in counts)
    began = time.perf_counter()
    time.sleep(seconds)
    done = sum(c[0] for c in counts) - before
    elapsed = time.perf_counter() - began
    stop.set()
    for t in threads:
        t.join()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=FIXTURES / "models" / "apples-bananas")
    parser.add_argument("--image", type=Path, default=FIXTURES / "images" / "frame640x480.jpg")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    jpeg = args.image.read_bytes()
    port = free_port()
    url = f"http://127.0.0.1:{port}/image"

    process, startup_s = start_service(args.model, port)
    try:
        settings = ClassifierSettings()  # the service's defaults, so the same thread count
        model = load(args.model, threads=settings.effective_inference_threads)
        tensor = model.preprocess(decode(jpeg))
        pillow = copy.copy(model)  # the same session, with the old preprocessing
        pillow.recipe = dataclasses.replace(model.recipe, resize="shorter_side")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def post() -> None:
            connection.request("POST", "/image", body=jpeg, headers={"Content-Type": "application/octet-stream"})
            reply = connection.getresponse()
            reply.read()
            if reply.status != 200:
                raise SystemExit(f"/image answered {reply.status}")

        lean = LeanClient(port, "/image", jpeg)
        for _ in range(20):  # warm-up of both
            post()
            lean.post()
            model.predict(tensor)
        latencies: list[float] = []
        standard: list[float] = []
        raw: list[float] = []
        floor: list[float] = []
        old_floor: list[float] = []
        measured: list[tuple[Callable[[], object], list[float]]] = [
            (lean.post, latencies), (post, standard), (lambda: model.predict(tensor), raw),
            (lambda: model.postprocess(model.predict(model.preprocess(decode(jpeg)))), floor),
            (lambda: pillow.postprocess(pillow.predict(pillow.preprocess(decode(jpeg)))), old_floor)]
        # One of each in turn, in a shuffled order, so that all see the same machine (a shared
        # VM's speed drifts within seconds) and each follows the others equally often (what ran
        # just before, here or in the service, decides what is in the caches).
        shuffle = random.Random(0).shuffle
        for _ in range(args.requests):
            shuffle(measured)
            for action, into in measured:
                begun = time.perf_counter()
                action()
                into.append((time.perf_counter() - begun) * 1000)
        connection.close()
        lean.close()
        memory = rss_mb(process.pid)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        inside = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                  if line.startswith("classifier_inference_seconds_")}
        inside_ms = inside["classifier_inference_seconds_sum"] / inside["classifier_inference_seconds_count"] * 1000

        one = throughput(url, jpeg, 1, args.seconds)
        two = throughput(url, jpeg, 2, args.seconds)
        peak = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(10)

    service_p50, raw_p50, floor_p50 = statistics.median(latencies), statistics.median(raw), statistics.median(floor)
    old_p50 = statistics.median(old_floor)
    print(f"model: {args.model} ({os.cpu_count()} cores, inference threads per request: "
          f"{ClassifierSettings().effective_inference_threads})")
    print(f"start-up to ready:          {startup_s:.2f} s   (target < 2 s)")
    print(f"service latency 640x480:    p50 {service_p50:.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms (lean client);"
          f" p50 {statistics.median(standard):.1f} ms with http.client")
    print(f"floor, no HTTP:             p50 {floor_p50:.1f} ms, p95 {percentile(floor, 0.95):.1f} ms"
          "   (decode + original recipe + run in one process)")
    print(f"service / floor p50:        {service_p50 / floor_p50:.3f}x   (target <= 1.15x);"
          f" {statistics.median(standard) / floor_p50:.3f}x with http.client")
    print(f"raw run (preprocessed):     p50 {raw_p50:.1f} ms, p95 {percentile(raw, 0.95):.1f} ms;"
          f" floor / raw {floor_p50 / raw_p50:.2f}x, service / raw {service_p50 / raw_p50:.2f}x")
    print(f"run inside the service:     mean {inside_ms:.1f} ms (its /metrics)")
    print(f"floor, old Pillow recipe:   p50 {old_p50:.1f} ms = {old_p50 / raw_p50:.2f}x raw"
          f"   (original recipe - Pillow: {floor_p50 - old_p50:+.2f} ms)")
    print(f"throughput 1 client:        {one:.1f} req/s")
    print(f"throughput 2 clients:       {two:.1f} req/s = {two / one:.2f}x   (target >= 1.6x)")
    print(f"resident memory:            {memory:.0f} MB after warm-up, {peak:.0f} MB after the 2-client run   (target <= 120 MB)")


if __name__ == "__main__":
    main()
