"""Which converter an export needs, for ``make convert-model``: prints ``onnx`` or ``tensorflow``.

Standard library only (it runs before either converter's venv exists). ``tensorflow`` when the export
(folder or zip) holds a ``model.pb`` (a Custom Vision TensorFlow or Dockerfile export); ``onnx`` when it
holds a ``model.onnx`` and no ``model.pb`` (Custom Vision ONNX, Azure ML AutoML, a model of your own);
``tensorflow`` otherwise, whose converter then says what is missing.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def kind(location: Path) -> str:
    """``onnx`` or ``tensorflow`` for the export at ``location`` (see the module docstring)."""
    if location.is_file() and zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            names = {Path(name).name for name in archive.namelist()}
    elif location.is_dir():
        names = {path.name for path in location.rglob("model.*")}
    else:
        names = set()
    return "onnx" if "model.onnx" in names and "model.pb" not in names else "tensorflow"


if __name__ == "__main__":
    print(kind(Path(sys.argv[1]).expanduser()))
