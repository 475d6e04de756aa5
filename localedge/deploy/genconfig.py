"""Generate a deployable manifest from a template, as the IoT Edge tooling does, and validate it.

contract: docs/iotedge.md "Tooling conventions". Generation (same result as ``iotedgedev solution
genconfig`` and the VS Code extension): ``$VAR`` / ``${VAR}`` from ``.env`` and the environment;
``${MODULES.<Folder>}`` (the chosen platform) or ``${MODULES.<Folder>.<platform>}`` becomes
``<repository lowercased>:<version>-<platform>`` from modules/<Folder>/module.json; createOptions
objects become compact JSON strings split into 512-character ``createOptions``,
``createOptions01``... chunks; ``$schema-template`` is dropped.

Before generating, the template passes the runner's own checks (:func:`localedge.deploy.manifest.check`: the
types and values it reads, module ports), so a malformed one is refused in one line, as ``run`` does.
Blob Storage on IoT Edge (the module that keeps CameraCapture's captures for retraining) is deployed only
when ``CAPTURE_STORAGE=blob`` (``.env`` or the environment): otherwise the template's blob module, its module
twin and the env values naming it are left out (:func:`without_blob_storage`), so registry credentials alone
make a valid manifest.

Validation, each problem naming the file, the JSON path and the fix: the public deployment schema
(the copy shipped in ``localedge/deploy/schemas``, or ``--schema-dir``; ``--schema-dir online`` fetches
SchemaStore's newest); every route joins an existing module's output to
an existing module's input; nothing unresolved; each image exists for the platform; createOptions
within 4 KB; no secret written into the template instead of ``.env``; each Azure Blob Storage on IoT Edge
module as its documentation requires (:func:`localedge.deploy.checks.blob_problems`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.deploy.checks import Problem, blob_modules, blob_problems, connection_string_parts, schema_problems
from localedge.deploy.manifest import MODULE_IMAGE, check, expand, read_template, substitute
from localedge.runner.routes import RouteError, parse_route

CHUNK = 512
MAX_CREATE_OPTIONS = 4096
SCHEMA_NAME = "azure-iot-edge-deployment-2.0.json"
SCHEMASTORE = "https://json.schemastore.org/"
PLATFORMS = ("amd64", "amd64.debug", "arm32v7", "arm32v7.debug", "arm64v8", "arm64v8.debug")
DEFAULT_PLATFORM = "arm32v7"  # genconfig's and make config's: 32-bit Raspberry Pi OS
SCHEMA_DIR = ROOT / "localedge" / "deploy" / "schemas"  # SchemaStore's IoT Edge schemas, shipped (see its README)
ONLINE = "online"  # --schema-dir online: SchemaStore's newest copy
CAPTURE_STORAGE = "CAPTURE_STORAGE"  # .env: "blob" deploys Blob Storage on IoT Edge for the captures


def default_template(platform: str, root: Path = ROOT) -> Path:
    """The template a platform is generated from: deployment.arm32v7.template.json for arm32v7 (its own
    images: the blob module's arm32v7 tag, TensorFlow Lite), deployment.template.json for the others."""
    return root / ("deployment.arm32v7.template.json" if platform.startswith("arm32v7") else "deployment.template.json")


def capture_storage_wanted(variables: Mapping[str, str]) -> bool:
    """True when ``CAPTURE_STORAGE`` is ``blob``: the manifest keeps the Blob Storage on IoT Edge module. Raises
    GenerationError for another non-empty value."""
    value = variables.get(CAPTURE_STORAGE, "").strip().lower()
    if value not in ("", "blob"):
        raise GenerationError(f"{CAPTURE_STORAGE}={value}: leave it empty (no Blob Storage module; captures stay in "
                              "CameraCapture's volume) or write blob (deploy Blob Storage on IoT Edge for them)")
    return value == "blob"


def without_blob_storage(document: dict[str, Any]) -> list[str]:
    """Leave out every Azure Blob Storage on IoT Edge module of a template (``document`` changed in place): its
    $edgeAgent entry, its module twin, and env values of other modules that name it (``http://<module>:port``);
    returns the modules left out."""
    content = document.get("modulesContent", {})
    names = list(blob_modules(content))
    modules = content.get("$edgeAgent", {}).get("properties.desired", {}).get("modules", {})
    for name in names:
        modules.pop(name, None)
        content.pop(name, None)
        naming = re.compile(rf"(?i)\w+://{re.escape(name)}(?::\d+)?(?=[/?#;]|$)")
        for spec in modules.values():
            env = spec.get("env") if isinstance(spec, dict) else None
            if isinstance(env, dict):
                for key in [k for k, v in env.items() if isinstance(v, dict) and naming.search(str(v.get("value", "")))]:
                    del env[key]
    return names
_LEFTOVER = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_ROUTE_SYMBOLS = re.compile(r"\$(upstream|body\b[\w.]*|contentType|contentEncoding|connectionModuleId|connectionDeviceId"
                            r"|messageId|correlationId|userId|iothub-\w+|dt-\w+|\w+)")
_SECRET_VALUE = re.compile(r"SharedAccessKey=(?!\$)[^;\s]{8,}|AccountKey=(?!\$)[^;\s]{8,}|SharedAccessSignature=(?!\$)[^;\s]{8,}"
                           r"|^[0-9a-fA-F]{32}$|^[A-Za-z0-9+/]{40,}={0,2}$")
_SECRET_PARTS = ("accountkey", "sharedaccesskey", "sharedaccesssignature", "password")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SECRET_ENV = re.compile(r"(PASSWORD|SECRET|KEY|TOKEN|CONNECTION_?STRING)$", re.I)


class GenerationError(ValueError):
    """The template cannot be generated at all (unreadable, not JSON, unknown module folder)."""


def _module_json(root: Path, folder: str, template: Path) -> dict[str, Any]:
    path = root / "modules" / folder / "module.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise GenerationError(f"{template}: ${{MODULES.{folder}}} names modules/{folder}, which has no module.json") from exc
    except ValueError as exc:
        raise GenerationError(f"{path}: not valid JSON ({exc})") from exc


def image_name(root: Path, folder: str, platform: str, variables: Mapping[str, str], template: Path) -> str:
    """``<repository lowercased>:<version>-<platform>`` for modules/<folder>, as the tooling tags it."""
    image = _module_json(root, folder, template)["image"]
    name = f"{substitute(str(image['repository']), variables)}:{image['tag']['version']}-{platform}"
    return name if _LEFTOVER.search(name) else name.lower()  # keep an unresolved $NAME readable


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _stringify_create_options(settings: dict[str, Any]) -> None:
    options = settings.get("createOptions")
    if options is None or isinstance(options, str):
        return
    text = json.dumps(options, separators=(",", ":"))
    for key in [k for k in settings if re.fullmatch(r"createOptions\d+", k)]:
        del settings[key]
    chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    settings["createOptions"] = chunks[0]
    for index, chunk in enumerate(chunks[1:], start=1):
        settings[f"createOptions{index:02d}"] = chunk


def _all_modules(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path, spec) of each system and custom module that is an object (the schema reports the others)."""
    agent = manifest["modulesContent"]["$edgeAgent"]["properties.desired"]
    for group in ("systemModules", "modules"):
        specs = agent.get(group)
        for name, spec in (specs.items() if isinstance(specs, dict) else ()):
            if isinstance(spec, dict):
                yield f"modulesContent.$edgeAgent.properties.desired.{group}.{name}", spec


def generate(template: Path, platform: str, variables: Mapping[str, str], root: Path) -> dict[str, Any]:
    """The deployment manifest for ``platform``; raises ManifestError (unreadable template, or one the runner's
    checks refuse: :func:`localedge.deploy.manifest.check`) or GenerationError (unknown platform or module folder)."""
    if platform not in PLATFORMS:
        raise GenerationError(f"platform {platform!r} is not one of {', '.join(PLATFORMS)}")
    document = read_template(template)
    if not capture_storage_wanted(variables):
        without_blob_storage(document)
    check(expand(document, variables), template)
    document.pop("$schema-template", None)
    manifest: dict[str, Any] = expand(
        document, variables, lambda m: image_name(root, m.group(1), m.group(2) or platform, variables, template))
    for _, spec in _all_modules(manifest):
        if isinstance(spec.get("settings"), dict):
            _stringify_create_options(spec["settings"])
    return manifest


def _schema_problems(manifest: dict[str, Any], schema_dir: Path | None, file: str) -> list[Problem]:
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    schemas: dict[str, Any] = {}
    if schema_dir != Path(ONLINE):
        for path in (schema_dir or SCHEMA_DIR).glob("*.json"):
            schemas[path.name] = json.loads(path.read_text(encoding="utf-8"))
    else:
        try:
            with urllib.request.urlopen(SCHEMASTORE + SCHEMA_NAME, timeout=5) as reply:
                schemas[SCHEMA_NAME] = json.loads(reply.read())
        except (OSError, ValueError):
            return [Problem(file, "$", "not checked against the public schema: SchemaStore is out of reach "
                                       "(leave out --schema-dir online to use the copy shipped in localedge/deploy/schemas)")]
    if SCHEMA_NAME not in schemas:
        return [Problem(file, "$", f"no {SCHEMA_NAME} in the schema folder")]
    registry = Registry()
    for name, contents in schemas.items():
        registry = registry.with_resource(SCHEMASTORE + name, Resource.from_contents(contents, default_specification=DRAFT4))
    return schema_problems(Draft4Validator(schemas[SCHEMA_NAME], registry=registry), manifest, file, "the public deployment schema")


def _own_modules(template_doc: dict[str, Any]) -> dict[str, str]:
    """Module name -> its folder under modules/, for the modules built from this solution (``${MODULES.<Folder>}``)."""
    agent = template_doc.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {})
    own = {}
    for name, spec in (agent.get("modules") or {}).items():
        match = MODULE_IMAGE.match(str((spec.get("settings") or {}).get("image", ""))) if isinstance(spec, dict) else None
        if match:
            own[name] = match.group(1)
    return own


def _endpoints(root: Path, template: Path, template_doc: dict[str, Any]) -> dict[str, tuple[set[str], set[str]] | None]:
    """Deployed module -> (outputs, inputs) declared in its module.json ``endpoints``; None when unknown: a module
    not built from modules/ (e.g. from the marketplace) or a module.json without ``endpoints``."""
    agent = template_doc.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {})
    own = _own_modules(template_doc)
    result: dict[str, tuple[set[str], set[str]] | None] = {name: None for name in agent.get("modules") or {}}
    for name, folder in own.items():
        declared = _module_json(root, folder, template).get("endpoints")
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
        for match in _LEFTOVER.finditer(value):
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
        module_json = root / "modules" / folder / "module.json"
        platforms = _module_json(root, folder, Path(file))["image"]["tag"].get("platforms", {})
        if wanted not in platforms:
            problems.append(Problem(file, path, f"modules/{folder} has no {wanted} image; add Dockerfile.{wanted} and list "
                                                f"it under image.tag.platforms in {module_json.relative_to(root)}"))
        elif not (module_json.parent / platforms[wanted]).is_file():
            problems.append(Problem(file, path, f"{platforms[wanted]} listed for {wanted} in modules/{folder}/module.json does not exist"))
    return problems


def _create_options_problems(manifest: dict[str, Any], file: str) -> list[Problem]:
    problems = []
    for path, spec in _all_modules(manifest):
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
        if not isinstance(value, str) or not value.strip() or _LEFTOVER.fullmatch(value.strip()) or _secrets_from_env(value):
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
    return bool(secrets) and all(_LEFTOVER.fullmatch(text) for text in secrets) and not _SECRET_VALUE.search(value)


def validate(manifest: dict[str, Any], template: Path, platform: str, root: Path, schema_dir: Path | None) -> list[Problem]:
    """Every problem found in ``manifest`` (generated from ``template``); empty when it can be deployed."""
    file = str(template)
    template_doc = read_template(template)
    return [
        *_schema_problems(manifest, schema_dir, file),
        *_route_problems(manifest, template, template_doc, root),
        *_leftovers(manifest, file),
        *_image_problems(template_doc, platform, root, file),
        *_create_options_problems(manifest, file),
        *_secret_problems(template_doc, file),
        *blob_problems(manifest.get("modulesContent", {}), file, platform),
    ]


def output_path(config_dir: Path, platform: str) -> Path:
    """config/deployment.<platform>.json, what ``az iot edge set-modules --content`` deploys."""
    return config_dir / f"deployment.{platform}.json"


def write(manifest: dict[str, Any], target: Path) -> None:
    """Write ``manifest`` as indented JSON to ``target``, readable by its owner only (mode 0600: it holds the
    registry credentials). The file is created with that mode next to ``target`` and renamed over it, so an
    older, wider-open file is replaced whole and a reader never sees half a manifest."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(json.dumps(manifest, indent=2) + "\n")
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


# ---- layered deployments (python -m localedge genconfig --layered) -------------------------------------------

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
        own = _own_modules(read_template(template))  # this solution's modules serve metrics on METRICS_PORT; a
        scraped = {name: spec for name, spec in modules.items()  # marketplace one (blob storage) only if its env says so
                   if name in own or (isinstance(spec, dict) and "METRICS_PORT" in (spec.get("env") or {}))}
        spec = expand(collector_module(scraped, variables, order), variables)
        _stringify_create_options(spec["settings"])
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
    own = list(_own_modules(read_template(template)))
    problems = [Problem(file, "layered deployment", text.removeprefix(f"{file}: ")) for text in layer_problems(layer, file)]
    problems += [Problem(file, f"base deployment: {p.path}", p.message) for p in _schema_problems(base, schema_dir, file)]
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


def bundled_model_sha256(root: Path, platform: str) -> str:
    """sha256 of the model the classifier image bundles and serves on ``platform``, as it reports it in
    ``model.sha256``: TensorFlow Lite on arm32v7 (no ONNX Runtime there), else the ONNX model."""
    import hashlib

    name = "model.tflite" if platform.startswith("arm32v7") else "model.onnx"
    path = root / "modules" / "ImageClassifierService" / "model" / name
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def fleet_settings(options: Mapping[str, Any], variables: Mapping[str, str], platform: str) -> dict[str, Any]:
    """Deployment ids, target conditions and priorities: the command line, else ``.env`` (FLEET_*), else defaults
    (base: every device tagged with the platform, priority 0; layer: production devices of the platform, 10).
    Raises GenerationError (one line) for a condition IoT Hub would refuse or a layer that would never apply."""
    from localedge.deploy.layering import DEPLOYMENT_ID, ConditionError, parse_condition

    def pick(option: str, variable: str, default: str) -> str:
        value = options.get(option)
        return str(value) if value not in (None, "") else (variables.get(variable) or default)

    safe = re.sub(r"[^a-z0-9-]", "-", platform.lower())
    fleet: dict[str, Any] = {"deployment_id": pick("deployment_id", "FLEET_DEPLOYMENT_ID", f"vision-{safe}"),
             "base_deployment_id": pick("base_deployment_id", "FLEET_BASE_DEPLOYMENT_ID", f"base-{safe}"),
             "target_condition": pick("target_condition", "FLEET_TARGET_CONDITION",
                                      f"tags.environment='prod' AND tags.platform='{platform}'"),
             "base_target_condition": pick("base_target_condition", "FLEET_BASE_TARGET_CONDITION",
                                           f"tags.platform='{platform}'"),
             "model_sha256": pick("model_sha256", "FLEET_MODEL_SHA256", "")}
    for key in ("deployment_id", "base_deployment_id"):
        if not DEPLOYMENT_ID.fullmatch(fleet[key]):
            raise GenerationError(f"deployment id {fleet[key]!r}: use up to 128 lowercase letters, digits and -:+%_#*?!(),=@;'")
    for key in ("target_condition", "base_target_condition"):
        try:
            parse_condition(fleet[key])
        except ConditionError as exc:
            raise GenerationError(f"--{key.replace('_', '-')}: {exc}") from None
    for key, variable, default in (("priority", "FLEET_PRIORITY", "10"), ("base_priority", "FLEET_BASE_PRIORITY", "0")):
        text = pick(key, variable, default)
        if not text.isdecimal():
            raise GenerationError(f"--{key.replace('_', '-')} {text!r}: write a whole number, 0 or more")
        fleet[key] = int(text)
    if fleet["priority"] <= fleet["base_priority"]:
        raise GenerationError(f"--priority {fleet['priority']}: a layered deployment applies only above its base deployment's "
                              f"priority ({fleet['base_priority']}); use {fleet['base_priority'] + 1} or more")
    return fleet


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
