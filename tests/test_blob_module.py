"""Azure Blob Storage on IoT Edge in the deployment templates: generated for every platform, valid against the
public schema and the project's checks, reachable by CameraCapture with the azure-storage-blob SDK, and refused
with the file, the JSON path and the fix when its settings break what Microsoft's documentation requires."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from capture.settings import CaptureSettings
from conftest import ROOT, SCHEMAS, copy_solution
from localedge.deploy.genconfig import generate
from localedge.deploy.layered import generate_layered, validate_layered
from localedge.deploy.validation import validate
from localedge.deploy.layering import COLLECTOR, merge
from localedge.deploy.manifest import load_variables

BLOB = "blobstorage"
KEY = base64.b64encode(bytes(range(64))).decode()  # 64 bytes, as the module requires
CLOUD_KEY = base64.b64encode(bytes(range(64, 128))).decode()
CLOUD = f"DefaultEndpointsProtocol=https;AccountName=mycloudstore;AccountKey={CLOUD_KEY};EndpointSuffix=core.windows.net"
ENV = {"CONTAINER_REGISTRY_ADDRESS": "myregistry.azurecr.io", "CONTAINER_REGISTRY_USERNAME": "myregistry",
       "CONTAINER_REGISTRY_PASSWORD": "pa55word", "SPEECH_KEY": "", "SPEECH_REGION": "", "PREDICTION_KEY": "", "LIVE_VIEW_TOKEN": "",
       "CAPTURE_STORAGE": "blob", "BLOB_ACCOUNT_NAME": "captures01", "BLOB_ACCOUNT_KEY": KEY, "BLOB_UPLOAD_CONNECTION_STRING": CLOUD,
       "METRICS_COLLECTOR_RESOURCE_ID": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                                        "Microsoft.Devices/IotHubs/my-hub",
       "METRICS_COLLECTOR_ENDPOINT": "https://my-dce.westeurope-1.ingest.monitor.azure.com",
       "METRICS_COLLECTOR_RULE_ID": "dcr-0123456789abcdef0123456789abcdef"}
CASES = [("deployment.arm32v7.template.json", "arm32v7", "mcr.microsoft.com/azure-blob-storage:1.4.1-linux-arm32v7"),
         ("deployment.template.json", "arm64v8", "mcr.microsoft.com/azure-blob-storage:1.4.1"),
         ("deployment.template.json", "amd64", "mcr.microsoft.com/azure-blob-storage:1.4.1")]
AGENT = "modulesContent.$edgeAgent.properties.desired.modules"


def _env_text(env: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in env.items())


def _write_env(folder: Path, env: dict[str, str]) -> None:
    (folder / ".env").write_text(_env_text(env))


@pytest.fixture()
def solution(tmp_path: Path) -> Path:
    """A copy of the solution's templates and modules with a filled-in .env."""
    return copy_solution(tmp_path, _env_text(ENV))


def _generate(solution: Path, template: str, platform: str) -> dict[str, Any]:
    return generate(solution / template, platform, load_variables(solution / ".env", {}), solution)


def _problems(solution: Path, template: str = "deployment.template.json", platform: str = "amd64") -> list[str]:
    manifest = _generate(solution, template, platform)
    return [str(p) for p in validate(manifest, solution / template, platform, solution, SCHEMAS)]


def _edit(solution: Path, change: Callable[[dict[str, Any]], None], template: str = "deployment.template.json") -> None:
    path = solution / template
    document = json.loads(path.read_text())
    change(document["modulesContent"])
    path.write_text(json.dumps(document, indent=2))


def _blob(content: dict[str, Any]) -> dict[str, Any]:
    return dict(content["$edgeAgent"]["properties.desired"]["modules"][BLOB])


def _twin(content: dict[str, Any]) -> dict[str, Any]:
    return dict(content[BLOB]["properties.desired"])


