"""The deployment templates: valid against the public schemas, routed between modules that exist."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from conftest import ROOT, SCHEMAS
from localedge.deploy.manifest import ManifestError, load_manifest, substitute
from localedge.runner.routes import DEFAULT_PRIORITY, parse_route

TEMPLATES = ["deployment.template.json", "deployment.arm32v7.template.json"]


def _validator(name: str) -> Draft4Validator:
    registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        registry = registry.with_resource(f"https://json.schemastore.org/{path.name}",
                                          Resource.from_contents(contents, default_specification=DRAFT4))
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft4Validator(schema, registry=registry)


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_is_valid_against_the_public_template_schema(template: str) -> None:
    document = json.loads((ROOT / template).read_text())
    errors = sorted(_validator("azure-iot-edge-deployment-template-4.0.json").iter_errors(document), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_uses_iot_edge_1_6_and_current_schema_versions(template: str) -> None:
    content = json.loads((ROOT / template).read_text())["modulesContent"]
    agent = content["$edgeAgent"]["properties.desired"]
    assert agent["schemaVersion"] == "1.1"
    assert agent["systemModules"]["edgeAgent"]["settings"]["image"] == "mcr.microsoft.com/azureiotedge-agent:1.6"
    assert agent["systemModules"]["edgeHub"]["settings"]["image"] == "mcr.microsoft.com/azureiotedge-hub:1.6"
    assert content["$edgeHub"]["properties.desired"]["schemaVersion"] == "1.2"


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_route_joins_modules_and_folders_that_exist(template: str) -> None:
    manifest = load_manifest(ROOT / template, {})
    own = {name for name, spec in manifest.modules.items() if spec.folder is not None}  # others: marketplace images
    assert own == {"CameraCapture", "ImageClassifierService", "TextToSpeech", "SenseHatDisplay"}
    for spec in (manifest.modules[name] for name in own):
        assert spec.folder == spec.name and (ROOT / "modules" / spec.folder / "module.json").is_file()
        platform = "arm32v7" if "arm32v7" in template else "amd64"
        assert spec.image.endswith(".arm32v7}") == (platform == "arm32v7")
        dockerfile = json.loads((ROOT / "modules" / spec.folder / "module.json").read_text())["image"]["tag"]["platforms"][platform]
        assert (ROOT / "modules" / spec.folder / dockerfile).is_file()
    sinks = set()
    for name, value in manifest.routes.items():
        route = parse_route(name, value)
        assert route.module == "CameraCapture" and route.output == "classification"
        sinks.add("$upstream" if route.upstream else f"{route.sink_module}/{route.sink_input}")
        # scans go upstream for as long as edgeHub keeps them; the display and speaker want only fresh ones
        assert route.priority == 0 and route.time_to_live_s == (7200 if route.upstream else 60)
    assert sinks == {"$upstream", "SenseHatDisplay/classification", "TextToSpeech/classification"}
    assert manifest.time_to_live_s == 7200


def test_no_secret_is_written_into_a_template() -> None:
    for template in TEMPLATES:
        text = (ROOT / template).read_text()
        assert '"$SPEECH_KEY"' in text and '"$CONTAINER_REGISTRY_PASSWORD"' in text
        assert "SharedAccessKey" not in text


def test_substitution_replaces_only_defined_variables() -> None:
    assert substitute("FROM /messages/* INTO $upstream", {"SPEECH_KEY": "k"}) == "FROM /messages/* INTO $upstream"
    assert substitute("${SPEECH_KEY}/$SPEECH_REGION", {"SPEECH_KEY": "k", "SPEECH_REGION": "r"}) == "k/r"


def test_env_file_values_reach_module_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SPEECH_KEY=abc123\nSPEECH_REGION=westeurope\n")
    from localedge.deploy.manifest import load_variables

    manifest = load_manifest(ROOT / "deployment.template.json", load_variables(tmp_path / ".env", {}))
    assert manifest.modules["TextToSpeech"].env["SPEECH_KEY"] == "abc123"
    assert manifest.modules["TextToSpeech"].env["SPEECH_REGION"] == "westeurope"
    assert "INTO $upstream" in parse_route("CameraToUpstream", manifest.routes["CameraToUpstream"]).text


def _hub(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads((ROOT / "deployment.template.json").read_text())
    change(document["modulesContent"]["$edgeHub"]["properties.desired"])
    (tmp_path / "t.json").write_text(json.dumps(document))
    return tmp_path / "t.json"


def test_routes_keep_their_priority_and_time_to_live_and_the_store_and_forward_default(tmp_path: Path) -> None:
    def change(hub: dict[str, Any]) -> None:
        hub["routes"] = {"Alerts": {"route": "FROM /messages/modules/CameraCapture/outputs/classification WHERE "
                                             "$body.predictions[0].probability > 0.6 INTO $upstream", "priority": 1,
                                    "timeToLiveSecs": 30},
                         "Plain": "FROM /messages/* INTO $upstream"}
        hub["storeAndForwardConfiguration"] = {"timeToLiveSecs": 600}

    manifest = load_manifest(_hub(tmp_path, change), {})
    assert manifest.time_to_live_s == 600
    alerts, plain = (parse_route(name, spec) for name, spec in manifest.routes.items())
    assert (alerts.priority, alerts.time_to_live_s) == (1, 30)
    assert (plain.priority, plain.time_to_live_s) == (DEFAULT_PRIORITY, None)  # None: the manifest's 600 s

    manifest = load_manifest(_hub(tmp_path, lambda hub: hub.pop("storeAndForwardConfiguration")), {})
    assert manifest.time_to_live_s == 7200  # edgeHub's default


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda hub: hub["routes"]["CameraToUpstream"].update(priority=12),
         "routes.CameraToUpstream.priority: 12 is greater than the maximum of 9; use 9 or less"),
        (lambda hub: hub["routes"]["CameraToUpstream"].update(timeToLiveSecs="60"),
         "routes.CameraToUpstream.timeToLiveSecs: '60' is not of type 'integer'; write a whole number"),
        (lambda hub: hub["routes"]["CameraToUpstream"].update(ttl=60),
         "routes.CameraToUpstream: Additional properties are not allowed ('ttl' was unexpected)"),
        (lambda hub: hub.update(storeAndForwardConfiguration={"timeToLiveSecs": -5}),
         "storeAndForwardConfiguration.timeToLiveSecs: -5 is less than the minimum of 0; use 0 or more"),
    ],
)
def test_a_bad_route_setting_is_refused_with_its_path(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                      message: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)):
        load_manifest(_hub(tmp_path, change), {})


@pytest.mark.parametrize("template", TEMPLATES)
def test_desired_properties_are_every_live_setting_at_its_default(template: str) -> None:
    from capture.settings import CaptureSettings
    from display.settings import DisplaySettings
    from edgekit.settings import SettingsStore
    from speech.settings import SpeechSettings

    manifest = load_manifest(ROOT / template, {})
    for module, model in {"CameraCapture": CaptureSettings, "TextToSpeech": SpeechSettings,
                          "SenseHatDisplay": DisplaySettings}.items():
        desired = manifest.modules[module].desired
        store = SettingsStore(model, {})
        assert store.apply(desired, full=True) == {}, module  # nothing refused
        assert store.current == model(), module  # the defaults, so the twin shows what is in force
    camera = manifest.modules["CameraCapture"].desired
    assert set(camera) == {CaptureSettings.twin_name(f) for f in CaptureSettings.live_fields()}


def test_a_url_naming_another_port_than_the_module_serves_on_is_refused(tmp_path: Path) -> None:
    document = json.loads((ROOT / "deployment.template.json").read_text())
    document["modulesContent"]["CameraCapture"]["properties.desired"]["imageProcessingEndpoint"] = "http://ImageClassifierService:8080/image"
    (tmp_path / "t.json").write_text(json.dumps(document))
    with pytest.raises(ManifestError) as refused:
        load_manifest(tmp_path / "t.json", {})
    assert str(refused.value) == (
        f"{tmp_path / 't.json'}: modulesContent.CameraCapture.properties.desired.imageProcessingEndpoint: "
        "http://ImageClassifierService:8080 names port 8080, but ImageClassifierService serves on its PORT 80; make them agree")


def _hostile_manifests(folder: Path) -> dict[str, Path]:
    """Templates that once crashed run and genconfig with a traceback (issue 22, item 6)."""
    base = json.loads((ROOT / "deployment.template.json").read_text())
    found: dict[str, Path] = {}

    def variant(name: str, change: Any) -> None:
        document = json.loads(json.dumps(base))
        change(document["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"])
        found[name] = folder / f"{name}.json"
        found[name].write_text(json.dumps(document))

    variant("nul-in-env-value", lambda m: m["CameraCapture"]["env"].update({"LOG_LEVEL": {"value": "INFO\u0000x"}}))
    variant("equals-in-env-name", lambda m: m["CameraCapture"]["env"].update({"A=B": {"value": "1"}}))
    variant("module-path", lambda m: m.update({"../../x": m.pop("SenseHatDisplay")}))
    found["nested-100000"] = folder / "nested.json"
    found["nested-100000"].write_text('{"modulesContent": ' + "[" * 100_000 + "]" * 100_000 + "}")
    found["dev-zero"] = Path("/dev/zero")
    return found


@pytest.mark.parametrize("case", ["nul-in-env-value", "equals-in-env-name", "module-path", "nested-100000", "dev-zero"])
@pytest.mark.parametrize("command", ["run", "genconfig"])
def test_a_hostile_manifest_gets_one_line_and_exit_2(tmp_path: Path, case: str, command: str) -> None:
    path = _hostile_manifests(tmp_path)[case]
    args = ["run", "--manifest", str(path), "--duration", "1"] if command == "run" else ["genconfig", "-f", str(path),
                                                                                          "--output-dir", str(tmp_path)]
    done = subprocess.run([sys.executable, "-m", "localedge", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    output = done.stdout + done.stderr
    lines = [line for line in output.splitlines() if str(path) in line]  # the error; an info line may come first
    assert done.returncode == 2, output
    assert len(lines) == 1 and "Traceback" not in output, output
    expected = {"nul-in-env-value": "NUL", "equals-in-env-name": "'A=B'", "module-path": "'../../x'",
                "nested-100000": "nested deeper than 64 levels", "dev-zero": "larger than 4 MB"}[case]
    assert expected in lines[0], lines
