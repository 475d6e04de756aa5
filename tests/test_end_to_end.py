"""The whole solution under the local runner, on real input: four module processes, routed by the manifest."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FIXTURES, read_jsonl, run_until


def _dominant(png: Path) -> str:
    """'red', 'yellow', 'green', 'blue' or 'dark': the colour most lit LEDs show in a snapshot."""
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    lit = pixels[pixels.max(axis=1) > 100]
    if len(lit) < 200:
        return "dark"
    r, g, b = lit.mean(axis=0)
    if r > 150 and g > 150 and b < 100:
        return "yellow"
    return max((r, "red"), (g, "green"), (b, "blue"))[1]


def _run(tmp_path: Path, *sets: str, count: int, transport: str = "local") -> tuple[list[dict], list[Path], list[Path], str]:
    """The runner on a clip played once, stopped (Ctrl-C) once CameraCapture says the clip is finished and
    ``count`` messages went upstream, each spoken and shown (so that nothing is cut off by the stop)."""
    upstream = tmp_path / "upstream.jsonl"
    args = ["run", "--transport", transport, "--upstream", str(upstream),
            "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={tmp_path / 'audio'}",
            "--set", f"SenseHatDisplay.DISPLAY_SNAPSHOT_DIR={tmp_path / 'display'}"]
    for item in sets:
        args += ["--set", item]

    def finished(log: str) -> bool:
        sent = len(read_jsonl(upstream)) if upstream.is_file() else 0
        spoken = len(list((tmp_path / "audio").glob("*.wav")))
        shown = len([p for p in (tmp_path / "display").glob("*.png") if "cleared" not in p.name])
        return "source finished" in log and sent >= count and spoken >= sent and shown >= sent

    done = run_until(args, finished, tmp_path)
    assert done.returncode == 0, done.stdout
    assert upstream.is_file(), done.stdout
    audio = sorted((tmp_path / "audio").glob("*.wav"))
    display = sorted((tmp_path / "display").glob("*.png"))
    return read_jsonl(upstream), audio, display, done.stdout


def _spoken(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        frames = w.readframes(w.getnframes())
        samples = np.frombuffer(frames, dtype=np.int16)
        assert np.abs(samples).max() > 1000, f"{wav.name} is silent"
        return w.getnframes() / w.getframerate()


@pytest.mark.parametrize("transport", ["local", "mqtt"])
def test_fruit_clip_reports_each_change_upstream_on_display_and_in_speech(tmp_path: Path, transport: str) -> None:
    """On both transports: the runner's local bus, and edgeHub's MQTT topics over TLS (mosquitto), where
    every module runs its unchanged azure-iot-device client."""
    model = FIXTURES / "models" / "apples-bananas"
    clip = FIXTURES / "video" / "fruit.mp4"
    messages, audio, display, log = _run(
        tmp_path,
        f"ImageClassifierService.MODEL_DIR={model}",
        f"CameraCapture.VIDEO_PATH={clip}",
        "CameraCapture.LOOP_VIDEO=false",
        count=6, transport=transport,
    )
    if transport == "mqtt":  # each of the four modules connected through the SDK (edgekit.azure_hub)
        assert log.count("edgekit.azure_hub: connected to edgeHub") == 4, log
    expected = ["Apple", "Banana", "Apple", "Banana", "Apple", "Banana"]
    assert [m["body"]["tagName"] for m in messages] == expected, log

    first = messages[0]
    assert first["module"] == "CameraCapture" and first["output"] == "classification"
    assert first["properties"]["tagName"] == "Apple"
    body = first["body"]
    assert body["schemaVersion"] == 2 and body["state"] == "tag" and body["source"] == str(clip)
    assert body["probability"] >= 0.5 and body["captureTime"].endswith("Z")
    assert [p["tagName"] for p in body["predictions"]][0] == "Apple"
    frames = [m["body"]["frameNumber"] for m in messages]
    assert frames == sorted(frames) and frames[-1] < 140

    # The display showed each tag (Apple red, Banana yellow) and cleared for the empty segment.
    shown = [p.stem.split("-", 1)[1] for p in display]
    assert [s for s in shown if s != "cleared"] == expected
    assert shown[0] == "cleared" and "cleared" in shown[1:]
    colours = {p.stem.split("-", 1)[1]: _dominant(p) for p in display}
    assert colours == {"cleared": "dark", "Apple": "red", "Banana": "yellow"}

    # TextToSpeech produced audible speech for every change, in order.
    assert [p.stem.split("-", 1)[1] for p in audio] == expected
    assert all(0.2 < _spoken(p) < 5.0 for p in audio)


def test_embedded_demo_recognises_its_own_clip(tmp_path: Path) -> None:
    """What `make demo` runs: the bundled demo model and the project's own clip."""
    messages, audio, display, log = _run(tmp_path, "CameraCapture.VIDEO_PATH=demo/colours.mp4", count=5)
    assert [m["body"]["tagName"] for m in messages] == ["Red", "Yellow", "Green", "Blue", "Red"], log
    assert len(audio) == 5
    colours = [_dominant(p) for p in display if "cleared" not in p.name]
    assert colours == ["red", "yellow", "green", "blue", "red"]
    assert "$upstream <- CameraCapture/classification" in log and "tagName=Red" in log
