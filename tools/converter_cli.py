"""The command line both converters share (tools/convert_tf_export.py, tools/convert_onnx_export.py, run by
``make convert-model``): EXPORT, ``--out``, the converter's own options, ``--tolerance``; logging to stdout; exit
0 when converted, 1 with one line saying why not. Standard library only (it runs in either converter's venv)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import zipfile
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any


def package_version(package: str) -> str:
    """The installed version of ``package`` (what a converted export records of the tools that made it)."""
    return version(package)


def read_json_object(error: type[Exception], path: Path) -> dict[str, Any]:
    """The JSON object in the export's file ``path`` (UTF-8, a byte order mark allowed); {} when there is no such
    file. Raises ``error`` naming the file when it cannot be read, is not JSON or is not an object."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise error(f"{path} is not valid JSON ({exc}): restore it from the original export") from exc
    if not isinstance(data, dict):
        raise error(f"{path} is not a JSON object: restore it from the original export")
    return data


def find_export(error: type[Exception], location: Path, scratch: Path, file_name: str, kind: str, missing: str) -> Path:
    """The shallowest folder holding ``file_name`` in the export folder or zip ``location`` (a zip is unpacked
    into ``scratch``; so a Dockerfile export's ``app/`` is found). Raises ``error``: ``location`` is neither a
    folder nor a zip (``kind``: "ONNX", "TensorFlow"), or holds no ``file_name`` (``missing``: what to do)."""
    if location.is_file() and zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            archive.extractall(scratch)  # zipfile drops absolute paths and ".." from entry names
        location = scratch
    elif not location.is_dir():
        raise error(f"{location} is neither a folder nor a zip: give the {kind} export's zip or folder")
    found = sorted(location.rglob(file_name), key=lambda p: len(p.parts))
    if not found:
        raise error(f"no {file_name} in {location}: {missing}")
    return found[0].parent


def converter_main(argv: Sequence[str] | None, *, description: str, epilog: str, export_help: str, reference: str,
                   noisy: Sequence[str], convert: Callable[[Path, Path, argparse.Namespace], object],
                   errors: tuple[type[Exception], ...], logger: logging.Logger,
                   add_options: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Parse ``argv`` and run ``convert(export, out, args)``; the exit code.

    reference: what the converted model is compared with (named in ``--tolerance``'s help); noisy: loggers
    quietened to errors (the converters' progress lines); errors: the exceptions said in one line (exit 1), besides
    OSError; add_options: the converter's own options, between ``--out`` and ``--tolerance``. ``out`` defaults to
    EXPORT-converted beside the export.
    """
    parser = argparse.ArgumentParser(description=description, epilog=epilog)
    parser.add_argument("export", type=Path, help=export_help)
    parser.add_argument("--out", type=Path, help="folder to write the converted export to (default: EXPORT-converted)")
    if add_options is not None:
        add_options(parser)
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help=f"largest output difference from {reference} accepted (default 1e-4)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in noisy:
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices; read at its import
    location = args.export.expanduser()
    out = (args.out or location.with_name(f"{location.stem}-converted")).expanduser()
    try:
        convert(location, out, args)
    except (*errors, OSError) as exc:
        logger.error("cannot convert %s: %s", location, exc)
        return 1
    return 0
