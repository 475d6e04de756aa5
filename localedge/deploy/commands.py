"""``python -m localedge genconfig``: the deployable manifest for a platform (or a base and a layered
deployment), generated from a deployment template and validated."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.commandline import add_command
from localedge.deploy.genconfig import DEFAULT_PLATFORM
from localedge.deploy.manifest import load_variables

logger = logging.getLogger("localedge")


def genconfig(args: argparse.Namespace) -> int:
    """Generate config/deployment.<platform>.json and validate it; 0 when it can be deployed."""
    from localedge.deploy.genconfig import default_template, generate, output_path, write
    from localedge.deploy.validation import validate

    template = Path(args.file) if args.file else default_template(args.platform)
    variables = load_variables(Path(args.env_file), os.environ)
    if args.layered:
        return _genconfig_layered(args, template, variables)
    manifest = generate(template, args.platform, variables, ROOT)
    problems = validate(manifest, template, args.platform, ROOT, Path(args.schema_dir) if args.schema_dir else None)
    if len(problems) == 1:
        logger.error("%s; nothing written", problems[0])
    elif problems:
        for problem in problems:
            logger.error("%s", problem)
        logger.error("%d problem(s); nothing written", len(problems))
    if problems:
        return 2  # nothing written: as a generation error, and as `make config` exits
    target = output_path(Path(args.output_dir), args.platform)
    write(manifest, target)
    logger.info("wrote %s (valid): deploy it with az iot edge set-modules --content %s", target, target)
    return 0


def _genconfig_layered(args: argparse.Namespace, template: Path, variables: Mapping[str, str]) -> int:
    """The base and layered deployments and the layer's metrics, validated; prints the az commands that create them."""
    from localedge.deploy.layered import write_layered

    options = {key: getattr(args, key) for key in ("deployment_id", "base_deployment_id", "target_condition",
                                                   "base_target_condition", "priority", "base_priority", "model_sha256")}
    problems, commands = write_layered(template, args.platform, variables, ROOT, Path(args.output_dir),
                                       Path(args.schema_dir) if args.schema_dir else None, options)
    for problem in problems:
        logger.error("%s", problem)
    if problems:
        logger.error("%d problem(s); nothing written", len(problems))
        return 2
    logger.info("wrote the base and layered deployments and the metrics (valid); create them with:")
    for command in commands:
        logger.info("  %s", command)
    return 0


def add_parser(commands: Any) -> None:
    """The ``genconfig`` command's arguments."""
    gen = add_command(
        commands, "genconfig", "generate and validate config/deployment.<platform>.json from a template",
        "Generate the deployable manifest for a platform from its deployment template and .env, validate it (schemas, "
        "routes, images, createOptions, secrets, Blob Storage) and write it only when it is valid (exit 2 and nothing "
        "written otherwise).",
        ["python -m localedge genconfig -P arm32v7", "python -m localedge genconfig -P amd64 --output-dir config",
         "python -m localedge genconfig --layered -P arm64v8 --target-condition \"tags.environment='prod'\""])
    gen.add_argument("-f", "--file", help="deployment template (default: the platform's, deployment.arm32v7.template.json "
                     "for arm32v7, else deployment.template.json)")
    gen.add_argument("-P", "--platform", default=DEFAULT_PLATFORM, help="amd64, arm64v8 or arm32v7 (default: %(default)s)")
    gen.add_argument("--env-file", default=".env", help="variables for $VAR substitution (default: %(default)s)")
    gen.add_argument("--output-dir", default="config", help="where the manifest is written (default: %(default)s)")
    gen.add_argument("--schema-dir", help="folder with the SchemaStore IoT Edge schemas (default: the copy in "
                     "localedge/deploy/schemas), or `online` for SchemaStore's newest")
    fleet = gen.add_argument_group("--layered", "a base and a layered deployment for az iot edge deployment create "
                                   "(defaults: .env FLEET_*, else per platform)")
    fleet.add_argument("--layered", action="store_true", help="write config/deployment.{base,layered}.<platform>.json "
                       "and config/deployment.layered.<platform>.metrics.json")
    fleet.add_argument("--target-condition", help="the layer's, e.g. \"tags.environment='prod' AND tags.platform='arm32v7'\"")
    fleet.add_argument("--priority", help="the layer's (default 10; above the base's)")
    fleet.add_argument("--deployment-id", help="the layer's id, used in its metrics (default vision-<platform>)")
    fleet.add_argument("--base-target-condition", help="the base's (default tags.platform='<platform>')")
    fleet.add_argument("--base-priority", help="the base's (default 0)")
    fleet.add_argument("--base-deployment-id", help="the base's id (default base-<platform>)")
    fleet.add_argument("--model-sha256", help="the model the modelServed metric counts (default: the bundled model's)")
    gen.set_defaults(func=genconfig)
