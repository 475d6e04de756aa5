"""Reading a deployment template the way the IoT Edge tooling expands it, for the local runner.

contract: docs/iotedge.md "Tooling conventions" and "Manifest essentials". ``$VAR`` / ``${VAR}``
are replaced from ``.env`` and the process environment (only variables that exist, as the
tooling does, so ``$upstream`` and ``$edgeAgent`` survive); ``${MODULES.<Folder>[.<platform>]}``
names the module folder under ``modules/`` that the runner starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from jsonschema import Draft4Validator

from localedge.deploy.checks import RUNNER_SCHEMA, name_problems, port_problems, schema_problems

MAX_TEMPLATE_BYTES = 4 * 1024 * 1024  # a template larger than this is refused unread (IoT Hub takes 512 KB of modulesContent)
MAX_DEPTH = 64  # JSON nesting a template may have (IoT Hub allows 10 levels in desired properties)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
MODULE_IMAGE = re.compile(r"^\$\{MODULES\.([^.}]+)(?:\.([^}]+))?\}$")


class ManifestError(ValueError):
    """The deployment template cannot be run; the message names the file, the JSON path and the fix."""


@dataclass
class ModuleSpec:
    """One custom module of the manifest: ``folder`` is modules/<Folder> when it is built from this solution."""

    name: str
    folder: str | None
    image: str
    env: dict[str, str]
    status: str = "running"
    restart_policy: str = "always"
    startup_order: int = 200
    desired: dict[str, Any] = field(default_factory=dict)
    binds: list[str] = field(default_factory=list)  # createOptions HostConfig.Binds: "<volume or host path>:<container path>[:ro]"
    create_options: dict[str, Any] = field(default_factory=dict)  # settings.createOptions as an object
    platform: str | None = None  # ``${MODULES.<Folder>.<platform>}``: the platform the template names, if any


DEFAULT_TIME_TO_LIVE_S = 7200
"""edgeHub's ``storeAndForwardConfiguration.timeToLiveSecs`` when the manifest gives none."""


@dataclass
class Manifest:
    """The parts of a deployment manifest the local runner needs. ``routes``: each route's value as written,
    a string or ``{"route": ..., "priority": ..., "timeToLiveSecs": ...}`` (both read by
    :func:`~localedge.runner.routes.parse_route`). ``time_to_live_s``: how long, in seconds, edgeHub keeps an
    upstream message while IoT Hub is unreachable, for routes that do not give their own."""

    path: Path
    modules: dict[str, ModuleSpec]
    routes: dict[str, str | dict[str, Any]]
    time_to_live_s: int = DEFAULT_TIME_TO_LIVE_S


def load_variables(env_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """Variables for substitution: ``.env`` (when it exists), overridden by the process environment."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v or "" for k, v in dotenv_values(env_file).items()})
    values.update(environ)
    return values


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """Replace each ``$VAR`` / ``${VAR}`` that is defined in ``variables``; leave the others as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables[name] if name in variables else match.group(0)

    return VARIABLE.sub(replace, text)


def unresolved(text: str) -> list[str]:
    """Names of ``$VAR`` / ``${VAR}`` references still in ``text``."""
    return [m.group(1) or m.group(2) for m in VARIABLE.finditer(text)]


def expand(node: Any, variables: Mapping[str, str], image: Callable[[re.Match[str]], str] | None = None) -> Any:
    """``node`` with variables substituted in every string; a ``${MODULES...}`` placeholder is kept,
    or replaced by ``image(match)`` when given (the generator names the built image)."""
    if isinstance(node, str):
        match = MODULE_IMAGE.match(node)
        if match:
            return image(match) if image is not None else node
        return substitute(node, variables)
    if isinstance(node, list):
        return [expand(item, variables, image) for item in node]
    if isinstance(node, dict):
        return {key: expand(value, variables, image) for key, value in node.items()}
    return node


def read_template(path: Path) -> dict[str, Any]:
    """The template's JSON as written; raises ManifestError when it cannot be read or parsed, is larger than
    :data:`MAX_TEMPLATE_BYTES` (read no further) or nested deeper than :data:`MAX_DEPTH`."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the deployment template ({exc.strerror})") from exc
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ManifestError(f"{path}: larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB; a deployment template is a "
                            "JSON file of a few KB")
    try:
        document = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ManifestError(f"{path}: JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise ManifestError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: a deployment template is a JSON object with modulesContent")
    if json_depth(document) > MAX_DEPTH:
        raise ManifestError(f"{path}: JSON nested deeper than {MAX_DEPTH} levels")
    return document


def json_depth(node: Any) -> int:
    """How deeply ``node`` nests objects and arrays (iteratively: any depth json.loads gave)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check(document: dict[str, Any], path: Path) -> None:
    """Raise ManifestError with the first problem the runner would meet in an expanded template:
    :data:`~localedge.deploy.checks.RUNNER_SCHEMA` (types and values of what it reads) and the modules' ports."""
    problems = schema_problems(Draft4Validator(RUNNER_SCHEMA), document, str(path))
    if not problems:
        agent = document["modulesContent"]["$edgeAgent"]["properties.desired"]
        own = [name for name, spec in agent["modules"].items() if MODULE_IMAGE.match(spec.get("settings", {}).get("image", ""))]
        problems = name_problems(document["modulesContent"], str(path)) or port_problems(document["modulesContent"], str(path), own)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ManifestError(f"{problems[0]}{more}")


def create_options(value: Any) -> dict[str, Any]:
    """A module's createOptions as an object (an object in templates, a JSON string once generated); {} if neither."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _binds(value: Any) -> list[str]:
    """``HostConfig.Binds`` of a module's createOptions."""
    host = create_options(value).get("HostConfig")
    binds = host.get("Binds") if isinstance(host, dict) else None
    return [str(b) for b in binds] if isinstance(binds, list) else []


def load_manifest(path: Path, variables: Mapping[str, str]) -> Manifest:
    """Parse, expand and check a deployment template; raises ManifestError naming the file, the JSON path and the fix."""
    document = expand(read_template(path), variables)
    check(document, path)
    content = document["modulesContent"]
    modules: dict[str, ModuleSpec] = {}
    for name, spec in content["$edgeAgent"]["properties.desired"]["modules"].items():
        image = str(spec.get("settings", {}).get("image", ""))
        folder_match = MODULE_IMAGE.match(image)
        env = {key: str(value["value"]) for key, value in (spec.get("env") or {}).items()}
        modules[name] = ModuleSpec(
            name=name,
            folder=folder_match.group(1) if folder_match else None,
            image=image,
            env=env,
            status=str(spec.get("status", "running")),
            restart_policy=str(spec.get("restartPolicy", "always")),
            startup_order=int(spec.get("startupOrder", 200)),
            desired=dict(content.get(name, {}).get("properties.desired", {})),
            binds=_binds(spec.get("settings", {}).get("createOptions")),
            create_options=create_options(spec.get("settings", {}).get("createOptions")),
            platform=folder_match.group(2) if folder_match else None,
        )
    hub = content["$edgeHub"]["properties.desired"]
    routes = {name: (dict(r) if isinstance(r, dict) else str(r)) for name, r in hub.get("routes", {}).items()}
    ttl = hub.get("storeAndForwardConfiguration", {}).get("timeToLiveSecs", DEFAULT_TIME_TO_LIVE_S)
    return Manifest(path=path, modules=modules, routes=routes, time_to_live_s=int(ttl))
