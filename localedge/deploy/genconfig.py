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

The generated manifest is validated by :mod:`localedge.deploy.validation`; layered deployments are made by
:mod:`localedge.deploy.layered` with the fleet's settings from :mod:`localedge.deploy.fleet`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from localedge import ROOT
from localedge.deploy.blob_rules import blob_modules
from localedge.deploy.manifest import MODULE_IMAGE, check, expand, read_template, substitute

CHUNK = 512
PLATFORMS = ("amd64", "amd64.debug", "arm32v7", "arm32v7.debug", "arm64v8", "arm64v8.debug")
DEFAULT_PLATFORM = "arm32v7"  # genconfig's and make config's: 32-bit Raspberry Pi OS
CAPTURE_STORAGE = "CAPTURE_STORAGE"  # .env: "blob" deploys Blob Storage on IoT Edge for the captures
LEFTOVER = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")  # a $NAME or ${NAME} left unresolved


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


class GenerationError(ValueError):
    """The template cannot be generated at all (unreadable, not JSON, unknown module folder)."""


def module_json(root: Path, folder: str, template: Path) -> dict[str, Any]:
    """modules/<folder>/module.json under ``root`` as a dict; raises GenerationError naming ``template`` (which
    names the folder) when there is no such file, or the file when it is not JSON."""
    path = root / "modules" / folder / "module.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise GenerationError(f"{template}: ${{MODULES.{folder}}} names modules/{folder}, which has no module.json") from exc
    except ValueError as exc:
        raise GenerationError(f"{path}: not valid JSON ({exc})") from exc


def image_name(root: Path, folder: str, platform: str, variables: Mapping[str, str], template: Path) -> str:
    """``<repository lowercased>:<version>-<platform>`` for modules/<folder>, as the tooling tags it."""
    image = module_json(root, folder, template)["image"]
    name = f"{substitute(str(image['repository']), variables)}:{image['tag']['version']}-{platform}"
    return name if LEFTOVER.search(name) else name.lower()  # keep an unresolved $NAME readable




def stringify_create_options(settings: dict[str, Any]) -> None:
    """A module's ``settings`` changed in place: a createOptions object becomes compact JSON split into
    512-character ``createOptions``, ``createOptions01``... strings (earlier chunks replaced); a string is left as is."""
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


def all_modules(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
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
    for _, spec in all_modules(manifest):
        if isinstance(spec.get("settings"), dict):
            stringify_create_options(spec["settings"])
    return manifest


def own_modules(template_doc: dict[str, Any]) -> dict[str, str]:
    """Module name -> its folder under modules/, for the modules built from this solution (``${MODULES.<Folder>}``)."""
    agent = template_doc.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {})
    own = {}
    for name, spec in (agent.get("modules") or {}).items():
        match = MODULE_IMAGE.match(str((spec.get("settings") or {}).get("image", ""))) if isinstance(spec, dict) else None
        if match:
            own[name] = match.group(1)
    return own




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

