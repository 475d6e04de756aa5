"""Where audio goes: the sound device (ALSA ``aplay``) when there is one, WAV files when asked or when not."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PCM_LIST = Path("/proc/asound/pcm")
DEFAULT_DIR = Path(tempfile.gettempdir()) / "texttospeech"


def has_sound_device() -> bool:
    """True when ALSA lists a playback device and ``aplay`` (alsa-utils) is installed."""
    try:
        playback = "playback" in PCM_LIST.read_text()
    except OSError:
        return False
    return playback and shutil.which("aplay") is not None


class AudioOutput:
    """Plays WAV audio and/or writes it as ``<n>-<phrase>.wav`` files into ``directory``.

    directory: "" writes files only when there is no sound device (then to a temp folder).
    """

    def __init__(self, directory: str, play: bool | None = None) -> None:
        self.play_enabled = has_sound_device() if play is None else play
        if directory:
            self.directory: Path | None = Path(directory)
        elif not self.play_enabled:
            self.directory = DEFAULT_DIR
            logger.info("no sound device: writing speech to %s (set AUDIO_OUTPUT_DIR to choose)", DEFAULT_DIR)
        else:
            self.directory = None
        self._count = 0

    def emit(self, wav: bytes, text: str, timeout_s: float = 30.0) -> Path | None:
        """Write (when a folder is set) and play (when there is a device); returns the file written."""
        self._count += 1
        written = None
        if self.directory is not None:
            name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:40] or "speech"
            written = self.directory / f"{self._count:04d}-{name}.wav"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                written.write_bytes(wav)
            except OSError as exc:
                logger.warning("cannot write %s: %s", written, exc)
                written = None
        if self.play_enabled:
            try:
                subprocess.run(["aplay", "-q", "-"], input=wav, timeout=timeout_s, check=False, capture_output=True)
            except (OSError, subprocess.TimeoutExpired) as exc:
                logger.warning("playback failed: %s", exc)
        return written