# ---- what the templates deploy ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "platform", "image"), CASES)
def test_each_platform_gets_the_blob_module_as_documented_and_the_manifest_validates(solution: Path, template: str,
                                                                                      platform: str, image: str) -> None:
    manifest = _generate(solution, template, platform)
    assert validate(manifest, solution / template, platform, solution, SCHEMAS) == []
    content = manifest["modulesContent"]
    spec = content["$edgeAgent"]["properties.desired"]["modules"][BLOB]
    assert spec["settings"]["image"] == image  # pinned; the arm32v7 template names the arm32v7 image
    options = json.loads(spec["settings"]["createOptions"])
    assert options["HostConfig"]["Binds"] == ["blobstorage-data:/blobroot"]  # a volume: blobs survive a new container
    assert options["HostConfig"]["PortBindings"] == {"11002/tcp": [{"HostIp": "127.0.0.1", "HostPort": "11002"}]}
    assert {k: v["value"] for k, v in spec["env"].items()} == {"LOCAL_STORAGE_ACCOUNT_NAME": "captures01",
                                                               "LOCAL_STORAGE_ACCOUNT_KEY": KEY}
    assert spec["startupOrder"] < content["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]["startupOrder"]
    twin = content[BLOB]["properties.desired"]
    assert twin["deviceAutoDeleteProperties"] == {"deleteOn": True, "deleteAfterMinutes": 1440, "retainWhileUploading": True}
    upload = twin["deviceToCloudUploadProperties"]
    assert upload["cloudStorageConnectionString"] == CLOUD and upload["deleteAfterUpload"] is True
    assert upload["storageContainersForUpload"] == {"captures": {"target": "%d-%c"}}
    camera = content["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]
    container = camera["env"].get("CAPTURE_CONTAINER", {}).get("value") or CaptureSettings().capture_container
    assert container in upload["storageContainersForUpload"]  # what CameraCapture writes is uploaded, then deleted
    assert "cameracapture-captures:/captures" in json.loads(camera["settings"]["createOptions"])["HostConfig"]["Binds"]


def test_camera_capture_reaches_the_module_with_a_connection_string_the_sdk_reads(solution: Path) -> None:
    content = _generate(solution, "deployment.template.json", "amd64")["modulesContent"]
    camera = content["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]
    text = camera["env"]["CAPTURE_STORAGE_CONNECTION_STRING"]["value"]
    client = BlobServiceClient.from_connection_string(text)
    assert client.url == f"http://{BLOB}:11002/captures01/"  # the module's documented endpoint for other modules
    assert client.account_name == "captures01"
    assert client.credential.account_key == KEY  # the same key the module is given


def test_the_blob_module_travels_in_the_layer_with_the_app_and_is_not_scraped_for_metrics(solution: Path) -> None:
    template = solution / "deployment.arm32v7.template.json"
    base, layer = generate_layered(template, "arm32v7", load_variables(solution / ".env", {}), solution)
    assert validate_layered(base, layer, template, "arm32v7", solution, SCHEMAS) == []
    assert base["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"] == {}
    agent = layer["modulesContent"]["$edgeAgent"]
    assert f"properties.desired.modules.{BLOB}" in agent and BLOB in layer["modulesContent"]  # module and its twin
    endpoints = agent[f"properties.desired.modules.{COLLECTOR}"]["env"]["MetricsEndpointsCSV"]["value"].split(",")
    assert "http://CameraCapture:9600/metrics" in endpoints and not any(BLOB in url for url in endpoints)
    merged = merge(base, [layer])["modulesContent"]
    assert _twin(merged) == _twin(_generate(solution, "deployment.arm32v7.template.json", "arm32v7")["modulesContent"])


# ---- bad settings, refused with the file, the JSON path and the fix ---------------------------------------------

def _set_twin(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(content: dict[str, Any]) -> None:
        node = content[BLOB]["properties.desired"]
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return change


_DELETE = object()
TWIN = f"modulesContent.{BLOB}.properties.desired"
BAD_TWINS = {
    "deleteOn not a boolean": ("deviceAutoDeleteProperties.deleteOn", "yes",
                               f"{TWIN}.deviceAutoDeleteProperties.deleteOn: Input should be a valid boolean"),
    "no retention minutes": ("deviceAutoDeleteProperties.deleteAfterMinutes", 0,
                             f"{TWIN}.deviceAutoDeleteProperties.deleteAfterMinutes: Input should be greater than or equal to 1"),
    "minutes as a string": ("deviceAutoDeleteProperties.deleteAfterMinutes", "60",
                            "deleteAfterMinutes: Input should be a valid integer"),
    "retention switched on without minutes": ("deviceAutoDeleteProperties.deleteAfterMinutes", _DELETE,
                                              "deleteOn is true but deleteAfterMinutes is not set"),
    "no local retention at all": ("deviceAutoDeleteProperties", _DELETE, f"{TWIN}.deviceAutoDeleteProperties: is missing"),
    "a misspelt setting": ("deviceToCloudUploadProperties.deleteAfterUplaod", True,
                           "deleteAfterUplaod: is not a setting of the blob module; remove it or fix its spelling"),
    "an upload order the module does not know": ("deviceToCloudUploadProperties.uploadOrder", "Newest",
                                                 "uploadOrder: Input should be 'NewestFirst' or 'OldestFirst'"),
    "a target that is no container name": ("deviceToCloudUploadProperties.storageContainersForUpload",
                                           {"captures": {"target": "My_Captures"}},
                                           "storageContainersForUpload.captures.target: 'My_Captures' is not a container name"),
    "a source that is no container name": ("deviceToCloudUploadProperties.storageContainersForUpload",
                                           {"Captures": {"target": "%d-%c"}},
                                           "storageContainersForUpload.Captures: 'Captures' is not a container name"),
    "upload on with nothing to upload": ("deviceToCloudUploadProperties.storageContainersForUpload", {},
                                         "storageContainersForUpload: is empty, but uploadOn is true"),
}


@pytest.mark.parametrize("case", list(BAD_TWINS))
def test_bad_desired_properties_are_refused_with_the_path_and_the_reason(solution: Path, case: str) -> None:
    path, value, says = BAD_TWINS[case]
    _edit(solution, _set_twin(path, value))
    problems = _problems(solution)
    assert any(says in p for p in problems), problems
    assert all(p.startswith(f"{solution / 'deployment.template.json'}: ") and "\n" not in p for p in problems)


def test_upload_switched_on_without_a_usable_cloud_connection_string_is_refused_without_quoting_it(solution: Path) -> None:
    _write_env(solution, {**ENV, "BLOB_UPLOAD_CONNECTION_STRING": ""})
    assert any(f"{TWIN}.deviceToCloudUploadProperties.cloudStorageConnectionString: is empty, but uploadOn is true; "
               "put the cloud storage account's connection string in .env" in p for p in _problems(solution))
    secret = "DefaultEndpointsProtocol=https;AccountName=mycloudstore;AccountKey=not*base64*at*all"
    _write_env(solution, {**ENV, "BLOB_UPLOAD_CONNECTION_STRING": secret})
    problems = _problems(solution)
    assert any("cloudStorageConnectionString: has an AccountKey that is not base64" in p for p in problems), problems
    assert not any("not*base64" in p for p in problems)
    _write_env(solution, {**ENV, "BLOB_UPLOAD_CONNECTION_STRING": "https://mycloudstore.blob.core.windows.net/?sv=x"})
    assert any("is not a storage connection string" in p for p in _problems(solution))
    sas = "BlobEndpoint=https://mycloudstore.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sp=cw&sig=abc"
    _write_env(solution, {**ENV, "BLOB_UPLOAD_CONNECTION_STRING": sas})  # a write-only SAS is the better choice
    assert _problems(solution) == []


def test_a_bad_local_account_name_or_key_is_refused_and_the_key_never_printed(solution: Path) -> None:
    _write_env(solution, {**ENV, "BLOB_ACCOUNT_NAME": "Captures_01", "BLOB_ACCOUNT_KEY": "c2hvcnQta2V5"})  # "short-key"
    problems = _problems(solution)
    assert any(f"{AGENT}.{BLOB}.env.LOCAL_STORAGE_ACCOUNT_NAME.value: 'Captures_01' is not a storage account name; use "
               "3-24 lowercase letters and digits" in p for p in problems), problems
    assert any(f"{AGENT}.{BLOB}.env.LOCAL_STORAGE_ACCOUNT_KEY.value: is not a 64-byte key in base64; make one with" in p
               for p in problems), problems
    assert not any("c2hvcnQta2V5" in p for p in problems)
    _write_env(solution, {k: v for k, v in ENV.items() if not k.startswith("BLOB_ACCOUNT")})
    problems = _problems(solution)
    assert any("$BLOB_ACCOUNT_KEY is not resolved; add BLOB_ACCOUNT_KEY=... to .env" in p for p in problems), problems
    assert not any("is not a 64-byte key" in p for p in problems)  # one finding per cause


def test_an_unpinned_image_or_one_for_another_platform_is_refused(solution: Path) -> None:
    def image(value: str) -> Callable[[dict[str, Any]], None]:
        return lambda content: _blob(content)["settings"].update(image=value)

    _edit(solution, image("mcr.microsoft.com/azure-blob-storage:latest"))
    assert any(f"{AGENT}.{BLOB}.settings.image: mcr.microsoft.com/azure-blob-storage:latest is not pinned" in p
               for p in _problems(solution))
    _edit(solution, image("mcr.microsoft.com/azure-blob-storage:1.4.1-linux-amd64"), "deployment.arm32v7.template.json")
    assert any("is the linux-amd64 image, but this manifest is for arm32v7; use the arm32v7 tag "
               "(e.g. mcr.microsoft.com/azure-blob-storage:1.4.1-linux-arm32v7)" in p
               for p in _problems(solution, "deployment.arm32v7.template.json", "arm32v7"))


def test_no_blobroot_volume_and_an_upper_case_module_name_are_refused(solution: Path) -> None:
    def change(content: dict[str, Any]) -> None:
        modules = content["$edgeAgent"]["properties.desired"]["modules"]
        spec = modules.pop(BLOB)
        spec["settings"]["createOptions"]["HostConfig"]["Binds"] = ["blobstorage-data:/data"]
        modules["AzureBlobStorageonIoTEdge"] = spec
        content["AzureBlobStorageonIoTEdge"] = content.pop(BLOB)
        camera = modules["CameraCapture"]["env"]["CAPTURE_STORAGE_CONNECTION_STRING"]
        camera["value"] = camera["value"].replace(BLOB, "AzureBlobStorageonIoTEdge")
    _edit(solution, change)
    problems = _problems(solution)
    assert any(f"{AGENT}.AzureBlobStorageonIoTEdge.settings.createOptions.HostConfig.Binds: no binding of /blobroot" in p
               for p in problems), problems
    assert any(f"{AGENT}.AzureBlobStorageonIoTEdge: name the blob module in lowercase (e.g. azureblobstorageoniotedge)" in p
               for p in problems), problems


@pytest.mark.parametrize(("replace", "wrong", "says"), [
    (":11002/", ":11003/", f"reaches {BLOB} at http://{BLOB}:11003; the module serves http on port 11002"),
    ("http://", "https://", f"reaches {BLOB} at https://{BLOB}:11002; the module serves http on port 11002"),
    ("/$BLOB_ACCOUNT_NAME;", "/otheraccount;",
     "the BlobEndpoint path and AccountName must be the module's LOCAL_STORAGE_ACCOUNT_NAME (captures01)"),
])
def test_a_camera_connection_string_that_misses_the_module_is_refused(solution: Path, replace: str, wrong: str,
                                                                       says: str) -> None:
    def change(content: dict[str, Any]) -> None:
        entry = content["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]["env"]["CAPTURE_STORAGE_CONNECTION_STRING"]
        entry["value"] = entry["value"].replace(replace, wrong, 1)
    _edit(solution, change)
    assert any(f"{AGENT}.CameraCapture.env.CAPTURE_STORAGE_CONNECTION_STRING.value: {says}" in p
               for p in _problems(solution)), _problems(solution)


def test_a_key_written_into_the_template_is_refused_but_a_connection_string_of_env_variables_is_not(solution: Path) -> None:
    assert _problems(solution) == []  # CameraCapture's ...;AccountKey=$BLOB_ACCOUNT_KEY is from .env

    def change(content: dict[str, Any]) -> None:
        entry = content["$edgeAgent"]["properties.desired"]["modules"]["CameraCapture"]["env"]["CAPTURE_STORAGE_CONNECTION_STRING"]
        entry["value"] = entry["value"].replace("$BLOB_ACCOUNT_KEY", KEY)
        content[BLOB]["properties.desired"]["deviceToCloudUploadProperties"]["cloudStorageConnectionString"] = CLOUD
    _edit(solution, change)
    problems = _problems(solution)
    assert any("CameraCapture.env.CAPTURE_STORAGE_CONNECTION_STRING.value: looks like a secret written into the template; "
               "put it in .env" in p for p in problems), problems
    assert any(f"{TWIN}.deviceToCloudUploadProperties.cloudStorageConnectionString: looks like a secret" in p
               for p in problems), problems


def test_cli_writes_the_manifest_with_the_blob_module_and_refuses_a_bad_one(solution: Path, tmp_path: Path) -> None:
    out = tmp_path / "config"
    args = [sys.executable, "-m", "localedge", "genconfig", "-f", str(solution / "deployment.arm32v7.template.json"),
            "-P", "arm32v7", "--env-file", str(solution / ".env"), "--schema-dir", str(SCHEMAS), "--output-dir", str(out)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((out / "deployment.arm32v7.json").read_text())
    assert _twin(written["modulesContent"])["deviceAutoDeleteProperties"]["deleteAfterMinutes"] == 1440
    (out / "deployment.arm32v7.json").unlink()
    _edit(solution, _set_twin("deviceAutoDeleteProperties.retainWhileUploading", "true"), "deployment.arm32v7.template.json")
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2  # nothing written
    assert done.stdout.strip() == (f"localedge | {solution / 'deployment.arm32v7.template.json'}: {TWIN}.deviceAutoDeleteProperties."
                                   "retainWhileUploading: Input should be a valid boolean (got \"true\"); nothing written")
    assert not (out / "deployment.arm32v7.json").exists()
