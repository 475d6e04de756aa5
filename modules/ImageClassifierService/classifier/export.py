"""Loading an export, from a folder or a zip, into a served :class:`classifier.model.Model`.

contract: docs/customvision.md sections 2, 3 and 6. The zip is unpacked safely (classifier.zipsafety), the model
file found and opened in its runtime (classifier.folder), and the first flavour of the registry
(classifier.flavours) that recognises the folder loads it: Custom Vision classifiers and detectors, Azure ML
AutoML exports, models of your own described by ``model.json``.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from classifier.flavours import flavour_of
from classifier.folder import export_root, open_folder
from classifier.model import Model, ModelLoadError
from classifier.zipsafety import DEFAULT_LIMITS, UnpackLimits, unpack_zip

CustomVisionModel = Model  # what load() returns, under the name callers knew before the registry (any flavour)

__all__ = ["CustomVisionModel", "ModelLoadError", "load"]


def _unpack(path: Path, into: Path, limits: UnpackLimits) -> Path:
    """The export folder at ``path``, or inside the zip at ``path`` once unpacked into ``into``."""
    if path.is_dir():
        return export_root(path)
    if path.is_file() and zipfile.is_zipfile(path):
        unpack_zip(path, into, limits)
        return export_root(into)
    if path.is_file():
        raise ModelLoadError(f"{path} is not a zip: point MODEL_DIR at the export folder or the export's zip")
    raise ModelLoadError(f"model location {path} does not exist: set MODEL_DIR to the folder (or zip) of your export")


def load(location: str | Path, threads: int = 0, limits: UnpackLimits = DEFAULT_LIMITS) -> Model:
    """Load and warm up the export at ``location`` (a folder or a zip).

    threads: inference threads per call, 0 for the runtime's default (one per core); limits:
    caps on unpacking a zip (see :func:`classifier.zipsafety.unpack_zip`).
    Raises ModelLoadError, with one sentence saying what is wrong and what to do.
    """
    # A zip is unpacked for the runtime to read, then removed, loaded or not: every runtime holds
    # the model in memory once loaded, and a restarting container would otherwise keep a copy per start.
    with tempfile.TemporaryDirectory(prefix="cvexport-") as unpacked:
        folder = open_folder(location, _unpack(Path(location), Path(unpacked), limits), threads)
        return flavour_of(folder).load(folder)
