"""The ``captures`` command line: ``list``, ``export`` and ``upload`` (see :mod:`localedge.runner.captures` for what
each does and the exit codes), over the sources (:mod:`~localedge.runner.captures.sources`), the review folder
(:mod:`~localedge.runner.captures.review`), Custom Vision (:mod:`~localedge.runner.captures.customvision`) and
Azure ML (:mod:`localedge.runner.azureml`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from localedge.commandline import add_command
from localedge.deploy.manifest import load_variables
from localedge.runner import azureml
from localedge.runner.captures import CapturesError, customvision
from localedge.runner.captures.review import check_new_folder, export_captures, review_pictures
from localedge.runner.captures.sources import DEFAULT_MAX, BlobSource, Capture, FolderSource, Scan, Source, scan, summary
from localedge.runner.discovery import running_states, state_dir

logger = logging.getLogger("localedge")

DEVICE_API_VERSION = "2019-07-07"  # what CameraCapture speaks to the Blob Storage on IoT Edge module


# ---- settings: .env and the command line ---------------------------------------------------------------------------

def _variables(args: argparse.Namespace) -> dict[str, str]:
    return load_variables(Path(args.env_file), os.environ)


def open_source(args: argparse.Namespace) -> Source:
    """The source the arguments name: ``--dir``, else a connection string: ``--connection-string``, else
    CAPTURES_CONNECTION_STRING (.env or the environment), else the Azurite of a running local runner (its
    state file, :mod:`localedge.runner.discovery`), else BLOB_UPLOAD_CONNECTION_STRING."""
    if args.dir:
        return FolderSource(Path(args.dir))
    variables = _variables(args)
    local = next((text for state in running_states(state_dir()) for text in (state.get("blob") or {}).values()), "")
    text = args.connection_string or variables.get("CAPTURES_CONNECTION_STRING") or local or \
        variables.get("BLOB_UPLOAD_CONNECTION_STRING") or ""
    if not text.strip():
        raise CapturesError("no storage to read: pass --dir FOLDER, run `python -m localedge run` (its Azurite), or set "
                            "CAPTURES_CONNECTION_STRING in .env (the storage account captures are uploaded to)")
    return BlobSource(text.strip(), args.container or [], args.api_version)


def _scan_source(args: argparse.Namespace) -> tuple[Source, Scan]:
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

    source = open_source(args)
    try:
        found = scan(source, args.max)
    except ClientAuthenticationError:
        raise CapturesError(f"{source.description}: the account key or SAS was refused; check the connection "
                            "string") from None
    except HttpResponseError as exc:
        raise CapturesError(f"{source.description}: {exc.status_code} {exc.reason}") from None
    except AzureError as exc:
        raise CapturesError(f"{source.description} is out of reach ({type(exc).__name__}); is it running?") from None
    except OSError as exc:
        raise CapturesError(f"{source.description}: {exc.strerror or exc}") from None
    if not getattr(args, "json", False):  # --json: all of it in the document, so stdout stays one JSON document
        if found.truncated:
            logger.warning("more than %d captures: only the first %d were read (--max)", args.max, args.max)
        for reason, count in found.skipped.items():
            logger.warning("skipped %d: %s", count, reason)
    return source, found


def _filtered(captures: Sequence[Capture], args: argparse.Namespace) -> list[Capture]:
    tags = {t.lower() for t in (args.tag or [])}
    reasons = set(args.reason or [])
    return [c for c in captures if (not tags or (c.tag or "(none)").lower() in tags) and
            (not reasons or c.sidecar.reason in reasons) and
            (args.since is None or c.sidecar.day >= args.since.isoformat()) and
            (args.until is None or c.sidecar.day <= args.until.isoformat())]


# ---- list ------------------------------------------------------------------------------------------------------------

def list_captures(args: argparse.Namespace) -> int:
    """Print the captures' counts by tag, reason and day (``--json``: as JSON)."""
    source, found = _scan_source(args)
    captures = _filtered(found.captures, args)
    counts = summary(captures)
    if args.json:
        print(json.dumps({"source": source.description, "captures": len(captures), **counts,
                          "skipped": dict(found.skipped), "truncated": found.truncated}, indent=2))
        return 0
    print(f"{len(captures)} capture(s) in {source.description}")
    for title, key in (("by tag", "byTag"), ("by reason", "byReason"), ("by day", "byDay")):
        if counts[key]:
            width = max(len(name) for name in counts[key])
            print(f"{title}:")
            for name, count in counts[key].items():
                print(f"  {name:<{width}}  {count:>6}")
    return 0


# ---- export ----------------------------------------------------------------------------------------------------------

def export(args: argparse.Namespace) -> int:
    """Write the captures (filtered by --tag, --reason, --since, --until) into a new review folder
    (:func:`~localedge.runner.captures.review.export_captures`); ``--format azureml``: and its Azure ML dataset."""
    out = Path(args.folder)
    check_new_folder(out)
    source, found = _scan_source(args)
    failed = export_captures(out, source, _filtered(found.captures, args))
    if args.format == "azureml":  # the same review folder, and the Azure ML dataset of it (localedge/runner/azureml.py)
        azureml.export(args, out, review_pictures(out))
    return 1 if failed else 0


# ---- upload ----------------------------------------------------------------------------------------------------------

def upload(args: argparse.Namespace, sleep: Any = time.sleep) -> int:
    """Upload an exported folder's pictures to the training project, tagged by their folder
    (:func:`~localedge.runner.captures.customvision.upload`); ``--to azureml``: to the Azure ML datastore instead
    (:func:`localedge.runner.azureml.upload`)."""
    folder = Path(args.folder)
    pictures = review_pictures(folder)
    if args.to == "azureml":
        return azureml.upload(args, pictures, sleep)
    return customvision.upload(folder, pictures, _variables(args), sleep)


