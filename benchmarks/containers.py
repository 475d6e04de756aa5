"""The solution as containers: start-to-ready time and memory of the four module containers under
``python -m localedge run --images`` (each module's real SDK client over MQTT, the demo clip looping).

For each run: the runner is started; every 0.25 s ``list --json`` says which modules are connected to the
hub, and the uptime at which a module was first seen connected is its start-to-ready time (the container's
``docker run`` to its SDK client connected; for ImageClassifierService also ``/health/ready``). Then, for
``--sample`` seconds (default 180), each container's processes' resident memory (``docker top``: RSS, the
module's Python and any child such as Piper's) is sampled every second. Reported: the peak of the four
together over the whole window (Piper's process loaded while the clip's phrases are first spoken), and the
peak per module and together over its last 30 s (steady: every phrase cached, Piper stopped after
``PIPER_IDLE_S``, 120 s by default). Needs root, a Docker daemon and the images (``make images``).

Run: .venv/bin/python benchmarks/containers.py [--runs 3] [--sample 180] [--platform amd64]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay")
TEMPLATES = {"amd64": "deployment.template.json", "arm64v8": "deployment.template.json",
             "arm32v7": "deployment.arm32v7.template.json"}


def _localedge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localedge", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def _rss_mb(container: str) -> float:
    """Resident memory of the container's processes, MB (ps's RSS, KiB, summed)."""
    done = subprocess.run(["docker", "top", container, "-eo", "pid,rss"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"docker top {container}: {done.stderr.strip()}")
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    return sum(int(row[-1]) for row in rows if row and row[-1].isdigit()) / 1024


def one_run(platform: str, sample_s: float, log: Path) -> dict[str, dict[str, float]]:
    with log.open("w") as out:
        runner = subprocess.Popen([sys.executable, "-m", "localedge", "run", "--images", "--platform", platform,
                                   "--manifest", TEMPLATES[platform], "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4",
                                   "--set", "CameraCapture.LOOP_VIDEO=true"], cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, text=True)
    ready: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 600
        while len(ready) < 4 and time.monotonic() < deadline:
            if runner.poll() is not None:
                raise SystemExit(f"the runner stopped:\n{log.read_text()[-3000:]}")
            done = _localedge("list", "--json", "--runner", str(runner.pid))
            if done.returncode == 0:
                for module in json.loads(done.stdout)["modules"]:
                    if module["connected"] and module["name"] not in ready:
                        ready[module["name"]] = float(module["uptime_s"])
            time.sleep(0.25)
        state = json.loads((ROOT / ".localedge" / f"runner-{runner.pid}.json").read_text())
        classifier = f"http://{state['containers']['ImageClassifierService']}:80/health/ready"
        while True:
            try:
                with urllib.request.urlopen(classifier, timeout=5):
                    break
            except OSError:
                time.sleep(0.25)
        peak = {m: 0.0 for m in MODULES}  # over the last 30 s
        total = steady = 0.0
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < sample_s:
            now = {m: _rss_mb(f"localedge-{runner.pid}-{m}".lower()) for m in MODULES}
            total = max(total, sum(now.values()))
            if elapsed >= sample_s - 30:
                for module, value in now.items():
                    peak[module] = max(peak[module], value)
                steady = max(steady, sum(now.values()))
            time.sleep(1)
        return {"ready_s": ready, "peak_rss_mb": peak, "total_peak_rss_mb": {"all": total, "steady": steady}}
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=float, default=180.0, help="seconds of memory sampling per run (30 or more)")
    parser.add_argument("--platform", default="amd64", choices=sorted(TEMPLATES))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root (run --images gives each module's edgeHub stand-in an address on the modules' network)")
        return 1
    results = []
    for n in range(args.runs):
        result = one_run(args.platform, args.sample, Path(f"/tmp/containers-benchmark-{n}.log"))
        results.append(result)
        print(f"run {n + 1}: ready (s) " + ", ".join(f"{m} {result['ready_s'].get(m, float('nan')):.1f}" for m in MODULES)
              + "; steady peak RSS (MB) " + ", ".join(f"{m} {result['peak_rss_mb'][m]:.0f}" for m in MODULES)
              + f"; four together: steady {result['total_peak_rss_mb']['steady']:.0f}, "
              f"whole window {result['total_peak_rss_mb']['all']:.0f}", flush=True)
    for module in MODULES:
        ready = [r["ready_s"].get(module, float("nan")) for r in results]
        rss = [r["peak_rss_mb"][module] for r in results]
        print(f"{module:<24} start to ready {min(ready):.1f}-{max(ready):.1f} s   steady peak RSS {min(rss):.0f}-{max(rss):.0f} MB")
    steady = [r["total_peak_rss_mb"]["steady"] for r in results]
    window = [r["total_peak_rss_mb"]["all"] for r in results]
    print(f"{'four containers':<24} peak RSS together: steady {min(steady):.0f}-{max(steady):.0f} MB, whole window "
          f"{min(window):.0f}-{max(window):.0f} MB ({args.runs} runs, {args.platform}, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
