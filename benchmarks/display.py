"""SenseHatDisplay benchmark: message to matrix updated; target < 50 ms.

For each backend available here (the built-in virtual matrix; sense-emu when installed), messages
alternating between states (an icon, "not sure", a letter, cleared; each a new state) are handed to
the module's own path: the message's JSON parsed into a Classification, handed over to the display
worker through an Inbox (as the hub's input handler does), judged, drawn, written to the matrix, a PNG
snapshot saved and the state drawn in the log (logMatrix on, the log to a null handler). The time from
the bytes arriving to the matrix written is reported (median, p95, max) in ms.

Run: .venv/bin/python benchmarks/display.py [--messages 200]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "modules" / "SenseHatDisplay")]

from display.matrix import MatrixUnavailableError, open_matrix  # noqa: E402
from display.settings import DisplaySettings  # noqa: E402
from display.show import Display  # noqa: E402
from edgekit.inbox import Inbox  # noqa: E402
from edgekit.messages import Classification  # noqa: E402

TARGET_MS = 50.0
SCENES = [("Apple", [("Apple", 0.93), ("Banana", 0.07)]), (None, [("Banana", 0.42), ("Apple", 0.38)]),
          ("Kiwi", [("Kiwi", 0.88)]), (None, [("Apple", 0.05)])]


def payloads(count: int) -> list[bytes]:
    out = []
    for i in range(count):
        tag, predictions = SCENES[i % len(SCENES)]
        message = Classification(tagName=tag, probability=predictions[0][1] if tag else 0.0,
                                 predictions=[{"tagName": t, "probability": p} for t, p in predictions],
                                 captureTime=datetime.now(timezone.utc), frameNumber=i, source="benchmark")
        out.append(message.model_dump_json().encode())
    return out


def measure(backend: str, count: int, folder: Path) -> list[float]:
    matrix = open_matrix(backend)
    display = Display(matrix, DisplaySettings(display_snapshot_dir=str(folder), log_matrix=True, brightness=0.8))
    done = threading.Event()
    latencies: list[float] = []
    arrived = 0.0

    def consume(message: Classification) -> None:
        assert display.show(message)
        latencies.append((time.perf_counter() - arrived) * 1000)
        done.set()

    inbox: Inbox[Classification] = Inbox(consume, capacity=1, name="display")
    try:
        for body in payloads(count):
            done.clear()
            arrived = time.perf_counter()
            inbox.put(Classification.model_validate_json(body))
            if not done.wait(5):
                raise RuntimeError("the display did not update within 5 s")
    finally:
        inbox.close()
        display.close()
        matrix.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.INFO)  # the log rendering is built, as with logMatrix on
    worst = 0.0
    for backend in ("virtual", "emulator"):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ms = measure(backend, args.messages, Path(tmp))
            except MatrixUnavailableError as exc:
                print(f"{backend:8s}: not available ({exc})")
                continue
        ms.sort()
        p95 = ms[int(0.95 * (len(ms) - 1))]
        worst = max(worst, p95)
        print(f"{backend:8s}: message to matrix updated, {len(ms)} new states: median {statistics.median(ms):.2f} ms, "
              f"p95 {p95:.2f} ms, max {ms[-1]:.2f} ms (target < {TARGET_MS:.0f} ms)")
    print("PASS" if worst < TARGET_MS else "FAIL", f"(worst p95 {worst:.2f} ms)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