# ---- the command line ------------------------------------------------------------------------------------------------

def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a day as YYYY-MM-DD") from None


def _positive(text: str) -> int:
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write a whole number, 1 or more")
    return int(text)


def _run(function: Any) -> Any:
    def command(args: argparse.Namespace) -> int:
        try:
            return int(function(args))
        except (CapturesError, azureml.AzuremlError) as exc:
            logger.error("%s", exc)
            return 2
    return command


def add_parser(commands: Any) -> None:
    """The ``captures`` command and its ``list``, ``export`` and ``upload`` subcommands."""
    formatter = argparse.RawDescriptionHelpFormatter
    captures = add_command(
        commands, "captures", "list, export for review and upload to Custom Vision the frames CameraCapture kept",
        "The frames CameraCapture kept for retraining (capture is switched on through the module twin). Without a "
        "subcommand: list.",
        ["python -m localedge captures list", "python -m localedge captures export review/",
         "python -m localedge captures upload review/"])
    sub = captures.add_subparsers(dest="captures_command", metavar="{list,export,upload}")  # none: list

    def source_options(parser: argparse.ArgumentParser) -> None:
        where = parser.add_argument_group("where the captures are (default: CAPTURES_CONNECTION_STRING from .env or the "
                                          "environment, else the Azurite of a running local runner, else "
                                          "BLOB_UPLOAD_CONNECTION_STRING)")
        where.add_argument("--connection-string", help="a storage connection string (prefer .env: a command line is "
                           "visible to other users of the machine)")
        where.add_argument("--container", action="append", help="read only this container (repeatable; default: all)")
        where.add_argument("--dir", help="read a folder of <name>.jpg + <name>.json instead of a storage account")
        where.add_argument("--api-version", help="the Blob REST API version to speak (default: the SDK's newest; "
                           f"{DEVICE_API_VERSION} to read a device's Blob Storage on IoT Edge module directly)")
        where.add_argument("--env-file", default=".env", help="variables (default: %(default)s, if present)")
        which = parser.add_argument_group("which captures")
        which.add_argument("--tag", action="append", help="only this predicted tag (repeatable; (none) for no tag)")
        which.add_argument("--reason", action="append", help="only this reason: uncertain, change, sample... (repeatable)")
        which.add_argument("--since", type=_day, help="only captures from this day on (YYYY-MM-DD, UTC)")
        which.add_argument("--until", type=_day, help="only captures up to this day (YYYY-MM-DD, UTC)")
        which.add_argument("--max", type=_positive, default=DEFAULT_MAX, help="read at most this many (default: %(default)s)")

    listing = add_command(sub, "list", "counts by predicted tag, reason and day", None,
                          ["python -m localedge captures list", "python -m localedge captures list --dir captures/ --json",
                           "python -m localedge captures list --container checkout-pi-captures --since 2026-11-01"])
    source_options(listing)
    listing.add_argument("--json", action="store_true", help="print the counts as JSON")
    listing.set_defaults(func=_run(list_captures))
    captures.set_defaults(func=lambda _args: _run(list_captures)(listing.parse_args([])))  # `captures` alone lists

    exporting = sub.add_parser("export", help="copy the captures into a folder to review, grouped by the tag the model "
                               "gave at its threshold", formatter_class=formatter,
                               epilog="FOLDER/<tag>/<name>.jpg + <name>.json (_untagged: no tag reached the threshold),"
                                      "\nFOLDER/index.csv and index.json. Move a "
                                      "picture (and its .json)\nto another tag's folder to relabel it, delete it to leave "
                                      "it out.\n\nexamples:\n  python -m localedge captures export review/\n"
                                      "  python -m localedge captures export review/ --reason uncertain --since 2026-11-28")
    exporting.add_argument("folder", help="a new (or empty) folder")
    exporting.add_argument("--format", choices=["review", "azureml"], default="review", help="azureml: also "
                           "FOLDER/azureml/train/annotations.jsonl and MLTable, an Azure ML AutoML image dataset")
    source_options(exporting)
    azureml.add_options(exporting, uploading=False)
    exporting.set_defaults(func=_run(export))

    uploading = sub.add_parser("upload", help="upload a reviewed export to a Custom Vision training project, or to "
                               "Azure Machine Learning (--to azureml)",
                               formatter_class=formatter,
                               epilog="Needs CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY and "
                                      "CUSTOM_VISION_PROJECT_ID in .env.\nEach picture is tagged with its folder's tag "
                                      "(none in _untagged); missing tags are created.\n\nexample:\n"
                                      "  python -m localedge captures upload review/\n"
                                      "  python -m localedge captures upload review/ --to azureml --task multiclass\n"
                                      "Azure ML needs AZUREML_STORAGE_CONNECTION_STRING and AZUREML_CONTAINER (the "
                                      "datastore's).")
    uploading.add_argument("folder", help="a folder written by captures export (and reviewed)")
    uploading.add_argument("--env-file", default=".env", help="variables (default: %(default)s, if present)")
    uploading.add_argument("--to", choices=["customvision", "azureml"], default="customvision", help="azureml: the "
                           "pictures and the dataset to the Azure ML workspace's blob datastore, and the AutoML job's YAML")
    azureml.add_options(uploading, uploading=True)
    uploading.set_defaults(func=_run(upload))

