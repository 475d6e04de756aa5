"""Validate a generated deployment manifest: each problem names the file, the JSON path and the fix.

The public deployment schema (the copy shipped in ``localedge/deploy/schemas``, or ``--schema-dir``;
``--schema-dir online`` fetches SchemaStore's newest); every route joins an existing module's output to an
existing module's input; nothing unresolved; each image exists for the platform; createOptions within 4 KB; no
secret written into the template instead of ``.env``; each Azure Blob Storage on IoT Edge module as its
documentation requires (:func:`localedge.deploy.blob_rules.blob_problems`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.deploy.blob_rules import blob_problems, connection_string_parts
from localedge.deploy.checks import Problem, schema_problems
from localedge.deploy.genconfig import LEFTOVER, all_modules, module_json, own_modules
from localedge.deploy.manifest import MODULE_IMAGE, read_template
from localedge.http_get import get
from localedge.runner.routes import RouteError, parse_route

MAX_CREATE_OPTIONS = 4096
SCHEMA_NAME = "azure-iot-edge-deployment-2.0.json"
SCHEMASTORE = "https://json.schemastore.org/"
SCHEMA_DIR = ROOT / "localedge" / "deploy" / "schemas"  # SchemaStore's IoT Edge schemas, shipped (see its README)
ONLINE = "online"  # --schema-dir online: SchemaStore's newest copy
_ROUTE_SYMBOLS = re.compile(r"\$(upstream|body\b[\w.]*|contentType|contentEncoding|connectionModuleId|connectionDeviceId"
                            r"|messageId|correlationId|userId|iothub-\w+|dt-\w+|\w+)")
_SECRET_VALUE = re.compile(r"SharedAccessKey=(?!\$)[^;\s]{8,}|AccountKey=(?!\$)[^;\s]{8,}|SharedAccessSignature=(?!\$)[^;\s]{8,}"
                           r"|^[0-9a-fA-F]{32}$|^[A-Za-z0-9+/]{40,}={0,2}$")
_SECRET_PARTS = ("accountkey", "sharedaccesskey", "sharedaccesssignature", "password")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SECRET_ENV = re.compile(r"(PASSWORD|SECRET|KEY|TOKEN|CONNECTION_?STRING)$", re.I)


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def public_schema_problems(manifest: dict[str, Any], schema_dir: Path | None, file: str) -> list[Problem]:
    """The problems the public deployment schema finds in ``manifest``: the schemas in ``schema_dir`` (None: the
    copy shipped in localedge/deploy/schemas; ``online``: SchemaStore's, fetched with a 5 s timeout, one problem
    saying so when it is out of reach). ``file`` names the template in each problem."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    schemas: dict[str, Any] = {}
    if schema_dir != Path(ONLINE):
        for path in (schema_dir or SCHEMA_DIR).glob("*.json"):
            schemas[path.name] = json.loads(path.read_text(encoding="utf-8"))
    else:
        try:
            schemas[SCHEMA_NAME] = json.loads(get(SCHEMASTORE + SCHEMA_NAME, 5)[1])
        except (OSError, ValueError):
            return [Problem(file, "$", "not checked against the public schema: SchemaStore is out of reach "
                                       "(leave out --schema-dir online to use the copy shipped in localedge/deploy/schemas)")]
    if SCHEMA_NAME not in schemas:
        return [Problem(file, "$", f"no {SCHEMA_NAME} in the schema folder")]
    registry = Registry()
    for name, contents in schemas.items():
        registry = registry.with_resource(SCHEMASTORE + name, Resource.from_contents(contents, default_specification=DRAFT4))
    return schema_problems(Draft4Validator(schemas[SCHEMA_NAME], registry=registry), manifest, file, "the public deployment schema")


def _endpoints(root: Path, template: Path, template_doc: dict[str, Any]) -> dict[str, tuple[set[str], set[str]] | None]:
    """Deployed module -> (outputs, inputs) declared in its module.json ``endpoints``; None when unknown: a module
    not built from modules/ (e.g. from the marketplace) or a module.json without ``endpoints``."""
    agent = template_doc.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {})
    own = own_modules(template_doc)
    result: dict[str, tuple[set[str], set[str]] | None] = {name: None for name in agent.get("modules") or {}}
    for name, folder in own.items():
        declared = module_json(root, folder, template).get("endpoints")
        if isinstance(declared, dict):
            result[name] = (set(declared.get("outputs", [])), set(declared.get("inputs", [])))
    return result


def _route_problems(manifest: dict[str, Any], template: Path, template_doc: dict[str, Any], root: Path) -> list[Problem]:
    file = str(template)
    problems: list[Problem] = []
    endpoints = _endpoints(root, template, template_doc)
    deployed = manifest.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {}).get("modules") or {}
    endpoints |= {name: None for name in deployed if name not in endpoints}  # added after the template (the collector)
    routes = manifest.get("modulesContent", {}).get("$edgeHub", {}).get("properties.desired", {}).get("routes", {})
    for name, value in routes.items():
        where = f"modulesContent.$edgeHub.properties.desired.routes.{name}"
        text = value.get("route") if isinstance(value, dict) else value
        if not isinstance(text, str):
            continue  # the schema says what is wrong with it
        try:
            route = parse_route(name, value)  # the object form's priority and timeToLiveSecs too
        except RouteError as exc:
            problems.append(Problem(file, where, f"{exc}"))
            continue
        for module, endpoint, kind in ((route.module, route.output, "output"), (route.sink_module, route.sink_input, "input")):
            if module is None:
                continue
            if module not in endpoints:
                known = ", ".join(sorted(endpoints))
                problems.append(Problem(file, where, f"names module {module!r}, which is not deployed "
                                                     f"(modules: {known}); fix the name (it is case-sensitive) or add the module"))
                continue
            declared = endpoints[module]
            if declared is None or endpoint is None:
                continue  # any name is accepted for a module whose endpoints are unknown
            names = declared[0] if kind == "output" else declared[1]
            if endpoint not in names:
                problems.append(Problem(file, where, f"{module} has no {kind} {endpoint!r} ({kind}s: "
                                                     f"{', '.join(sorted(names)) or 'none'}); use one of those"))
    return problems


