"""The review folder: captures exported for a person to review (``captures export``), and the pictures of a
reviewed folder with the tag each is uploaded with (``captures upload``).

``FOLDER/<tag>/<name>.jpg`` with its ``.json`` sidecar, grouped by the tag the model gave at its threshold
(``_untagged`` when no tag reached it), ``index.csv`` (one row per capture) and ``index.json`` (the same, and
which folder stands for which tag). Moving a picture (with its sidecar) to another tag's folder, or to a new
folder named after a tag, relabels it; deleting it leaves it out of the upload.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from localedge.runner.captures import CapturesError
from localedge.runner.captures.sources import IMAGE_SUFFIXES, SIDECAR_MAX_BYTES, Capture, Sidecar, Source

logger = logging.getLogger("localedge")

IMAGE_MAX_BYTES = 16 * 1024 * 1024  # read for export at most; Custom Vision takes 6 MB
UNTAGGED = "_untagged"
_UNSAFE = re.compile(r"[^\w.-]+")


# ---- export ----------------------------------------------------------------------------------------------------------

def folder_name(tag: str | None) -> str:
    """A folder name for ``tag`` that is safe on every file system (``_untagged`` for none)."""
    if not tag:
        return UNTAGGED
    safe = _UNSAFE.sub("_", tag).strip("._") or "tag"
    return safe[:80] if safe != UNTAGGED else "untagged_"


def _file_name(key: str, used: set[str]) -> str:
    base = _UNSAFE.sub("_", key.replace("/", "_")).strip("._") or "capture"
    if len(base) > 120:
        base = f"{base[:100]}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


def check_new_folder(out: Path) -> None:
    """Raise CapturesError unless ``out`` is a new or empty folder: a review in progress is never overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CapturesError(f"{out}: exists and is not empty; export into a new folder (a review in progress is "
                            "never overwritten)")


def export_captures(out: Path, source: Source, captures: Sequence[Capture]) -> int:
    """Write ``captures`` (read from ``source``) into the review folder ``out`` (made when missing), with
    ``index.json`` and ``index.csv``; returns how many could not be read (each said in one line)."""
    out.mkdir(parents=True, exist_ok=True)
    folders: dict[str, str | None] = {}
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    failed = 0
    for capture in captures:
        folder = folder_name(capture.label)  # below the threshold: _untagged, whatever the best guess was
        folders.setdefault(folder, capture.label)
        suffix = Path(capture.image).suffix.lower() or ".jpg"
        try:
            image = source.read(capture.group, capture.image, IMAGE_MAX_BYTES)
        except (CapturesError, OSError) as exc:
            logger.warning("%s: not exported (%s)", capture.key, exc)
            failed += 1
            continue
        except Exception as exc:  # the SDK's errors: one line, and the export goes on
            logger.warning("%s: not exported (%s)", capture.key, type(exc).__name__)
            failed += 1
            continue
        stem = _file_name(capture.key, used)
        (out / folder).mkdir(exist_ok=True)
        (out / folder / f"{stem}{suffix}").write_bytes(image)
        (out / folder / f"{stem}.json").write_bytes(capture.sidecar_text)
        best = capture.sidecar.best
        rows.append({"file": f"{folder}/{stem}{suffix}", "tag": capture.label, "bestTag": capture.tag,
                     "probability": best.probability if best else None,
                     "reason": capture.sidecar.reason, "capturedAt": capture.sidecar.capturedAt.isoformat()
                     if capture.sidecar.capturedAt else None, "threshold": capture.sidecar.threshold,
                     "frameNumber": capture.sidecar.frameNumber, "modelSha256": capture.sidecar.modelSha256,
                     "modelFlavour": capture.sidecar.modelFlavour, "source": capture.key})
    index = {"exportedAt": datetime.now(timezone.utc).isoformat(), "source": source.description,
             "folders": {name: tag for name, tag in sorted(folders.items())}, "captures": rows}
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    with (out / "index.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else ["file"])
        writer.writeheader()
        writer.writerows(rows)
    logger.info("exported %d capture(s) into %s (%s); review them, move or delete pictures, then: "
                "python -m localedge captures upload %s", len(rows), out,
                ", ".join(f"{name} {sum(1 for r in rows if r['file'].startswith(name + '/'))}" for name in sorted(folders)),
                out)
    return failed


# ---- a reviewed folder -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    """A picture of a review folder: its path relative to the folder, and the tag it is uploaded with."""

    path: str
    tag: str | None
    size: int


def _exported_label(image: Path) -> str | None:
    """The tag at the threshold that the sidecar beside ``image`` records; None when there is none (or no sidecar)."""
    try:
        text = image.with_suffix(".json").read_bytes()[:SIDECAR_MAX_BYTES + 1]
        if len(text) > SIDECAR_MAX_BYTES:
            return None
        return Sidecar.model_validate_json(text).tag_at_threshold
    except (OSError, ValidationError):
        return None


def review_pictures(folder: Path) -> list[Picture]:
    """The pictures of an exported folder, each tagged by the folder it is in now: the tag ``index.json`` names for
    that folder, else the folder's own name (a folder a person added); ``_untagged``: none. A picture still where
    the export put it (its ``index.json`` row) keeps the tag the model gave at the threshold (its sidecar's), so a
    picture is only ever tagged with a tag the model gave or the folder a reviewer moved it to."""
    if not folder.is_dir():
        raise CapturesError(f"{folder}: no such folder; export captures first (python -m localedge captures export {folder})")
    names: dict[str, str | None] = {}
    exported: set[str] = set()
    index = folder / "index.json"
    if index.is_file():
        try:
            document = json.loads(index.read_text(encoding="utf-8"))
            names = dict(document.get("folders", {}))
            exported = {str(row["file"]) for row in document.get("captures", []) if isinstance(row, dict) and "file" in row}
        except (ValueError, AttributeError, TypeError):
            raise CapturesError(f"{index}: not the index an export writes; export again") from None
    pictures = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        tag = None if sub.name == UNTAGGED else names.get(sub.name, sub.name)
        for path in sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
            relative = f"{sub.name}/{path.name}"
            label = _exported_label(path) if relative in exported else tag  # not moved: the model's tag, if any
            if label != tag:
                logger.info("%s: not moved by a reviewer and below the model's threshold for %s: uploaded %s", relative,
                            tag, f"as {label}" if label else "untagged")
            pictures.append(Picture(relative, label, path.stat().st_size))
    return pictures


