"""The spool: a bounded folder of captures waiting for storage (store and forward), oldest first, that survives
restarts."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from capture.retrain.records import NAME_PATTERN, Capture, CaptureRecord
from capture.retrain.storage import write_whole
from capture.settings import CONTAINER_PATTERN

logger = logging.getLogger("capture.retrain")

SPOOL_FOLDER = ".spool"  # the spool's default folder under CAPTURE_DIR; no container name starts with a dot


class SpoolEntry(BaseModel):
    """``<seq>.json`` in the spool: the capture's destination (container; blob name without suffix, group
    included) and sidecar (the JPEG is ``<seq>.jpg``)."""

    container: str = Field(min_length=3, max_length=63, pattern=CONTAINER_PATTERN)
    name: str = Field(pattern=NAME_PATTERN)
    record: CaptureRecord


class Spool:
    """A bounded folder of captures waiting for storage, oldest first; survives restarts.

    Each capture is ``<seq>.jpg`` and then ``<seq>.json`` (its destination and sidecar), so an entry
    is complete once its ``.json`` exists; incomplete leftovers of a crash are removed at start.
    max_bytes: the bound on both files of every entry together.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._entries: deque[tuple[int, int]] = deque()  # (seq, bytes), oldest first
        self.bytes = 0
        self.error = ""
        try:
            if folder.is_dir():  # created when first needed: capture off never touches the disk
                self._load()
        except OSError as exc:
            self.error = f"spool {folder}: {exc.strerror or exc}"
            logger.error("captures: %s", self.error)
        self._next = (self._entries[-1][0] + 1) if self._entries else 1

    def _load(self) -> None:
        complete: list[tuple[int, int]] = []
        for path in self.folder.iterdir():
            stem, suffix = path.stem, path.suffix
            if suffix == ".json" and stem.isdigit() and (self.folder / f"{stem}.jpg").exists():
                size = path.stat().st_size + (self.folder / f"{stem}.jpg").stat().st_size
                complete.append((int(stem), size))
        kept = {seq for seq, _ in complete}
        for path in self.folder.iterdir():  # a .jpg without its .json, a temporary file: a crash mid-write
            if not (path.stem.isdigit() and int(path.stem) in kept) and not path.is_dir():
                path.unlink(missing_ok=True)
        for seq, size in sorted(complete):
            self._entries.append((seq, size))
            self.bytes += size

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, capture: Capture) -> bool:
        """Spool ``capture``; False when it would pass the bound (nothing written) or cannot be written."""
        sidecar = SpoolEntry(container=capture.container, name=capture.name,
                             record=capture.record).model_dump_json().encode("utf-8")
        size = len(capture.jpeg) + len(sidecar)
        if self.bytes + size > self.max_bytes:
            return False
        seq = self._next
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_whole(self.folder / f"{seq:012d}.jpg", capture.jpeg)
            write_whole(self.folder / f"{seq:012d}.json", sidecar)
        except OSError as exc:
            self.error = f"spool {self.folder}: {exc.strerror or exc}"
            logger.error("captures: %s", self.error)
            (self.folder / f"{seq:012d}.jpg").unlink(missing_ok=True)
            return False
        self.error = ""
        self._next += 1
        self._entries.append((seq, size))
        self.bytes += size
        return True

    def oldest(self) -> Capture | None:
        """The oldest spooled capture (None when empty); an unreadable entry is removed and skipped."""
        while self._entries:
            seq = self._entries[0][0]
            try:
                entry = SpoolEntry.model_validate_json((self.folder / f"{seq:012d}.json").read_bytes())
                jpeg = (self.folder / f"{seq:012d}.jpg").read_bytes()
                return Capture(container=entry.container, name=entry.name, record=entry.record, jpeg=jpeg)
            except (OSError, ValidationError, ValueError) as exc:
                logger.error("captures: spooled capture %d unreadable, removed: %s", seq, exc)
                self.remove_oldest()
        return None

    def remove_oldest(self) -> None:
        """Delete the oldest entry's files; it leaves the spool's count once they are gone (one that waits for an
        empty spool, as ``CaptureWriter.wait_idle``, then finds no file)."""
        seq, size = self._entries[0]
        for suffix in (".json", ".jpg"):
            (self.folder / f"{seq:012d}{suffix}").unlink(missing_ok=True)
        self._entries.popleft()
        self.bytes -= size


