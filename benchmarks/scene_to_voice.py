"""Scene change to the $upstream message and to the spoken phrase, through the whole solution.

The local runner (``python -m localedge run``) runs the four modules as processes with the module defaults,
over either transport (``local``: the runner's bus; ``mqtt``: each module's real ``azure-iot-device`` client
through mosquitto), the fixture model, and a camera stand-in: one image delivered 50 times a second (a
slideshow of one file), replaced atomically at a known instant by the other fruit. Measured, per change:
the time until the runner has appended the message to ``--upstream`` (its ``$upstream``) and until
TextToSpeech has written the phrase's WAV file (``AUDIO_OUTPUT_DIR``; the first audio sample a sound
device would get, the phrase cached: both phrases are spoken once before measuring); and at the end, the
resident memory of each module's process with its children (Piper's process under TextToSpeech). TextToSpeech's
``MIN_REPEAT_S`` is 0, so that each change is spoken. Targets: message p50 <= 40 ms, p95 <= 80 ms.

Run: .venv/bin/python benchmarks/scene_to_voice.py [--transport local|mqtt] [--changes 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
NAMES = ("apple1.jpg", "banana1.jpg")
TAGS = ("Apple", "Banana")


def lines(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def wavs(folder: Path) -> int:
    return sum(1 for p in folder.glob("*.wav")) if folder.is_dir() else 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        queue += [int(child) for child in children]
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def module_memory(runner: int) -> dict[str, dict[str, float]]:
    """Resident memory of each module's own process ("own") and with its children ("all": Piper's under
    TextToSpeech), MB."""
    memory: dict[str, dict[str, float]] = {}
    for pid in Path(f"/proc/{runner}/task/{runner}/children").read_text().split():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        for name in ("ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"):
            if f"modules/{name}/main.py" in command:
                memory[name] = {"own": round(rss_mb(int(pid)), 1),
                                "all": round(sum(rss_mb(p) for p in descendants(int(pid))), 1)}
    return memory


def measure(transport: str, changes: int, folder: Path) -> tuple[list[float], list[float], dict[str, dict[str, float]]]:
    scene, staging, audio, upstream = folder / "scene" / "now.jpg", folder / "next.jpg", folder / "audio", folder / "up.jsonl"
    scene.parent.mkdir()
    shutil.copy(FIXTURES / "images" / NAMES[0], scene)
    sets = {"ImageClassifierService.MODEL_DIR": str(FIXTURES / "models" / "apples-bananas"),
            "CameraCapture.VIDEO_PATH": str(scene), "CameraCapture.LOOP_VIDEO": "true",
            "CameraCapture.SLIDESHOW_INTERVAL_S": "0.02", "TextToSpeech.AUDIO_OUTPUT_DIR": str(audio),
            "TextToSpeech.MIN_REPEAT_S": "0"}
    command = [sys.executable, "-m", "localedge", "run", "--transport", transport, "--upstream", str(upstream)]
    for name, value in sets.items():
        command += ["--set", f"{name}={value}"]
    runner = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    to_message: list[float] = []
    to_voice: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while not (lines(upstream) and wavs(audio)):
            if time.monotonic() > deadline or runner.poll() is not None:
                raise SystemExit("the solution did not send its first message and phrase within 120 s")
            time.sleep(0.05)
        for i in range(changes + 4):  # the first 4 make both phrases cached
            time.sleep(1.0)  # the previous phrase written, the scene still
            shutil.copy(FIXTURES / "images" / NAMES[(i + 1) % 2], staging)
            seen, spoken = len(lines(upstream)), wavs(audio)
            time.sleep((i * 0.37) % 0.5)  # changes fall anywhere in the source's cycle
            changed = time.monotonic()
            os.replace(staging, scene)
            message = voice = None
            while message is None or voice is None:
                now = time.monotonic()
                if now - changed > 10:
                    raise SystemExit(f"change {i}: no message or phrase within 10 s")
                if message is None and len(lines(upstream)) > seen:
                    message = now
                    tag = lines(upstream)[seen]["body"]["tagName"]  # type: ignore[index]
                    if tag != TAGS[(i + 1) % 2]:
                        raise SystemExit(f"change {i}: {tag} sent, {TAGS[(i + 1) % 2]} shown")
                if voice is None and wavs(audio) > spoken:
                    voice = now
                time.sleep(0.001)
            if i >= 4:
                to_message.append(message - changed)
                to_voice.append(voice - changed)
        memory = module_memory(runner.pid)
    finally:
        runner.send_signal(signal.SIGINT)
        try:
            runner.wait(30)
        except subprocess.TimeoutExpired:
            runner.kill()
    return to_message, to_voice, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["local", "mqtt"], default="local")
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scene-voice-"))
    try:
        to_message, to_voice, memory = measure(args.transport, args.changes, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ms = lambda values, q: percentile(values, q) * 1000  # noqa: E731
    print(json.dumps({"transport": args.transport, "changes": len(to_message), "cpuCount": os.cpu_count(),
                      "messageP50Ms": round(statistics.median(to_message) * 1000, 1), "messageP95Ms": round(ms(to_message, 0.95), 1),
                      "voiceP50Ms": round(statistics.median(to_voice) * 1000, 1), "voiceP95Ms": round(ms(to_voice, 0.95), 1),
                      "memoryMb": memory, "memoryOwnTotalMb": round(sum(m["own"] for m in memory.values()), 1),
                      "memoryTotalMb": round(sum(m["all"] for m in memory.values()), 1)}))
    print(f"{args.transport}: scene change to $upstream p50 {statistics.median(to_message) * 1000:.0f} ms, "
          f"p95 {ms(to_message, 0.95):.0f} ms; to the cached phrase's WAV p50 {statistics.median(to_voice) * 1000:.0f} ms, "
          f"p95 {ms(to_voice, 0.95):.0f} ms (target for the message: p50 <= 40 ms, p95 <= 80 ms)")


if __name__ == "__main__":
    main()
