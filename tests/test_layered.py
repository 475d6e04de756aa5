"""Base and layered deployments: generated from the templates, validated whole, and combined per device as
IoT Hub's automatic deployments do (Microsoft's "Understand IoT Edge automatic deployments for single devices
or at scale": one base, the highest priority that targets the device; every targeting layer above it, in
priority order, a higher layer replacing the same paths)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, SCHEMAS, copy_solution
from localedge.deploy.fleet import fleet_settings
from localedge.deploy.genconfig import GenerationError, generate
from localedge.deploy.layered import generate_layered, validate_layered
from localedge.deploy.layering import (COLLECTOR, ConditionError, Deployment, layer_problems, matches, merge,
                                parse_condition, resolve)
from localedge.deploy.manifest import load_variables

HUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg/providers/Microsoft.Devices/IotHubs/my-hub"
BLOB_KEY = base64.b64encode(bytes(range(64))).decode()
CLOUD = f"DefaultEndpointsProtocol=https;AccountName=mycloudstore;AccountKey={BLOB_KEY};EndpointSuffix=core.windows.net"
ENV = ("CONTAINER_REGISTRY_ADDRESS=MyRegistry.azurecr.io\nCONTAINER_REGISTRY_USERNAME=myregistry\n"
       "CONTAINER_REGISTRY_PASSWORD=pa55word\nSPEECH_KEY=0123456789abcdef0123456789abcdef\nSPEECH_REGION=westeurope\n"
       f"PREDICTION_KEY=\nLIVE_VIEW_TOKEN=\nMETRICS_COLLECTOR_RESOURCE_ID={HUB}\n"
       "METRICS_COLLECTOR_ENDPOINT=https://my-dce-a1b2.westeurope-1.ingest.monitor.azure.com\n"
       "METRICS_COLLECTOR_RULE_ID=dcr-0123456789abcdef0123456789abcdef\n"
       f"CAPTURE_STORAGE=blob\nBLOB_ACCOUNT_NAME=captures01\nBLOB_ACCOUNT_KEY={BLOB_KEY}\nBLOB_UPLOAD_CONNECTION_STRING={CLOUD}\n")
CASES = [("deployment.arm32v7.template.json", "arm32v7"), ("deployment.template.json", "arm64v8"),
         ("deployment.template.json", "amd64")]
MODULES = {"ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"}
BLOB = "blobstorage"  # Azure Blob Storage on IoT Edge: in the layer, with the app that writes to it
AGENT = "properties.desired.modules."


@pytest.fixture()
def solution(tmp_path: Path) -> Path:
    """A copy of the solution's templates and modules with a filled-in .env."""
    return copy_solution(tmp_path, ENV)


def _variables(solution: Path) -> dict[str, str]:
    return load_variables(solution / ".env", {})


