"""An export folder, as every flavour sees it: where it is, its manifest, and its model file opened in a runtime.

contract: docs/customvision.md sections 2 and 3. Which runtime runs an export follows from its model file
(``model.onnx``, ``model.tflite``, ``model.pb``, or ``cvexport.manifest``'s ``ModelFileName``, checked against
its SHA-1); the flavours (classifier.flavours) then read the rest of the folder. Every file is taken from inside
the folder (classifier.zipsafety.in_export).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.backends import BACKENDS, Backend, RuntimeMissing
from classifier.model import ModelLoadError, read_json
from classifier.zipsafety import in_export

MANIFEST_FILE = "cvexport.manifest"


@dataclass(frozen=True)
class ExportFolder:
    """An export folder with its model opened: ``location`` as configured (a folder or a zip; the reported
    source), ``directory`` the folder holding the export (unpacked), ``manifest`` its ``cvexport.manifest`` ({}
    without one), ``model_path`` the model file opened as ``backend``."""

    location: str | Path
    directory: Path
    manifest: dict[str, Any]
    model_path: Path
    backend: Backend

    def has(self, name: str) -> bool:
        """Whether the folder holds the file ``name``."""
        return (self.directory / name).is_file()

    def file(self, name: str) -> Path:
        """The folder's file ``name``, refused (ModelLoadError) when it lies outside the folder."""
        return in_export(self.directory, name)

    def json(self, name: str) -> dict[str, Any]:
        """The folder's JSON object file ``name``; ModelLoadError when it is not one."""
        return read_json(self.file(name))

    def manifest_name(self, key: str, default: str) -> str:
        """The file name ``cvexport.manifest`` gives under ``key`` (``default`` when absent or empty)."""
        return manifest_name(self.manifest, key, default)


def export_root(directory: Path) -> Path:
    """The folder holding the export: ``directory`` itself, or else the shallowest folder in it
    with a model file (an export zip may wrap its files in a folder)."""
    if (directory / MANIFEST_FILE).is_file() or any((directory / f"model{s}").is_file() for s in BACKENDS):
        return directory
    inner = sorted({p.parent for suffix in BACKENDS for p in directory.rglob(f"*{suffix}")}, key=lambda p: len(p.parts))
    return inner[0] if inner else directory


def manifest_name(manifest: dict[str, Any], key: str, default: str) -> str:
    """The file name ``cvexport.manifest`` gives under ``key`` (``default`` when absent or empty)."""
    value = manifest.get(key) or default
    if not isinstance(value, str) or len(value) > 255 or "\0" in value:
        raise ModelLoadError(f"{MANIFEST_FILE}'s {key} is not a file name: restore the manifest from the original export")
    return value


def file_sha1(path: Path) -> str:
    """The SHA-1 of a file as 40 hex digits (``cvexport.manifest``'s ``ModelFileSHA1``), read in chunks."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha1").hexdigest()


def _vouched(directory: Path, name: str, expected: Any, what: str) -> Path:
    """``directory / name`` after checking it is the file the manifest describes: present, and with the SHA-1 the
    manifest gives (when it gives one). Raises ModelLoadError in one line: which file, expected and actual hash."""
    path = in_export(directory, name)
    if not path.is_file():
        raise ModelLoadError(f"{MANIFEST_FILE} in {directory} names {what} {name}, which is not there: the folder holds "
                             "files of another export; unzip your export into an empty folder")
    if expected:
        actual = file_sha1(path)
        if actual != str(expected).strip().lower():
            raise ModelLoadError(f"{path} is not the model {MANIFEST_FILE} describes: {what} SHA-1 {str(expected)[:40]} "
                                 f"expected, the file's is {actual}; the folder mixes two exports: unzip your export "
                                 "into an empty folder")
    return path


def _open_backend(directory: Path, manifest: dict[str, Any], threads: int) -> tuple[Path, Backend]:
    """The first model file of the export whose runtime is installed, opened.

    With a ``cvexport.manifest`` naming its model (``ModelFileName``), only that file is the export's model, checked
    against ``ModelFileSHA1``; a model of another flavour beside it is used (on a platform without the named one's
    runtime) only when the manifest lists it with its SHA-1 under ``AlternateModelFiles`` (``make convert-model`` and
    the demo write it): a leftover of another export is never served. Without a manifest: the first of
    ``model.onnx``, ``model.tflite``, ``model.pb`` whose runtime is installed."""
    if manifest.get("ModelFileName"):
        named = manifest_name(manifest, "ModelFileName", "")
        if Path(named).suffix not in BACKENDS:
            raise ModelLoadError(f"{MANIFEST_FILE}'s ModelFileName {named[:80]!r} is not a model.onnx, model.tflite or "
                                 "model.pb: restore the manifest from the original export")
        alternates = manifest.get("AlternateModelFiles") or {}
        if not isinstance(alternates, dict):
            raise ModelLoadError(f"{MANIFEST_FILE}'s AlternateModelFiles is not an object of file name: SHA-1")
        pending = [(named, manifest.get("ModelFileSHA1"), "ModelFileName")]
        pending += [(manifest_name({"name": name}, "name", ""), sha1, "AlternateModelFiles")
                    for name, sha1 in alternates.items() if Path(str(name)).suffix in BACKENDS and name != named]
        candidates = [(name, sha1, what) for name, sha1, what in pending  # an alternate not shipped: not a candidate
                      if what == "ModelFileName" or (directory / name).is_file()]
    else:
        candidates = [(f"model{s}", None, "") for s in BACKENDS if (directory / f"model{s}").is_file()]
        if not candidates:
            raise ModelLoadError(f"no model.onnx, model.tflite or model.pb in {directory}: "
                                 "put your Custom Vision export (the model file and labels.txt) there")
    missing: list[RuntimeMissing] = []
    for name, sha1, what in candidates:
        path = _vouched(directory, name, sha1, what) if what else in_export(directory, name)
        try:
            return path, BACKENDS[path.suffix](path, threads)
        except RuntimeMissing as exc:
            missing.append(exc)
        except Exception as exc:  # noqa: BLE001 - each runtime raises its own unrelated types
            raise load_failure(path, exc) from exc
    raise ModelLoadError(str(missing[0]))


def open_folder(location: str | Path, directory: Path, threads: int) -> ExportFolder:
    """The export in ``directory`` (found at ``location``) with its model file opened (``threads`` per inference)."""
    manifest = read_json(in_export(directory, MANIFEST_FILE)) if (directory / MANIFEST_FILE).is_file() else {}
    model_path, backend = _open_backend(directory, manifest, threads)
    return ExportFolder(location, directory, manifest, model_path, backend)


def load_failure(path: Path, exc: Exception) -> ModelLoadError:
    """A runtime's failure to open or run the model at ``path``, as one sentence saying what to do."""
    text = (str(exc).replace(str(path), path.name).strip().splitlines() or [exc.__class__.__name__])[0][:200]
    legacy_op = re.search(r"implementation for \w+\(([1-6])\)", str(exc))  # an operator of opset 1-6
    if path.suffix == ".onnx" and ("INVALID_GRAPH" in str(exc) or "opset" in str(exc).lower() or legacy_op):
        return ModelLoadError(f"{path} is a legacy ONNX export that current ONNX Runtime cannot run: "
                              "re-export the model from Custom Vision as ONNX or TensorFlow Lite")
    kind = {".onnx": "ONNX model", ".tflite": "TensorFlow Lite model", ".pb": "TensorFlow frozen graph"}[path.suffix]
    return ModelLoadError(f"{path} is not a loadable {kind} ({text}): export it again from Custom Vision")
