"""Synthesised phrases, keyed by engine, voice, language and text: in memory and on disk, both bounded in bytes.

Disk (``CACHE_DIR``, the manifest's ``texttospeech-cache`` volume): one ``<key>.wav`` per phrase,
least recently used first out once the folder holds more than ``max_bytes`` (a hit touches the
file, so the order survives restarts). Memory: the most recently used phrases, at most
``memory_bytes``. Thread-safe (engines finishing in the background store here too).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

logger = logging.getLogger(__name__)

MEMORY_BYTES = 8 * 1024 * 1024


def cache_key(engine: str, voice: str, language: str, text: str) -> str:
    """The name of a phrase in the cache (32 hex characters)."""
    return hashlib.sha256(f"{engine}|{voice}|{language}|{text}".encode(errors="replace")).hexdigest()[:32]


class PhraseCache:
    """directory: "" keeps phrases in memory only; max_bytes: bound of the folder (0: nothing on disk)."""

    def __init__(self, directory: str, max_bytes: int, memory_bytes: int = MEMORY_BYTES) -> None:
        self.directory = Path(directory) if directory and max_bytes > 0 else None
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_size = 0
        self._files: OrderedDict[str, int] = OrderedDict()  # key -> bytes, least recently used first
        self.hits = {"memory": 0, "file": 0}
        self.evicted = 0
        if self.directory is not None:
            self._scan()

    def _scan(self) -> None:
        assert self.directory is not None
        try:
            found = [(p.stat().st_mtime, p.stem, p.stat().st_size) for p in self.directory.glob("*.wav")]
        except OSError as exc:
            logger.warning("cannot read the speech cache %s: %s", self.directory, exc)
            return
        for _, key, size in sorted(found):
            self._files[key] = size
        self._evict()

    @property
    def disk_bytes(self) -> int:
        return sum(self._files.values())

    def get(self, key: str) -> tuple[bytes, str] | None:
        """(WAV, "memory" or "file") for ``key``, or None."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                self.hits["memory"] += 1
                return self._memory[key], "memory"
            if self.directory is None or key not in self._files:
                return None
            path = self.directory / f"{key}.wav"
            try:
                wav = path.read_bytes()
                now = time.time()
                os.utime(path, (now, now))
            except OSError:
                self._files.pop(key, None)
                return None
            self._files.move_to_end(key)
            self._remember(key, wav)
            self.hits["file"] += 1
            return wav, "file"


    def put(self, key: str, wav: bytes) -> None:
        """Keep ``wav`` under ``key`` (in memory and, when there is a folder, on disk; oldest evicted)."""
        with self._lock:
            self._remember(key, wav)
            if self.directory is None or len(wav) > self.max_bytes:
                return
            path = self.directory / f"{key}.wav"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(f".{threading.get_ident()}.part")
                partial.write_bytes(wav)
                partial.replace(path)  # a reader never sees half a file
            except OSError as exc:
                logger.warning("cannot cache speech in %s: %s", self.directory, exc)
                return
            self._files[key] = len(wav)
            self._files.move_to_end(key)
            self._evict()

    def _remember(self, key: str, wav: bytes) -> None:
        if len(wav) > self.memory_bytes:
            return
        if key in self._memory:
            self._memory_size -= len(self._memory.pop(key))
        self._memory[key] = wav
        self._memory_size += len(wav)
        while self._memory_size > self.memory_bytes:
            _, dropped = self._memory.popitem(last=False)
            self._memory_size -= len(dropped)

    def _evict(self) -> None:
        assert self.directory is not None
        total = sum(self._files.values())
        while total > self.max_bytes and self._files:
            key, size = self._files.popitem(last=False)
            total -= size
            self.evicted += 1
            try:
                (self.directory / f"{key}.wav").unlink()
            except OSError:
                pass