def _leftovers(manifest: dict[str, Any], file: str) -> list[Problem]:
    problems = []
    for path, value in _walk(manifest):
        if not isinstance(value, str):
            continue
        is_route = ".routes." in path
        for match in LEFTOVER.finditer(value):
            token = match.group(0)
            if is_route and not token.startswith("${") and _ROUTE_SYMBOLS.fullmatch(token):
                continue
            name = token.strip("${}")
            fix = ("build the module folder it names (modules/<Folder>)" if name.startswith("MODULES.")
                   else f"add {name}=... to .env (see .env.example)")
            problems.append(Problem(file, path, f"{token} is not resolved; {fix}"))
    return problems


def _image_problems(template_doc: dict[str, Any], platform: str, root: Path, file: str) -> list[Problem]:
    problems = []
    for path, value in _walk(template_doc):
        if not isinstance(value, str) or not path.endswith("settings.image"):
            continue
        match = MODULE_IMAGE.match(value)
        if not match:
            continue
        folder, wanted = match.group(1), match.group(2) or platform
        module_file = root / "modules" / folder / "module.json"
        platforms = module_json(root, folder, Path(file))["image"]["tag"].get("platforms", {})
        if wanted not in platforms:
            problems.append(Problem(file, path, f"modules/{folder} has no {wanted} image; add Dockerfile.{wanted} and list "
                                                f"it under image.tag.platforms in {module_file.relative_to(root)}"))
        elif not (module_file.parent / platforms[wanted]).is_file():
            problems.append(Problem(file, path, f"{platforms[wanted]} listed for {wanted} in modules/{folder}/module.json does not exist"))
    return problems


def _create_options_problems(manifest: dict[str, Any], file: str) -> list[Problem]:
    problems = []
    for path, spec in all_modules(manifest):
        settings = spec.get("settings")
        if not isinstance(settings, dict):
            continue
        parts = [settings[k] for k in sorted(settings) if re.fullmatch(r"createOptions(\d\d)?", k)]
        text = "".join(p for p in parts if isinstance(p, str))
        if len(text) > MAX_CREATE_OPTIONS:
            problems.append(Problem(file, f"{path}.settings.createOptions", f"{len(text)} characters, over the "
                                    f"{MAX_CREATE_OPTIONS} IoT Edge accepts; move settings into env or desired properties"))
        if text:
            try:
                json.loads(text)
            except ValueError as exc:
                problems.append(Problem(file, f"{path}.settings.createOptions", f"not valid JSON ({exc})"))
    return problems


def _secret_problems(template_doc: dict[str, Any], file: str) -> list[Problem]:
    """Secrets written literally into the template (a value from .env appears there as ``$NAME``).

    Flagged: a registry password, an env variable named like a secret (KEY, PASSWORD, SECRET, TOKEN,
    CONNECTION_STRING) with a literal value, and anything shaped like a key or connection string.
    """
    problems = []
    for path, value in _walk(template_doc):
        if not isinstance(value, str) or not value.strip() or LEFTOVER.fullmatch(value.strip()) or _secrets_from_env(value):
            continue
        env_name = path.split(".env.")[1].split(".")[0] if ".env." in path else ""
        if (path.endswith(".modelSha256") or env_name == "MODEL_SHA256") and _SHA256.fullmatch(value.strip()):
            continue  # a model's SHA-256 (the layer's desired modelSha256) is an identity, not a secret
        if (".registryCredentials." in path and path.endswith(".password")) or _SECRET_ENV.search(env_name) \
                or _SECRET_VALUE.search(value):
            name = env_name or "NAME"
            problems.append(Problem(file, path, f"looks like a secret written into the template; put it in .env "
                                                f"(never committed) and write ${name} here"))
    return problems


def _secrets_from_env(value: str) -> bool:
    """A connection string whose secret parts (AccountKey, SharedAccessKey, SharedAccessSignature, Password) are all
    ``$NAME`` from .env, e.g. ``...;AccountName=$BLOB_ACCOUNT_NAME;AccountKey=$BLOB_ACCOUNT_KEY``."""
    parts = connection_string_parts(value)
    secrets = [text for key, text in parts.items() if key in _SECRET_PARTS]
    return bool(secrets) and all(LEFTOVER.fullmatch(text) for text in secrets) and not _SECRET_VALUE.search(value)


def validate(manifest: dict[str, Any], template: Path, platform: str, root: Path, schema_dir: Path | None) -> list[Problem]:
    """Every problem found in ``manifest`` (generated from ``template``); empty when it can be deployed."""
    file = str(template)
    template_doc = read_template(template)
    return [
        *public_schema_problems(manifest, schema_dir, file),
        *_route_problems(manifest, template, template_doc, root),
        *_leftovers(manifest, file),
        *_image_problems(template_doc, platform, root, file),
        *_create_options_problems(manifest, file),
        *_secret_problems(template_doc, file),
        *blob_problems(manifest.get("modulesContent", {}), file, platform),
    ]


