"""SenseHatDisplay's backends: sense-emu (the same API as the Sense HAT), the built-in virtual matrix, and
the fallback to the virtual one where sense-emu cannot be imported (the module itself, under a real bus)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, wait_for
from display.icons import for_tag, tag_colour
from display.matrix import Matrix, VirtualMatrix, open_matrix
from display.render import as_text, led_colours
from display.settings import DisplaySettings
from display.show import Display
from display_pictures import APFEL, CHERRY_TOMATO, ZUCCHINI, apple, letter
from edgekit import wire
from edgekit.messages import CLASSIFICATION_OUTPUT, Classification
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route

BLOCK_SENSE_EMU = "import sys; sys.modules['sense_emu'] = None; sys.modules['sense_hat'] = None\n"


def message(tag: str | None, probability: float = 0.9) -> Classification:
    return Classification(tagName=tag, probability=probability, predictions=[], captureTime=datetime.now(timezone.utc),
                          frameNumber=0, source="test")


@pytest.fixture()
def emulator() -> Iterator[Matrix]:
    matrix = open_matrix("emulator")
    assert matrix.name == "emulator"
    yield matrix
    matrix.close()


def test_known_tags_have_icons_and_others_a_coloured_letter() -> None:
    assert for_tag("Apple") == ("icon", apple())
    assert for_tag("  banana ") == for_tag("Banana") and for_tag("Banana")[0] == "icon"
    assert for_tag("cherry tomato") == ("letter", letter("C", CHERRY_TOMATO))
    assert for_tag("äpfel") == ("letter", letter("A", APFEL))  # the base letter of Ä
    assert tag_colour("Cherry") == tag_colour("cherry") and max(tag_colour("x")) == 255


def test_show_tag_and_clear_write_one_snapshot_per_new_state(emulator: Matrix, tmp_path: Path) -> None:
    display = Display(emulator, DisplaySettings(display_snapshot_dir=str(tmp_path)))
    assert display.show(message("Apple")) is True
    assert display.show(message("Apple", 0.95)) is False  # same state: nothing redrawn, no snapshot
    display.show(message("Zucchini"))
    display.show(message(None, 0.0))
    names = [p.name for p in sorted(tmp_path.glob("*.png"))]
    assert names == ["0001-cleared.png", "0002-Apple.png", "0003-Zucchini.png", "0004-cleared.png"]
    assert np.asarray(emulator.pixels()).max() == 0  # cleared: every LED off
    assert led_colours(tmp_path / "0002-Apple.png") == apple()
    assert led_colours(tmp_path / "0003-Zucchini.png") == letter("Z", ZUCCHINI)
    assert display.updates == 3


def test_a_restarted_display_numbers_its_snapshots_after_the_earlier_ones(tmp_path: Path) -> None:
    Display(VirtualMatrix(), DisplaySettings(display_snapshot_dir=str(tmp_path))).show(message("Apple"))
    Display(VirtualMatrix(), DisplaySettings(display_snapshot_dir=str(tmp_path))).show(message("Apple"))
    assert [p.name for p in sorted(tmp_path.glob("*.png"))] == ["0001-cleared.png", "0002-Apple.png",
                                                               "0003-cleared.png", "0004-Apple.png"]


def test_the_log_rendering_draws_each_led_in_its_colour() -> None:
    lines = as_text(apple())
    assert len(lines) == 8 and all(line.count("\x1b[48;2;") == 8 and line.endswith("\x1b[0m") for line in lines)
    assert "\x1b[48;2;220;0;0m" in lines[3] and "\x1b[48;2;0;160;0m" in lines[0]


def test_a_backend_that_cannot_open_says_why_and_auto_falls_back_to_the_virtual_matrix() -> None:
    code = BLOCK_SENSE_EMU + (
        "from display.matrix import MatrixUnavailableError, open_matrix\n"
        "print(open_matrix('auto').name)\n"
        "for name in ('emulator', 'sensehat'):\n"
        "    try:\n"
        "        open_matrix(name)\n"
        "    except MatrixUnavailableError as exc:\n"
        "        print(exc)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "modules" / "SenseHatDisplay")])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "virtual"
    assert "emulator: the sense-emu package is not installed" in lines[1]
    assert "sensehat: the sense-hat library is not installed" in lines[2]


def test_the_module_runs_on_the_virtual_matrix_where_sense_emu_cannot_be_imported(tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_SENSE_EMU)
    route = parse_route("r", "FROM /messages/modules/CameraCapture/outputs/classification "
                             "INTO BrokeredEndpoint(\"/modules/SenseHatDisplay/inputs/classification\")")
    bus = Bus([route], {"SenseHatDisplay": {"logMatrix": True}}, UpstreamSink(None, io.StringIO()))
    bus.start()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALEDGE_", "IOTEDGE_"))}
    env = {**base, **bus.environment("SenseHatDisplay"), "METRICS_PORT": "0",
           "DISPLAY_SNAPSHOT_DIR": str(tmp_path / "display"), "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}
    log = tmp_path / "display.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-u", str(ROOT / "modules" / "SenseHatDisplay" / "main.py")],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: bus.reported["SenseHatDisplay"].get("display", {}).get("backend"), 60)
        assert bus.reported["SenseHatDisplay"]["display"]["backend"] == "virtual", log.read_text()
        sent = message("Apple")
        bus.route("CameraCapture", {"op": "send", "output": CLASSIFICATION_OUTPUT, "properties": sent.properties(),
                                    "body": wire.encode_body(sent.model_dump_json().encode()),
                                    "contentType": "application/json", "contentEncoding": "utf-8"})
        wait_for(lambda: list((tmp_path / "display").glob("*-Apple.png")), 30)
        shown = wait_for(lambda: (d := bus.reported["SenseHatDisplay"]["display"]).get("tag") == "Apple" and d, 30)
        assert shown["state"] == "tag" and shown["backend"] == "virtual" and shown["picture"] == "icon"
        assert process.poll() is None
    finally:
        process.terminate()
        code = process.wait(15)
        bus.close()
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text, text
    rows = [line for line in text.splitlines() if line.startswith("\x1b[48;2;")]
    assert len(rows) >= 16 and "\x1b[48;2;220;0;0m" in "".join(rows), text  # the cleared matrix, then the apple
    assert json.dumps(bus.reported["SenseHatDisplay"]["settings"]["logMatrix"]) == "true"
