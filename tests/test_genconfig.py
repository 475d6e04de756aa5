"""Manifest generation matches the IoT Edge tooling, and validation finds what would break a deployment."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SCHEMAS, copy_solution, tool_venv
from localedge.deploy.genconfig import generate
from localedge.deploy.validation import validate

BLOB_KEY = base64.b64encode(bytes(range(64))).decode()  # a 64-byte key, as the blob module requires
CLOUD = f"DefaultEndpointsProtocol=https;AccountName=mycloudstore;AccountKey={BLOB_KEY};EndpointSuffix=core.windows.net"
ENV = ("CONTAINER_REGISTRY_ADDRESS=MyRegistry.azurecr.io\nCONTAINER_REGISTRY_USERNAME=myregistry\n"
       "CONTAINER_REGISTRY_PASSWORD=pa55word\nSPEECH_KEY=0123456789abcdef0123456789abcdef\nSPEECH_REGION=westeurope\nSPEECH_HOST=\nPREDICTION_KEY=\nLIVE_VIEW_TOKEN=\n"
       f"CAPTURE_STORAGE=blob\nBLOB_ACCOUNT_NAME=captures01\nBLOB_ACCOUNT_KEY={BLOB_KEY}\nBLOB_UPLOAD_CONNECTION_STRING={CLOUD}\n")
REGISTRY_ONLY = ((ROOT / ".env.example").read_text()  # .env as the deploy section says: the example, registry values filled
                 .replace("CONTAINER_REGISTRY_PASSWORD=<registry password>", "CONTAINER_REGISTRY_PASSWORD=pa55word"))
OFFLINE = {"https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""}  # any request to the internet fails
CASES = [("deployment.arm32v7.template.json", "arm32v7", "deployment.arm32v7.arm32v7.json"),
         ("deployment.template.json", "arm64v8", "deployment.arm64v8.json"),
         ("deployment.template.json", "amd64", "deployment.amd64.json")]


@pytest.fixture(scope="session")
def iotedgedev() -> Path:
    """The real iotedgedev CLI, in its own venv (it pins old Azure packages): ``make iotedgedev-venv``."""
    return tool_venv(".venv-iotedgedev", "iotedgedev-venv").parent / "iotedgedev"


@pytest.fixture()
def solution(tmp_path: Path) -> Path:
    """A copy of the solution's templates and modules with a filled-in .env."""
    return copy_solution(tmp_path, ENV)


def _ours(solution: Path, template: str, platform: str) -> dict:
    from localedge.deploy.manifest import load_variables

    return generate(solution / template, platform, load_variables(solution / ".env", {}), solution)


def _theirs(iotedgedev: Path, solution: Path, template: str, platform: str, output: str) -> dict:
    done = subprocess.run([str(iotedgedev), "solution", "genconfig", "-f", template, "-P", platform],
                          cwd=solution, capture_output=True, text=True, timeout=300)
    assert (solution / "config" / output).is_file(), done.stdout + done.stderr
    return json.loads((solution / "config" / output).read_text())


