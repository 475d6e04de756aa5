"""Checks shared by ``run`` and ``genconfig``: each finding is one line naming the file, the JSON path and the fix.

contract: docs/iotedge.md "Manifest essentials". JSON-schema errors become :class:`Problem` lines with a
fix per kind of error: :data:`RUNNER_SCHEMA` (what the runner and the generator read, typed as the public
schema types it, plus module twins that must be objects) on every template, the public SchemaStore schema
on generated manifests. :func:`port_problems` covers what no schema says: a module that others reach by
URL (``http://Module:80/...``) declares the TCP port it serves on in its ``PORT`` env (a ``/metrics`` URL on
the module's ``METRICS_PORT``, 9600 by default, is the metrics collector's and needs no ``PORT``).
The Azure Blob Storage on IoT Edge module's own rules are in :mod:`localedge.deploy.blob_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator, ValidationError
from jsonschema.exceptions import best_match

from edgekit.metrics import DEFAULT_PORT

AGENT_MODULES = "modulesContent.$edgeAgent.properties.desired.modules"
DEFAULT_METRICS_PORT = DEFAULT_PORT  # where a module serves its metrics unless its env says otherwise
_MODULE = {  # the fields the runner reads, constrained as the public azure-iot-edge-deployment-2.0 schema does
    "type": "object",
    "properties": {
        "status": {"enum": ["running", "stopped"]},
        "restartPolicy": {"enum": ["never", "on-failure", "on-unhealthy", "always"]},
        "startupOrder": {"type": "integer", "minimum": 0, "maximum": 4294967295},
        "env": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["value"], "properties": {"value": {"type": ["string", "number", "boolean"]}}}},
        "settings": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string"}}},
    },
}
RUNNER_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["modulesContent"],
    "properties": {"modulesContent": {
        "type": "object",
        "required": ["$edgeAgent", "$edgeHub"],
        "properties": {
            "$edgeAgent": {"type": "object", "required": ["properties.desired"], "properties": {"properties.desired": {
                "type": "object", "required": ["modules"],
                "properties": {"modules": {"type": "object", "additionalProperties": _MODULE}}}}},
            "$edgeHub": {"type": "object", "required": ["properties.desired"], "properties": {"properties.desired": {
                "type": "object", "properties": {
                    "routes": {"type": "object", "additionalProperties": {
                        "type": ["string", "object"], "required": ["route"], "additionalProperties": False, "properties": {
                            "route": {"type": "string"}, "priority": {"type": "integer", "minimum": 0, "maximum": 9},
                            "timeToLiveSecs": {"type": "integer", "minimum": 0, "maximum": 4294967295}}}},
                    "storeAndForwardConfiguration": {"type": "object", "properties": {
                        "timeToLiveSecs": {"type": "integer", "minimum": 0, "maximum": 4294967295}}}}}}},
        },
        "additionalProperties": {"type": "object", "properties": {"properties.desired": {"type": "object"}}},  # module twins
    }},
}
_TYPE_FIX = {"integer": "a whole number, e.g. 1", "number": "a number", "string": "a string in double quotes",
             "boolean": "true or false", "object": "a JSON object, e.g. {}", "array": "a JSON array, e.g. []", "null": "null"}


@dataclass(frozen=True)
class Problem:
    """One finding: where (file and JSON path), what, and how to fix it."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


def json_path(parts: Iterable[str | int]) -> str:
    """``modulesContent.$edgeAgent.properties.desired`` style path; ``[i]`` for list items, ``$`` for the root."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return text or "$"


def _fix(error: ValidationError) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "type":
        return "write " + " or ".join(_TYPE_FIX.get(t, t) for t in ([value] if isinstance(value, str) else value))
    if kind == "enum":
        return "use one of those"
    if kind == "required":
        return "add it (deployment.template.json shows the layout)"
    if kind == "additionalProperties":
        return "remove it or fix its spelling (names are case-sensitive)"
    if kind == "minimum":
        return f"use {value} or more"
    if kind == "maximum":
        return f"use {value} or less"
    if kind == "pattern":
        return f"match the pattern {value}"
    return "see the schema"


def schema_problems(validator: Draft4Validator, document: Any, file: str, source: str = "") -> list[Problem]:
    """Every error ``validator`` finds in ``document``, as Problems that say the fix; ``source`` names the schema."""
    errors = sorted((best_match(e.context) if e.context else e for e in validator.iter_errors(document)),  # anyOf: the closest
                    key=lambda e: list(map(str, e.absolute_path)))
    named = f" ({source})" if source else ""
    return [Problem(file, json_path(e.absolute_path), f"{e.message}{named}; {_fix(e)}") for e in errors]


def get_path(node: Any, *keys: str) -> Any:
    """``node[k1][k2]...``, or None where a key is missing or a node is not an object."""
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")


def _references(content: Mapping[str, Any], modules: Mapping[str, Any], name: str) -> Iterator[tuple[str, str, str | None]]:
    """(JSON path, URL, port or None) of each URL naming module ``name`` in another module's env or twin."""
    pattern = re.compile(rf"(?i)\w+://{re.escape(name)}(?::(\d+))?(?=[/?#]|$)")
    for other, spec in modules.items():
        if other == name or not isinstance(spec, dict):
            continue
        places = [(f"{AGENT_MODULES}.{other}.env", spec.get("env")),
                  (f"modulesContent.{other}.properties.desired", get_path(content, other, "properties.desired"))]
        for base, node in places:
            for path, value in _strings(node, base):
                for match in pattern.finditer(value):
                    if match.group(1) == metrics_port(modules, name) and value[match.end():].startswith("/metrics"):
                        continue  # the metrics collector scraping the module's METRICS_PORT, not its PORT
                    yield path, match.group(0), match.group(1)


