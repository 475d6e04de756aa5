"""Where audio goes: the sound device (ALSA ``aplay``) when there is one, WAV files when asked or when not.

Files are named ``<n>-<phrase>.wav``; numbering continues after the highest number already in the
folder (a restarted module never overwrites earlier files), and a file is created exclusively. At most
``max_files`` such files are kept: after each write the oldest (lowest numbers) beyond it are deleted.
Without a sound device and without a folder, files go to ``texttospeech`` in the temp folder (``TMPDIR``:
the local runner gives each module one under its state folder, ``.localedge/tmp/<Module>``).
``volume`` (0-1) scales the 16-bit samples of what is played and written.
"""

from __future__ import annotations

import array
import io
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

logger = logging.getLogger(__name__)

PCM_LIST = Path("/proc/asound/pcm")
DEFAULT_DIR = Path(tempfile.gettempdir()) / "texttospeech"
DEFAULT_MAX_FILES = 100
NUMBERED = re.compile(r"^(\d+)-")


def has_sound_device() -> bool:
    """True when ALSA lists a playback device and ``aplay`` (alsa-utils) is installed."""
    try:
        playback = "playback" in PCM_LIST.read_text()
    except OSError:
        return False
    return playback and shutil.which("aplay") is not None


def scaled(wav: bytes, volume: float) -> bytes:
    """``wav`` with its 16-bit PCM samples multiplied by ``volume`` (0-1); other formats unchanged."""
    if volume >= 1.0:
        return wav
    try:
        with wave.open(io.BytesIO(wav)) as source:
            params = source.getparams()
            frames = source.readframes(source.getnframes())
    except (wave.Error, EOFError) as exc:
        logger.warning("cannot apply the volume to this audio (%s); playing it as it is", exc)
        return wav
    if params.sampwidth != 2:
        return wav
    samples = array.array("h", frames[: len(frames) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    quiet = array.array("h", (int(s * volume) for s in samples))
    if sys.byteorder == "big":
        quiet.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(quiet.tobytes())
    return out.getvalue()


class AudioOutput:
    """Plays WAV audio and/or writes it as ``<n>-<phrase>.wav`` files into ``directory``.

    directory: "" writes files only when there is no sound device (then to a temp folder);
    max_files: the most ``<n>-<phrase>.wav`` files kept there, oldest deleted first (0: no bound).
    """

    def __init__(self, directory: str, play: bool | None = None, max_files: int = DEFAULT_MAX_FILES) -> None:
        self.play_enabled = has_sound_device() if play is None else play
        self.max_files = max_files
        if directory:
            self.directory: Path | None = Path(directory)
        elif not self.play_enabled:
            self.directory = DEFAULT_DIR
            logger.info("no sound device: writing speech to %s, the newest %s file(s) kept (AUDIO_OUTPUT_DIR, "
                        "AUDIO_OUTPUT_MAX_FILES)", DEFAULT_DIR, max_files or "all")
        else:
            self.directory = None
        self._count = self._highest()

    def _highest(self) -> int:
        if self.directory is None or not self.directory.is_dir():
            return 0
        numbers = [int(m.group(1)) for p in self.directory.iterdir() if (m := NUMBERED.match(p.name))]
        return max(numbers, default=0)

    def emit(self, wav: bytes, text: str, volume: float = 1.0, timeout_s: float = 30.0) -> Path | None:
        """Write (when a folder is set) and play (when there is a device) ``wav`` at ``volume``; returns the file written."""
        wav = scaled(wav, volume)
        written = self._write(wav, text) if self.directory is not None else None
        if self.play_enabled:
            try:
                subprocess.run(["aplay", "-q", "-"], input=wav, timeout=timeout_s, check=False, capture_output=True)
            except (OSError, subprocess.TimeoutExpired) as exc:
                logger.warning("playback failed: %s", exc)
        return written

    def _write(self, wav: bytes, text: str) -> Path | None:
        assert self.directory is not None
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "speech"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("cannot write to %s: %s", self.directory, exc)
            return None
        for _ in range(1000):
            self._count += 1
            path = self.directory / f"{self._count:04d}-{name}.wav"
            try:
                with path.open("xb") as file:  # never over an earlier file (another process, a clock skew)
                    file.write(wav)
                self._prune()
                return path
            except FileExistsError:
                continue
            except OSError as exc:
                logger.warning("cannot write %s: %s", path, exc)
                return None
        return None

    def _prune(self) -> None:
        """Delete the oldest numbered WAVs (lowest numbers) beyond ``max_files``."""
        if not self.max_files or self.directory is None:
            return
        try:
            numbered = sorted((int(m.group(1)), p) for p in self.directory.iterdir()
                              if p.suffix == ".wav" and (m := NUMBERED.match(p.name)))
        except OSError as exc:
            logger.warning("cannot list %s: %s", self.directory, exc)
            return
        for _, path in numbered[:-self.max_files]:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("cannot delete %s: %s", path, exc)
                return