@pytest.mark.parametrize(("template", "platform", "output"), CASES)
def test_generates_exactly_what_iotedgedev_generates(iotedgedev: Path, solution: Path, template: str, platform: str,
                                                     output: str) -> None:
    ours = _ours(solution, template, platform)
    assert ours == _theirs(iotedgedev, solution, template, platform, output)
    image = ours["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]["settings"]["image"]
    assert image == f"myregistry.azurecr.io/cameracapture:0.1.0-{platform}"
    assert validate(ours, solution / template, platform, solution, SCHEMAS) == []


def test_long_create_options_are_split_like_iotedgedev(iotedgedev: Path, solution: Path) -> None:
    path = solution / "deployment.template.json"
    document = json.loads(path.read_text())
    camera = document["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]
    camera["settings"]["createOptions"]["Labels"] = {f"org.example.label{i}": "x" * 40 for i in range(25)}
    path.write_text(json.dumps(document, indent=2))
    ours = _ours(solution, "deployment.template.json", "amd64")
    settings = ours["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]["settings"]
    assert [k for k in settings if k.startswith("createOptions")] == ["createOptions", "createOptions01", "createOptions02", "createOptions03"]
    assert all(len(settings[k]) == 512 for k in ("createOptions", "createOptions01", "createOptions02"))
    assert ours == _theirs(iotedgedev, solution, "deployment.template.json", "amd64", "deployment.amd64.json")


def _edit(solution: Path, template: str, change) -> Path:  # type: ignore[no-untyped-def]
    path = solution / template
    document = json.loads(path.read_text())
    change(document["modulesContent"])
    path.write_text(json.dumps(document, indent=2))
    return path


def _problems(solution: Path, template: str = "deployment.arm32v7.template.json", platform: str = "arm32v7") -> list[str]:
    return [str(p) for p in validate(_ours(solution, template, platform), solution / template, platform, solution, SCHEMAS)]


def test_a_route_to_a_module_or_input_that_does_not_exist(solution: Path) -> None:
    def change(content: dict) -> None:
        routes = content["$edgeHub"]["properties.desired"]["routes"]
        routes["CameraToDisplay"]["route"] = routes["CameraToDisplay"]["route"].replace("SenseHatDisplay", "SenseHat")
        routes["CameraToSpeech"]["route"] = routes["CameraToSpeech"]["route"].replace("inputs/classification", "inputs/input1")
    _edit(solution, "deployment.arm32v7.template.json", change)
    problems = _problems(solution)
    assert any("routes.CameraToDisplay: names module 'SenseHat', which is not deployed" in p and "case-sensitive" in p for p in problems)
    assert any("routes.CameraToSpeech: TextToSpeech has no input 'input1' (inputs: classification)" in p for p in problems)


def test_routes_to_and_from_a_marketplace_module_are_validated_without_its_module_json(solution: Path) -> None:
    def change(content: dict) -> None:
        content["$edgeAgent"]["properties.desired"]["modules"]["SimulatedTemperatureSensor"] = {
            "version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
            "settings": {"image": "mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.5", "createOptions": {}}}
        routes = content["$edgeHub"]["properties.desired"]["routes"]
        routes["SensorToUpstream"] = {"route": "FROM /messages/modules/SimulatedTemperatureSensor/outputs/temperatureOutput "
                                               "INTO $upstream", "priority": 0, "timeToLiveSecs": 60}
        routes["CameraToSensor"] = {"route": "FROM /messages/modules/CameraCapture/outputs/classification INTO "
                                             'BrokeredEndpoint("/modules/SimulatedTemperatureSensor/inputs/control")'}
        routes["SensorToSpeech"] = {"route": "FROM /messages/modules/SimulatedTemperatureSensor/outputs/temperatureOutput "
                                             'INTO BrokeredEndpoint("/modules/TextToSpeech/inputs/temperature")'}
    _edit(solution, "deployment.template.json", change)
    # its outputs and inputs are unknown (no module.json), so any names pass; this solution's modules are still checked
    assert _problems(solution, "deployment.template.json", "amd64") == [
        f"{solution / 'deployment.template.json'}: modulesContent.$edgeHub.properties.desired.routes.SensorToSpeech: "
        "TextToSpeech has no input 'temperature' (inputs: classification); use one of those"]


def test_route_conditions_and_settings_are_checked_as_edgehub_reads_them(solution: Path) -> None:
    def change(content: dict) -> None:
        routes = content["$edgeHub"]["properties.desired"]["routes"]
        source = "FROM /messages/modules/CameraCapture/outputs/classification"
        routes["Confident"] = {"route": f"{source} WHERE ABS($body.predictions[0].probability) > 0.6 AND "
                                        "$outputName = 'classification' INTO $upstream", "priority": 1, "timeToLiveSecs": 600}
        routes["Typed"] = {"route": f"{source} WHERE schemaVersion = 1 INTO $upstream"}
        routes["Arrays"] = f"{source} WHERE IS_ARRAY($body.predictions) INTO $upstream"
    _edit(solution, "deployment.template.json", change)
    where = f"{solution / 'deployment.template.json'}: modulesContent.$edgeHub.properties.desired.routes"
    assert sorted(p for p in _problems(solution, "deployment.template.json", "amd64") if ".routes." in p) == [
        f"{where}.Arrays: route 'Arrays': function IS_ARRAY is not supported by edgeHub (an array in $body is undefined "
        "to edgeHub; test an element instead, e.g. IS_DEFINED($body.predictions[0]))",
        f"{where}.Typed: route 'Typed': = needs two values of one type, not a string, an application property "
        "(schemaVersion) and a number (1), in the condition 'schemaVersion = 1'; application properties are strings: "
        "compare schemaVersion with a string ('1'), or convert it with AS_NUMBER(schemaVersion)"]


def test_unresolved_variables_name_the_variable_and_the_fix(solution: Path) -> None:
    (solution / ".env").write_text("CONTAINER_REGISTRY_ADDRESS=myregistry.azurecr.io\n")
    problems = _problems(solution)
    assert any(p.startswith(f"{solution / 'deployment.arm32v7.template.json'}: modulesContent.$edgeAgent.properties.desired."
                            "runtime.settings.registryCredentials.registry.password: $CONTAINER_REGISTRY_PASSWORD is not "
                            "resolved; add CONTAINER_REGISTRY_PASSWORD=... to .env") for p in problems)


def test_a_module_without_an_image_for_the_platform(solution: Path) -> None:
    module_json = solution / "modules" / "TextToSpeech" / "module.json"
    document = json.loads(module_json.read_text())
    del document["image"]["tag"]["platforms"]["arm32v7"]
    module_json.write_text(json.dumps(document))
    assert any("TextToSpeech.settings.image: modules/TextToSpeech has no arm32v7 image; add Dockerfile.arm32v7" in p
               for p in _problems(solution))


def test_create_options_over_4kb_and_schema_errors(solution: Path) -> None:
    def change(content: dict) -> None:
        modules = content["$edgeAgent"]["properties.desired"]["modules"]
        modules["CameraCapture"]["settings"]["createOptions"]["Labels"] = {f"l{i}": "x" * 100 for i in range(45)}
        modules["TextToSpeech"]["type"] = "podman"
    _edit(solution, "deployment.arm32v7.template.json", change)
    problems = _problems(solution)
    assert any("CameraCapture.settings.createOptions: " in p and "over the 4096 IoT Edge accepts" in p for p in problems)
    assert any("TextToSpeech.type: 'podman' is not one of ['docker'] (the public deployment schema); use one of those" in p
               for p in problems)


def test_secrets_written_into_the_template_are_refused(solution: Path) -> None:
    def change(content: dict) -> None:
        agent = content["$edgeAgent"]["properties.desired"]
        agent["runtime"]["settings"]["registryCredentials"]["registry"]["password"] = "hunter2hunter2"
        agent["modules"]["TextToSpeech"]["env"]["SPEECH_KEY"]["value"] = "0123456789abcdef0123456789abcdef"
    _edit(solution, "deployment.arm32v7.template.json", change)
    problems = _problems(solution)
    assert any("registryCredentials.registry.password: looks like a secret written into the template; put it in .env" in p
               for p in problems)
    assert any("TextToSpeech.env.SPEECH_KEY.value: looks like a secret" in p and "write $SPEECH_KEY here" in p for p in problems)
    assert all("westeurope" not in p for p in problems)


def test_cli_writes_a_valid_manifest_and_refuses_an_invalid_one(solution: Path, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "localedge", "genconfig", "-f", str(solution / "deployment.arm32v7.template.json"),
            "-P", "arm32v7", "--env-file", str(solution / ".env"), "--schema-dir", str(SCHEMAS),
            "--output-dir", str(tmp_path / "config")]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert stat.S_IMODE((tmp_path / "config" / "deployment.arm32v7.json").stat().st_mode) == 0o600  # it holds a password
    written = json.loads((tmp_path / "config" / "deployment.arm32v7.json").read_text())
    assert written["modulesContent"]["$edgeAgent"]["properties.desired"]["runtime"]["settings"]["registryCredentials"][
        "registry"]["password"] == "pa55word"
    (solution / ".env").write_text("")
    (tmp_path / "config" / "deployment.arm32v7.json").unlink()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "problem(s); nothing written" in done.stdout
    assert not (tmp_path / "config" / "deployment.arm32v7.json").exists()


def test_a_manifest_written_over_an_older_readable_one_is_readable_by_its_owner_only(solution: Path, tmp_path: Path) -> None:
    target = tmp_path / "config" / "deployment.amd64.json"
    target.parent.mkdir()
    target.write_text("{}")
    target.chmod(0o644)
    done = subprocess.run([sys.executable, "-m", "localedge", "genconfig", "-f", str(solution / "deployment.template.json"),
                           "-P", "amd64", "--env-file", str(solution / ".env"), "--schema-dir", str(SCHEMAS),
                           "--output-dir", str(target.parent)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "pa55word" in target.read_text() and [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_metrics_url_on_a_modules_metrics_port_needs_no_port_but_any_other_does(solution: Path) -> None:
    from localedge.deploy.manifest import ManifestError

    def scrape(url: str):  # type: ignore[no-untyped-def]
        def change(content: dict) -> None:
            content["$edgeAgent"]["properties.desired"]["modules"]["SenseHatDisplay"]["env"]["SCRAPE"] = {"value": url}
        return change
    _edit(solution, "deployment.arm32v7.template.json", scrape("http://CameraCapture:9600/metrics"))  # its METRICS_PORT
    assert _problems(solution) == []
    _edit(solution, "deployment.arm32v7.template.json", scrape("http://CameraCapture:9700/metrics"))
    with pytest.raises(ManifestError, match="CameraCapture.env: no PORT, but .*http://CameraCapture:9700"):
        _problems(solution)


def _genconfig_cli(folder: Path, env_text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m localedge genconfig`` as a user runs it from ``folder`` (its .env), with no internet."""
    import os

    (folder / ".env").write_text(env_text)
    return subprocess.run([sys.executable, "-m", "localedge", "genconfig", *args], cwd=folder, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **OFFLINE, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("platform", ["arm32v7", "arm64v8", "amd64", None])
def test_registry_values_alone_make_a_valid_manifest_offline(tmp_path: Path, platform: str | None) -> None:
    """.env with the registry values only, no internet: a valid manifest for each platform from its own template
    (no -f), without the Blob Storage module or anything naming it; no platform given: arm32v7, as make config."""
    done = _genconfig_cli(tmp_path, REGISTRY_ONLY, *(["-P", platform] if platform else []))
    assert done.returncode == 0, done.stdout + done.stderr
    wanted = platform or "arm32v7"
    manifest = json.loads((tmp_path / "config" / f"deployment.{wanted}.json").read_text())
    modules = manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]
    assert sorted(modules) == ["CameraCapture", "ImageClassifierService", "SenseHatDisplay", "TextToSpeech"]
    assert "blobstorage" not in manifest["modulesContent"]
    assert "CAPTURE_STORAGE_CONNECTION_STRING" not in modules["CameraCapture"]["env"]
    assert modules["CameraCapture"]["settings"]["image"] == f"myregistry.azurecr.io/cameracapture:0.1.0-{wanted}"
    assert "blob" not in json.dumps(manifest).lower()


def test_capture_storage_blob_deploys_the_blob_module_for_the_platform(tmp_path: Path) -> None:
    done = _genconfig_cli(tmp_path, ENV, "-P", "arm32v7")
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "config" / "deployment.arm32v7.json").read_text())
    modules = manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]
    assert modules["blobstorage"]["settings"]["image"] == "mcr.microsoft.com/azure-blob-storage:1.4.1-linux-arm32v7"
    assert "BlobEndpoint=http://blobstorage:11002/captures01" in modules["CameraCapture"]["env"]["CAPTURE_STORAGE_CONNECTION_STRING"]["value"]


def test_capture_storage_blob_without_its_keys_is_refused_as_before(tmp_path: Path) -> None:
    done = _genconfig_cli(tmp_path, REGISTRY_ONLY.replace("\nCAPTURE_STORAGE=\n", "\nCAPTURE_STORAGE=blob\n"), "-P", "arm64v8")
    assert done.returncode == 2, done.stdout + done.stderr  # nothing written
    assert "BLOB_ACCOUNT_KEY" in done.stdout and "nothing written" in done.stdout
    assert not (tmp_path / "config").exists()
    wrong = _genconfig_cli(tmp_path, REGISTRY_ONLY.replace("\nCAPTURE_STORAGE=\n", "\nCAPTURE_STORAGE=azure\n"), "-P", "arm64v8")
    assert wrong.returncode == 2 and "CAPTURE_STORAGE=azure" in wrong.stdout and "blob" in wrong.stdout