def metrics_port(modules: Mapping[str, Any], name: str) -> str:
    """The port module ``name`` serves Prometheus metrics on: its ``METRICS_PORT`` env, else 9600 (the port
    edgeHub and edgeAgent use, and the default of this solution's modules); "0" when it serves none."""
    entry = get_path(modules, name, "env", "METRICS_PORT")
    return str(entry.get("value", DEFAULT_METRICS_PORT)) if isinstance(entry, dict) else str(DEFAULT_METRICS_PORT)


def port_problems(content: Mapping[str, Any], file: str, own: Collection[str]) -> list[Problem]:
    """For each module of ``own`` (built from modules/, so it reads ``PORT``): a ``PORT`` env value that is not
    a TCP port, no ``PORT`` although another module reaches it by URL, a URL port that differs from its ``PORT``.
    ``content`` is the manifest's ``modulesContent``; wrong types elsewhere are left to the schema."""
    modules = get_path(content, "$edgeAgent", "properties.desired", "modules")
    if not isinstance(modules, dict):
        return []
    problems = []
    for name in [n for n in modules if n in own]:
        entry = get_path(modules, name, "env", "PORT")
        port = str(entry.get("value", "")) if isinstance(entry, dict) else None
        if port is not None and not (re.fullmatch(r"[0-9]{1,5}", port) and 1 <= int(port) <= 65535):
            problems.append(Problem(file, f"{AGENT_MODULES}.{name}.env.PORT.value", f"{port!r} is not a TCP port; "
                                    "write the port the module serves on, a number from 1 to 65535 (e.g. \"80\")"))
            continue
        references = list(_references(content, modules, name))
        if port is None and references:
            path, url, url_port = references[0]
            problems.append(Problem(file, f"{AGENT_MODULES}.{name}.env", f"no PORT, but {path} reaches {name} at "
                                    f"{url}; add \"PORT\": {{\"value\": \"{url_port or 80}\"}} (the port it serves on)"))
        problems += [Problem(file, path, f"{url} names port {url_port}, but {name} serves on its PORT {port}; make them agree")
                     for path, url, url_port in references if port is not None and url_port not in (None, port)]
    return problems


MODULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # edgeAgent names the module's container after it (Docker's rule)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")  # what a process environment can carry


def name_problems(content: Mapping[str, Any], file: str) -> list[Problem]:
    """Module names that cannot name a container (``../../x``), env variable names a process cannot have
    (``A=B``), and env values with a NUL; ``content`` is the manifest's ``modulesContent``."""
    modules = get_path(content, "$edgeAgent", "properties.desired", "modules")
    problems = []
    for name, spec in (modules.items() if isinstance(modules, dict) else ()):
        if not MODULE_NAME.fullmatch(name):
            problems.append(Problem(file, AGENT_MODULES, f"module name {name!r}: letters, digits, _ . and -, starting "
                                    "with a letter or digit, at most 128 characters (it names the module's container)"))
            continue
        env = spec.get("env") if isinstance(spec, dict) else None
        for key, entry in (env.items() if isinstance(env, dict) else ()):
            where = f"{AGENT_MODULES}.{name}.env"
            if not ENV_NAME.fullmatch(key):
                problems.append(Problem(file, where, f"variable name {key!r}: letters, digits and _, not starting with a "
                                        "digit (a process environment cannot carry it)"))
            elif isinstance(entry, dict) and "\0" in str(entry.get("value", "")):
                problems.append(Problem(file, f"{where}.{key}.value", "contains a NUL character, which no environment "
                                        "variable can carry; remove it"))
    return problems
