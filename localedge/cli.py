"""``python -m localedge``: the solution on a laptop and on the way to a device.

Each command lives with its concern and adds itself here (``add_parser`` setting ``func``):
``run`` and the commands that talk to a running runner (:mod:`localedge.runner`), ``genconfig``
(:mod:`localedge.deploy`), ``check-images`` and ``images build|push`` (:mod:`localedge.build`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from localedge.build import images, module_images
from localedge.deploy import commands as deploy_commands
from localedge.deploy.genconfig import GenerationError
from localedge.deploy.manifest import ManifestError
from localedge.runner import commands as runner_commands
from localedge.runner import metrics, run
from localedge.runner.captures import command as captures
from localedge.runner.routes import RouteError
from localedge.runner.run import RunnerError

logger = logging.getLogger("localedge")

COMMANDS = [run, runner_commands, deploy_commands, images, module_images, metrics, captures]  # each: add_parser(subparsers), setting func(args) -> exit code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localedge", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="localedge | %(message)s", stream=sys.stdout)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ManifestError, RouteError, RunnerError, GenerationError) as exc:
        logger.error("%s", exc)
        return 2