def _layered(solution: Path, template: str, platform: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return generate_layered(solution / template, platform, _variables(solution), solution)


def _problems(solution: Path, base: dict[str, Any], layer: dict[str, Any], template: str = "deployment.arm32v7.template.json",
              platform: str = "arm32v7") -> list[str]:
    return [str(p) for p in validate_layered(base, layer, solution / template, platform, solution, SCHEMAS)]


# ---- generation and validation --------------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "platform"), CASES)
def test_each_platform_gets_a_base_and_a_layer_that_validate(solution: Path, template: str, platform: str) -> None:
    base, layer = _layered(solution, template, platform)
    assert _problems(solution, base, layer, template, platform) == []
    assert layer_problems(layer, "layer") == []
    agent = base["modulesContent"]["$edgeAgent"]["properties.desired"]
    assert agent["modules"] == {} and base["modulesContent"]["$edgeHub"]["properties.desired"]["routes"] == {}
    assert agent["runtime"]["settings"]["registryCredentials"]["registry"]["password"] == "pa55word"
    assert [agent["systemModules"][m]["settings"]["image"] for m in ("edgeAgent", "edgeHub")] == [
        "mcr.microsoft.com/azureiotedge-agent:1.6", "mcr.microsoft.com/azureiotedge-hub:1.6"]
    content = layer["modulesContent"]
    assert set(content["$edgeAgent"]) == {AGENT + m for m in MODULES | {BLOB, COLLECTOR}}
    assert set(content["$edgeHub"]) == {f"properties.desired.routes.{r}" for r in ("CameraToUpstream", "CameraToDisplay",
                                                                                   "CameraToSpeech")}
    assert set(content) == {"$edgeAgent", "$edgeHub"} | MODULES | {BLOB}  # each module's twin: properties.desired, whole
    assert all(set(content[m]) == {"properties.desired"} for m in MODULES | {BLOB})
    image = content["$edgeAgent"][AGENT + "CameraCapture"]["settings"]["image"]
    assert image == f"myregistry.azurecr.io/cameracapture:0.1.0-{platform}"


@pytest.mark.parametrize(("template", "platform"), CASES)
def test_the_base_merged_with_the_layer_is_the_full_manifest_plus_the_collector(solution: Path, template: str,
                                                                                 platform: str) -> None:
    base, layer = _layered(solution, template, platform)
    merged = merge(base, [layer])
    collector = merged["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"].pop(COLLECTOR)
    assert merged == generate(solution / template, platform, _variables(solution), solution)
    env = {k: v["value"] for k, v in collector["env"].items()}
    assert collector["settings"]["image"] == "mcr.microsoft.com/azureiotedge-metrics-collector:2.0.0"
    modules = merged["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]
    ports = {m: str(modules[m].get("env", {}).get("METRICS_PORT", {}).get("value", "9600")) for m in modules}  # 9600 unless set
    assert env["MetricsEndpointsCSV"].split(",") == ["http://edgeHub:9600/metrics", "http://edgeAgent:9600/metrics", *(
        f"http://{m}:{ports[m]}/metrics" for m in ("ImageClassifierService", "CameraCapture", "TextToSpeech",
                                                   "SenseHatDisplay") if ports[m] != "0")]
    assert BLOB not in env["MetricsEndpointsCSV"]  # the storage module serves no Prometheus metrics
    assert env["ResourceId"] == HUB and env["UploadTarget"] == "AzureMonitor"
    assert env["DataCollectionRuleId"] == "dcr-0123456789abcdef0123456789abcdef"
    assert env["DataCollectionStreamName"] == "Custom-IoTEdgeMetrics" and env["ScrapeFrequencyInSecs"] == "300"
    assert "LogAnalyticsSharedKey" not in env and "AZURE_CLIENT_SECRET" not in env  # 2.0: Entra identity, no key


def test_the_development_templates_have_no_collector() -> None:
    for template in ("deployment.template.json", "deployment.arm32v7.template.json"):
        assert COLLECTOR not in (ROOT / template).read_text()


def test_collector_sends_iot_messages_through_an_upstream_route_and_mounts_its_certificate(solution: Path) -> None:
    with (solution / ".env").open("a") as env:
        env.write("METRICS_COLLECTOR_UPLOAD_TARGET=IotMessage\n")
    base, layer = _layered(solution, "deployment.arm32v7.template.json", "arm32v7")
    assert _problems(solution, base, layer) == []
    assert layer["modulesContent"]["$edgeHub"]["properties.desired.routes.MetricsToUpstream"]["route"] == (
        f"FROM /messages/modules/{COLLECTOR}/outputs/metricOutput INTO $upstream")
    with (solution / ".env").open("a") as env:
        env.write("METRICS_COLLECTOR_UPLOAD_TARGET=AzureMonitor\nAZURE_TENANT_ID=t-1\nAZURE_CLIENT_ID=c-1\n"
                  "METRICS_COLLECTOR_CERTIFICATE=/etc/iotedge/collector/client.pem\n")
    base, layer = _layered(solution, "deployment.arm32v7.template.json", "arm32v7")
    assert _problems(solution, base, layer) == []
    spec = layer["modulesContent"]["$edgeAgent"][AGENT + COLLECTOR]
    assert spec["env"]["AZURE_CLIENT_CERTIFICATE_PATH"]["value"] == "/run/secrets/metrics-collector/client.pem"
    assert json.loads(spec["settings"]["createOptions"])["HostConfig"]["Binds"] == [
        "/etc/iotedge/collector:/run/secrets/metrics-collector:ro"]


def test_an_unset_or_malformed_collector_setting_is_named_with_its_fix(solution: Path) -> None:
    (solution / ".env").write_text(ENV.replace(f"METRICS_COLLECTOR_RESOURCE_ID={HUB}\n", "")
                                   .replace("dcr-0123456789abcdef0123456789abcdef", "my-rule"))
    problems = _problems(solution, *_layered(solution, "deployment.arm32v7.template.json", "arm32v7"))
    assert any(f"{COLLECTOR}.env.ResourceId.value: $METRICS_COLLECTOR_RESOURCE_ID is not resolved; add "
               "METRICS_COLLECTOR_RESOURCE_ID=... to .env" in p for p in problems)
    assert any("DataCollectionRuleId.value: 'my-rule' is not the DCR's immutable ID" in p for p in problems)


def test_the_merged_document_gets_every_check_of_a_full_manifest(solution: Path) -> None:
    base, layer = _layered(solution, "deployment.arm32v7.template.json", "arm32v7")
    content = layer["modulesContent"]
    content["$edgeAgent"][AGENT + "TextToSpeech"]["type"] = "podman"  # the public schema
    content["$edgeHub"]["properties.desired.routes.CameraToSpeech"]["route"] = (  # routes between deployed modules
        'FROM /messages/modules/CameraCapture/outputs/classification INTO BrokeredEndpoint("/modules/Speech/inputs/classification")')
    collector = content["$edgeAgent"][AGENT + COLLECTOR]["env"]["MetricsEndpointsCSV"]
    collector["value"] = collector["value"].replace("CameraCapture:9600", "CameraCapture:9700")  # the runner's port check
    content["$edgeAgent"]["properties.desired.systemModules.edgeHub"] = {}  # not a layered path
    problems = _problems(solution, base, layer)
    assert any("TextToSpeech.type: 'podman' is not one of ['docker']" in p for p in problems)
    assert any("routes.CameraToSpeech: names module 'Speech', which is not deployed" in p for p in problems)
    assert any("modules.CameraCapture.env: no PORT, but " in p and "http://CameraCapture:9700" in p for p in problems)
    assert any("properties.desired.systemModules.edgeHub: not a path a layered deployment may set" in p for p in problems)


# ---- target conditions, priorities, metrics ------------------------------------------------------------------

def test_target_conditions_from_the_documentation_parse_and_bad_ones_are_refused_in_one_line() -> None:
    for text in ("deviceId ='linuxprod1'", "tags.environment ='prod'", "tags.environment = 'prod' AND tags.location = 'westus'",
                 "tags.environment = 'prod' OR tags.location = 'westus'", "tags.building=9 and tags.environment='test'",
                 "deviceId='operator''sDevice'", "tags.environment='prod' AND NOT (tags.ring='canary')"):
        parse_condition(text)
    for text, says in (('tags.environment="prod"', "double quotes are not allowed"),
                       ("tags.environment='prod' AND", "expected a comparison"),
                       ("environment='prod'", "expected tags.<name>, deviceId or properties.reported.<name>"),
                       ("tags.site='new york'", "characters IoT Hub does not allow"),
                       ("tags.a='x' tags.b='y'", "expected AND, OR or the end"), ("(tags.a='x'", "expected ')'")):
        with pytest.raises(ConditionError, match=re.escape(says)) as error:
            parse_condition(text)
        assert "\n" not in str(error.value)
    assert matches("deviceId='operator''sDevice'", {"deviceId": "operator'sDevice"})
    assert matches("tags.building=9", {"tags": {"building": 9}}) and not matches("tags.building=9", {"tags": {}})


def test_fleet_settings_come_from_the_command_line_then_env_then_per_platform_defaults() -> None:
    defaults = fleet_settings({}, {}, "arm32v7")
    assert (defaults["target_condition"], defaults["priority"]) == ("tags.environment='prod' AND tags.platform='arm32v7'", 10)
    assert (defaults["base_target_condition"], defaults["base_priority"]) == ("tags.platform='arm32v7'", 0)
    env = {"FLEET_TARGET_CONDITION": "tags.ring='canary'", "FLEET_PRIORITY": "20"}
    assert fleet_settings({}, env, "arm32v7")["target_condition"] == "tags.ring='canary'"
    assert fleet_settings({"priority": "30"}, env, "arm32v7")["priority"] == 30
    with pytest.raises(GenerationError, match="applies only above its base deployment's priority"):
        fleet_settings({"priority": "0"}, {}, "arm32v7")
    with pytest.raises(GenerationError, match="deployment id 'Vision 2'"):
        fleet_settings({"deployment_id": "Vision 2"}, {}, "arm32v7")


def _where(query: str, module: str) -> str:
    prefix = f"SELECT deviceId FROM devices.modules WHERE moduleId = '{module}' AND "
    assert query.startswith(prefix), query
    return query[len(prefix):]


# ---- the CLI --------------------------------------------------------------------------------------------------

def _cli(solution: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "localedge", "genconfig", "--layered", "-f", str(solution / "deployment.arm32v7.template.json"),
            "-P", "arm32v7", "--env-file", str(solution / ".env"), "--schema-dir", str(SCHEMAS), "--output-dir", str(out), *extra]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_writes_the_deployments_and_metrics_0600_and_prints_the_az_commands(solution: Path, tmp_path: Path) -> None:
    out = tmp_path / "config"
    done = _cli(solution, out, "--target-condition", "tags.environment='prod' AND tags.ring='canary'", "--priority", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    names = ["deployment.base.arm32v7.json", "deployment.layered.arm32v7.json", "deployment.layered.arm32v7.metrics.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o600 for name in names)  # the base holds a password
    assert f"--content {out / names[0]} --target-condition \"tags.platform='arm32v7'\" --priority 0" in done.stdout
    assert (f"--deployment-id vision-arm32v7 --content {out / names[1]} --layered --target-condition "
            f"\"tags.environment='prod' AND tags.ring='canary'\" --priority 20 --metrics {out / names[2]}") in done.stdout
    queries = json.loads((out / names[2]).read_text())["queries"]
    assert set(queries) == {"modulesRunning", "modelServed", "cameraErrors"}
    running = _where(queries["modulesRunning"], "$edgeAgent")
    assert running.startswith("configurations.[[vision-arm32v7]].status = 'Applied' AND ")
    assert all(f"properties.reported.modules.{m}.runtimeStatus = 'running'" in running for m in MODULES | {BLOB, COLLECTOR})
    # the module-twin conditions read as IoT Hub conditions do, and count the devices they should
    sha = hashlib.sha256((ROOT / "modules/ImageClassifierService/model/model.tflite").read_bytes()).hexdigest()
    served = _where(queries["modelServed"], "ImageClassifierService")
    # arm32v7 serves the bundled TensorFlow Lite model: its file's hash (a model from modelUrl: the download's)
    assert served == f"(properties.reported.model.exportSha256 = '{sha}' OR properties.reported.model.sha256 = '{sha}')"
    assert matches(served, {"properties": {"reported": {"model": {"sha256": sha, "exportSha256": ""}}}})
    errors = _where(queries["cameraErrors"], "CameraCapture")
    assert [matches(errors, {"properties": {"reported": {"capture": {"counters": {"errors": n}}}}}) for n in (0, 3)] == [False, True]


def test_cli_refuses_a_bad_target_condition_in_one_line_and_writes_nothing(solution: Path, tmp_path: Path) -> None:
    done = _cli(solution, tmp_path / "config", "--target-condition", 'tags.environment="prod"')
    assert done.returncode == 2
    assert done.stdout.strip().splitlines() == [
        "localedge | --target-condition: target condition 'tags.environment=\"prod\"': double quotes are not allowed; "
        "write values in single quotes"]
    assert not (tmp_path / "config").exists()


# ---- IoT Hub's layering rules, applied to a fleet ------------------------------------------------------------

def _device(device_id: str, **tags: str) -> dict[str, Any]:
    return {"deviceId": device_id, "tags": tags, "properties": {"reported": {}}}


@pytest.fixture()
def fleet(solution: Path) -> dict[str, Deployment]:
    """A base at priority 0 for every arm32v7 device, the solution's layer at 10 for production ones, and a canary
    layer at 20 for the production devices of the canary ring: a new camera image, a stricter threshold (one path
    of the camera's desired properties), a changed route."""
    base, layer = _layered(solution, "deployment.arm32v7.template.json", "arm32v7")
    camera = copy.deepcopy(layer["modulesContent"]["$edgeAgent"][AGENT + "CameraCapture"])
    camera["settings"]["image"] = "myregistry.azurecr.io/cameracapture:0.2.0-arm32v7"
    canary = {"modulesContent": {
        "$edgeAgent": {AGENT + "CameraCapture": camera},
        "$edgeHub": {"properties.desired.routes.CameraToUpstream": {
            "route": "FROM /messages/modules/CameraCapture/outputs/classification INTO $upstream", "priority": 0,
            "timeToLiveSecs": 7200}},
        "CameraCapture": {"properties.desired.threshold": 0.7}}}
    return {"base": Deployment("base-arm32v7", base, "tags.platform='arm32v7'", 0, created=1),
            "layer": Deployment("vision-arm32v7", layer, "tags.environment='prod' AND tags.platform='arm32v7'", 10,
                                layered=True, created=2),
            "canary": Deployment("vision-arm32v7-canary", canary,
                                 "tags.environment='prod' AND tags.platform='arm32v7' AND tags.ring='canary'", 20,
                                 layered=True, created=3)}


def _modules(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"])


def _routes(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["modulesContent"]["$edgeHub"]["properties.desired"]["routes"])


def _desired(manifest: dict[str, Any], module: str) -> dict[str, Any]:
    return dict(manifest["modulesContent"].get(module, {}).get("properties.desired", {}))


def test_each_device_gets_its_base_and_the_layers_that_target_it(fleet: dict[str, Deployment]) -> None:
    deployments = list(fleet.values())
    store = resolve(_device("store-1", environment="prod", platform="arm32v7"), deployments)
    canary = resolve(_device("store-2", environment="prod", platform="arm32v7", ring="canary"), deployments)
    lab = resolve(_device("lab-1", environment="test", platform="arm32v7", ring="canary"), deployments)
    other = resolve(_device("pi64-1", environment="prod", platform="arm64v8"), deployments)

    assert (store.base, store.layers) == (fleet["base"], (fleet["layer"],))
    assert set(_modules(store.manifest or {})) == MODULES | {BLOB, COLLECTOR}
    assert set(_routes(store.manifest or {})) == {"CameraToUpstream", "CameraToDisplay", "CameraToSpeech"}
    assert _desired(store.manifest or {}, "CameraCapture")["threshold"] == 0.5

    assert canary.layers == (fleet["layer"], fleet["canary"])
    manifest = canary.manifest or {}
    assert _modules(manifest)["CameraCapture"]["settings"]["image"].endswith(":0.2.0-arm32v7")
    assert _modules(manifest)["TextToSpeech"] == _modules(store.manifest or {})["TextToSpeech"]
    assert _routes(manifest)["CameraToUpstream"]["route"].endswith("classification INTO $upstream")  # the canary's
    desired = _desired(manifest, "CameraCapture")
    assert desired["threshold"] == 0.7  # the canary's path overrides the layer below
    assert desired == {**_desired(store.manifest or {}, "CameraCapture"), "threshold": 0.7}  # and nothing else changes

    assert (lab.base, lab.layers) == (fleet["base"], ())  # not production: the base alone, no module, no route
    assert _modules(lab.manifest or {}) == {} and _routes(lab.manifest or {}) == {}
    assert (other.base, other.manifest) == (None, None)  # no base targets it: layers have nothing to stand on


def test_rollback_by_priority_and_a_whole_desired_document_replacing_a_lower_one(fleet: dict[str, Deployment]) -> None:
    device = _device("store-2", environment="prod", platform="arm32v7", ring="canary")
    lowered = dataclasses.replace(fleet["canary"], priority=5)  # the canary below the layer: the layer wins
    manifest = resolve(device, [fleet["base"], fleet["layer"], lowered]).manifest or {}
    assert _desired(manifest, "CameraCapture")["threshold"] == 0.5
    assert _modules(manifest)["CameraCapture"]["settings"]["image"].endswith(":0.1.0-arm32v7")
    replace = Deployment("voice", {"modulesContent": {"$edgeAgent": {}, "TextToSpeech": {"properties.desired": {"voice": "x"}}}},
                         "tags.ring='canary'", 30, layered=True, created=4)
    manifest = resolve(device, [*fleet.values(), replace]).manifest or {}
    assert _desired(manifest, "TextToSpeech") == {"voice": "x"}  # properties.desired itself: the whole document


def test_only_the_highest_priority_base_applies_and_layers_must_rank_above_it(fleet: dict[str, Deployment]) -> None:
    device = _device("store-1", environment="prod", platform="arm32v7")
    newer = copy.deepcopy(fleet["base"].content)
    hub = newer["modulesContent"]["$edgeAgent"]["properties.desired"]["systemModules"]["edgeHub"]
    hub["settings"]["image"] = "mcr.microsoft.com/azureiotedge-hub:1.6.1"
    same_priority_newer = Deployment("base-arm32v7-b", newer, "tags.platform='arm32v7'", 0, created=9)
    outcome = resolve(device, [*fleet.values(), same_priority_newer])
    assert outcome.base == same_priority_newer  # equal priorities: the most recently created; bases never merge
    higher = Deployment("base-high", fleet["base"].content, "deviceId='store-1'", 10, created=0)
    outcome = resolve(device, [*fleet.values(), higher])
    assert outcome.base == higher and outcome.layers == ()  # the layer at 10 no longer ranks above it
    assert _modules(outcome.manifest or {}) == {}
