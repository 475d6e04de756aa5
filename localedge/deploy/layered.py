"""Layered deployments (``python -m localedge genconfig --layered``): the full manifest split into a base and a
layer that carries Microsoft's metrics collector, validated as merged by IoT Hub, and written with its metrics
(the layering rules themselves: :mod:`localedge.deploy.layering`; the ids, conditions and priorities:
:mod:`localedge.deploy.fleet`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localedge.deploy.checks import Problem, schema_problems
from localedge.deploy.fleet import bundled_model_sha256, fleet_settings
from localedge.deploy.genconfig import generate, own_modules, stringify_create_options, write
from localedge.deploy.manifest import expand, read_template
from localedge.deploy.validation import public_schema_problems, validate


def generate_layered(template: Path, platform: str, variables: Mapping[str, str], root: Path,
                     collector: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """(base, layer) for ``platform``, split from the full manifest :func:`generate` makes from ``template``;
    the layer also carries Microsoft's metrics collector (``collector``), scraping every module it deploys
    that serves metrics (this solution's; a marketplace module such as blob storage only with a METRICS_PORT env)."""
    from localedge.deploy.layering import COLLECTOR, collector_module, split

    base, layer = split(generate(template, platform, variables, root))
    if collector:
        agent = layer["modulesContent"]["$edgeAgent"]
        prefix = "properties.desired.modules."
        modules = {key[len(prefix):]: spec for key, spec in agent.items()}
        order = max([int(s.get("startupOrder", 0)) for s in modules.values() if isinstance(s, dict)] or [0]) + 1
        own = own_modules(read_template(template))  # this solution's modules serve metrics on METRICS_PORT; a
        scraped = {name: spec for name, spec in modules.items()  # marketplace one (blob storage) only if its env says so
                   if name in own or (isinstance(spec, dict) and "METRICS_PORT" in (spec.get("env") or {}))}
        spec = expand(collector_module(scraped, variables, order), variables)
        stringify_create_options(spec["settings"])
        agent[prefix + COLLECTOR] = spec
        if spec["env"]["UploadTarget"]["value"].lower() == "iotmessage":  # metrics as IoT messages, through edgeHub
            layer["modulesContent"]["$edgeHub"]["properties.desired.routes.MetricsToUpstream"] = {
                "route": f"FROM /messages/modules/{COLLECTOR}/outputs/metricOutput INTO $upstream",
                "priority": 0, "timeToLiveSecs": 7200}
    return base, layer


def validate_layered(base: dict[str, Any], layer: dict[str, Any], template: Path, platform: str, root: Path,
                     schema_dir: Path | None) -> list[Problem]:
    """Every problem of the base, of the layer's form, and of the base merged with the layer: the merged
    document passes every check a full manifest passes (:func:`localedge.deploy.manifest.check`'s and :func:`validate`'s)."""
    from jsonschema import Draft4Validator

    from localedge.deploy.checks import RUNNER_SCHEMA, port_problems
    from localedge.deploy.layering import COLLECTOR, collector_problems, layer_problems, merge

    file = str(template)
    merged = merge(base, [layer])
    agent = merged["modulesContent"]["$edgeAgent"]["properties.desired"]
    own = list(own_modules(read_template(template)))
    problems = [Problem(file, "layered deployment", text.removeprefix(f"{file}: ")) for text in layer_problems(layer, file)]
    problems += [Problem(file, f"base deployment: {p.path}", p.message) for p in public_schema_problems(base, schema_dir, file)]
    runner = schema_problems(Draft4Validator(RUNNER_SCHEMA), merged, file)  # what localedge.deploy.manifest.check refuses
    problems += runner or port_problems(merged["modulesContent"], file, own)
    problems += validate(merged, template, platform, root, schema_dir)
    if isinstance(agent["modules"].get(COLLECTOR), dict):
        problems += [Problem(file, "metrics collector", text.removeprefix(f"{file}: "))
                     for text in collector_problems(agent["modules"][COLLECTOR], file)]
    return list(dict.fromkeys(problems))


def layered_paths(config_dir: Path, platform: str) -> tuple[Path, Path, Path]:
    """config/deployment.base.<platform>.json, config/deployment.layered.<platform>.json and
    config/deployment.layered.<platform>.metrics.json: what ``az iot edge deployment create --content`` (base; layered with
    ``--layered``) and ``--metrics`` take."""
    return (config_dir / f"deployment.base.{platform}.json", config_dir / f"deployment.layered.{platform}.json",
            config_dir / f"deployment.layered.{platform}.metrics.json")



def write_layered(template: Path, platform: str, variables: Mapping[str, str], root: Path, config_dir: Path,
                  schema_dir: Path | None, options: Mapping[str, Any]) -> tuple[list[Problem], list[str]]:
    """Generate, validate and (when valid) write the base, the layer and its metrics; returns (problems, the
    ``az`` commands that create the two deployments). Nothing is written while there are problems."""
    from localedge.deploy.layering import COLLECTOR, metric_queries

    fleet = fleet_settings(options, variables, platform)
    base, layer = generate_layered(template, platform, variables, root)
    problems = validate_layered(base, layer, template, platform, root, schema_dir)
    if problems:
        return problems, []
    prefix = "properties.desired.modules."
    modules = [key[len(prefix):] for key in layer["modulesContent"]["$edgeAgent"]]
    desired_sha = str(layer["modulesContent"].get("ImageClassifierService", {}).get("properties.desired", {}).get("modelSha256", ""))
    sha = fleet["model_sha256"] or desired_sha or bundled_model_sha256(root, platform)
    base_path, layer_path, metrics_path = layered_paths(config_dir, platform)
    write(base, base_path)
    write(layer, layer_path)
    write(metric_queries(fleet["deployment_id"], [m for m in modules if m != COLLECTOR] + [COLLECTOR], sha), metrics_path)
    commands = [
        f"az iot edge deployment create --hub-name <hub> --deployment-id {fleet['base_deployment_id']} --content {base_path} "
        f"--target-condition \"{fleet['base_target_condition']}\" --priority {fleet['base_priority']}",
        f"az iot edge deployment create --hub-name <hub> --deployment-id {fleet['deployment_id']} --content {layer_path} "
        f"--layered --target-condition \"{fleet['target_condition']}\" --priority {fleet['priority']} --metrics {metrics_path}",
    ]
    return [], commands
