"""An export is untrusted input: unpacking its zip safely, and keeping every file it names inside its folder.

A zip is unpacked within :class:`UnpackLimits` (a zip bomb is refused) and no file may lie outside the export
folder (absolute names, ``..``, symbolic links pointing out; in the zip, or named by ``cvexport.manifest``,
``model.json`` or any other side file: :func:`in_export`).
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from classifier.model import ModelLoadError

MIB = 1024 * 1024
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class UnpackLimits:
    """Caps on what an export zip may unpack to, so that a zip bomb cannot fill the disk.

    total_bytes: all files together, bytes; file_bytes: any one file, bytes; files: entries.
    The defaults are far above real exports (a compact export is 3-5 files of 5-50 MB).
    """

    total_bytes: int = 300 * MIB
    file_bytes: int = 200 * MIB
    files: int = 1000


DEFAULT_LIMITS = UnpackLimits()


def in_export(directory: Path, name: str) -> Path:
    """``directory / name``, refused (ModelLoadError) when it leaves the export folder: an absolute
    path, ``..``, or a symbolic link pointing out (a manifest must not serve a model from elsewhere)."""
    path = directory / name
    try:
        inside = path.resolve().is_relative_to(directory.resolve())
    except (OSError, ValueError):  # a loop of links, a NUL in the name
        inside = False
    if not inside:
        raise ModelLoadError(f"{name[:80]!r} in {directory} points outside the export folder: "
                             "an export names only its own files; use the files exactly as exported")
    return path


def _check_entries(entries: list[zipfile.ZipInfo], into: Path, limits: UnpackLimits) -> None:
    """Refuse a zip from its directory, before anything is written (see :func:`unpack_zip`)."""
    if len(entries) > limits.files:
        raise ModelLoadError(f"the export zip holds {len(entries)} files, more than {limits.files}: "
                             "it is not a Custom Vision export")
    root, declared = into.resolve(), 0
    for entry in entries:
        name = entry.filename[:80]
        if stat.S_ISLNK(entry.external_attr >> 16) or not (root / entry.filename).resolve().is_relative_to(root):
            raise ModelLoadError(f"the export zip holds {name!r}, a path or link leading outside its folder: "
                                 "zip the export's own files")
        if entry.flag_bits & 0x1:
            raise ModelLoadError(f"the export zip's {name!r} is encrypted: zip the export without a password")
        declared += entry.file_size
        _check_size(entry.file_size, declared, limits)


def _check_size(file_bytes: int, total_bytes: int, limits: UnpackLimits) -> None:
    if file_bytes > limits.file_bytes:
        raise ModelLoadError(f"the export zip holds a file of more than {limits.file_bytes // MIB} MiB unpacked: "
                             "it is not a Custom Vision export (a zip bomb?)")
    if total_bytes > limits.total_bytes:
        raise ModelLoadError(f"the export zip unpacks to more than {limits.total_bytes // MIB} MiB: "
                             "it is not a Custom Vision export (a zip bomb?)")


def unpack_zip(path: Path, into: Path, limits: UnpackLimits = DEFAULT_LIMITS) -> None:
    """Unpack the export zip at ``path`` into the existing folder ``into``, within ``limits``.

    Entries whose names leave ``into`` (absolute, ``..``: a zip slip), symbolic links and encrypted
    entries are refused; the entry count and declared sizes are checked before anything is
    written, and the bytes actually written are counted while unpacking (a zip's sizes may lie).
    Raises ModelLoadError; what was written by then stays in ``into``, for the caller to remove.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(entries, into, limits)
            total = 0
            for entry in entries:
                target = into / entry.filename
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with archive.open(entry) as source, target.open("wb") as out:
                    while chunk := source.read(CHUNK_BYTES):
                        size, total = size + len(chunk), total + len(chunk)
                        _check_size(size, total, limits)
                        out.write(chunk)
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise ModelLoadError(f"the export zip cannot be unpacked ({exc.__class__.__name__}: {str(exc)[:120]}): "
                             "download the export from Custom Vision again") from exc
