"""The rules of Azure Blob Storage on IoT Edge (mcr.microsoft.com/azure-blob-storage) for a deployment manifest,
each finding one :class:`~localedge.deploy.checks.Problem` line naming the file, the JSON path and the fix.

contract: Microsoft's "Deploy the Azure Blob Storage on IoT Edge module to your device" and "Store data at the edge
with Azure Blob Storage on IoT Edge": account name and key in LOCAL_STORAGE_ACCOUNT_NAME / LOCAL_STORAGE_ACCOUNT_KEY
(3-24 lowercase letters and digits; a 64-byte key, base64); data under /blobroot, bound to a volume or a host
folder; the Blob endpoint on port 11002, for other modules http://<module name>:11002/<account name>; a lowercase
module name (the Storage SDK lowercases the host); the twin's deviceAutoDeleteProperties and
deviceToCloudUploadProperties, typed as documented.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from localedge.deploy.checks import AGENT_MODULES, Problem, get_path

BLOB_IMAGE = "mcr.microsoft.com/azure-blob-storage"
BLOB_PORT = "11002"
BLOB_ROOT = "/blobroot"
_BLOB_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")
_CONTAINER = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_TARGET_TOKENS = re.compile(r"%[hdmc]")
_BLOB_ENDPOINT = re.compile(r"(?i)(?:^|;)\s*BlobEndpoint=(https?)://([^/:;]+)(?::(\d+))?/?([^;/]*)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DeviceAutoDeleteProperties(_Strict):
    """``deviceAutoDeleteProperties``: local retention. deleteOn (default false), deleteAfterMinutes (whole minutes
    after which a blob is deleted from the device), retainWhileUploading (default true: kept while it uploads)."""

    deleteOn: bool = False
    deleteAfterMinutes: int | None = Field(default=None, ge=1)
    retainWhileUploading: bool = True

    @model_validator(mode="after")
    def _minutes_when_on(self) -> DeviceAutoDeleteProperties:
        if self.deleteOn and self.deleteAfterMinutes is None:
            raise ValueError("deleteOn is true but deleteAfterMinutes is not set; give the minutes a blob is kept, e.g. 1440")
        return self


class UploadTarget(_Strict):
    """One entry of ``storageContainersForUpload``: the cloud container, a name or a template of %h (hub), %d (device
    id), %m (module) and %c (source container)."""

    target: str | None = None


class DeviceToCloudUploadProperties(_Strict):
    """``deviceToCloudUploadProperties``: upload to a cloud storage account. uploadOn (default false), uploadOrder
    (NewestFirst or OldestFirst), cloudStorageConnectionString (account key or SAS connection string: a secret, from
    .env), storageContainersForUpload (source container -> {"target": ...}), deleteAfterUpload (default false)."""

    uploadOn: bool = False
    uploadOrder: Literal["NewestFirst", "OldestFirst"] = "OldestFirst"
    cloudStorageConnectionString: str = ""
    storageContainersForUpload: dict[str, UploadTarget] = Field(default_factory=dict)
    deleteAfterUpload: bool = False


class BlobModuleTwin(_Strict):
    """The blob module's desired properties; deviceAutoDeleteProperties is required here, so that captures never
    stay on a device without a retention limit."""

    model_config = ConfigDict(extra="allow", strict=True)  # "$version" and others the module ignores
    deviceAutoDeleteProperties: DeviceAutoDeleteProperties
    deviceToCloudUploadProperties: DeviceToCloudUploadProperties | None = None


def connection_string_parts(text: str) -> dict[str, str]:
    """``Key=value;...`` of an Azure Storage connection string as {lowercased key: value}; {} when it is not one."""
    parts: dict[str, str] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z]+", key.strip()):
            return {}
        parts[key.strip().lower()] = value.strip()
    return parts


def _base64_bytes(text: str) -> int | None:
    try:
        return len(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None


def cloud_connection_string_problem(text: str) -> str | None:
    """Why ``text`` is not a storage connection string the blob module can upload with (never quoting it), or None.
    Accepted: AccountName with a base64 AccountKey (an EndpointSuffix or BlobEndpoint optional), or BlobEndpoint with
    a SharedAccessSignature."""
    parts = connection_string_parts(text)
    if not parts:
        return "is not a storage connection string (Key=value pairs separated by ;)"
    if "sharedaccesssignature" in parts:
        return None if parts.get("blobendpoint", "").startswith("https://") else \
            "has a SharedAccessSignature but no https:// BlobEndpoint"
    if not parts.get("accountname") or not parts.get("accountkey"):
        return "names no AccountName and AccountKey (or BlobEndpoint and SharedAccessSignature)"
    if not _base64_bytes(parts["accountkey"]):
        return "has an AccountKey that is not base64"
    return None


def _unresolved(value: Any) -> bool:
    return isinstance(value, str) and "$" in value


def _blob_env(spec: Mapping[str, Any]) -> dict[str, str]:
    """The module's environment: the manifest's ``env``, and ``Env`` in createOptions (the documented place)."""
    env: dict[str, str] = {}
    options = _create_options(spec)
    for item in options.get("Env", []) if isinstance(options.get("Env"), list) else []:
        key, _, value = str(item).partition("=")
        env[key] = value
    for key, entry in (spec.get("env") or {}).items():
        if isinstance(entry, dict) and "value" in entry:
            env[key] = str(entry["value"])
    return env


def _create_options(spec: Mapping[str, Any]) -> dict[str, Any]:
    """createOptions as an object, from a template (an object) or a generated manifest (JSON split into chunks)."""
    found = spec.get("settings")
    settings: dict[str, Any] = found if isinstance(found, dict) else {}
    options = settings.get("createOptions")
    if isinstance(options, str):
        text = "".join(str(settings[k]) for k in sorted(settings) if re.fullmatch(r"createOptions(\d\d)?", k))
        try:
            options = json.loads(text) if text else {}
        except ValueError:
            return {}  # reported by the generator's createOptions check
    return options if isinstance(options, dict) else {}


def blob_modules(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Name -> spec of each Azure Blob Storage on IoT Edge module in a manifest's ``modulesContent``."""
    modules = get_path(content, "$edgeAgent", "properties.desired", "modules")
    return {name: spec for name, spec in (modules.items() if isinstance(modules, dict) else ())
            if isinstance(spec, dict) and str(get_path(spec, "settings", "image") or "").split(":")[0].split("@")[0] == BLOB_IMAGE}


def _image_problems(image: str, platform: str, where: str, file: str) -> list[Problem]:
    tag = image.split("@")[0].partition(":")[2]
    if "@sha256:" in image:
        return []
    if tag in ("", "latest"):
        return [Problem(file, where, f"{image} is not pinned; name a version tag (e.g. {BLOB_IMAGE}:1.4.1), so that every "
                                     "device runs the storage module that was tested")]
    arch = re.search(r"-linux-(amd64|arm32v7|arm64v8)$", tag)
    wanted = platform.split(".")[0]
    if arch and arch.group(1) != wanted:
        return [Problem(file, where, f"{image} is the linux-{arch.group(1)} image, but this manifest is for {wanted}; "
                                     f"use the {wanted} tag (e.g. {BLOB_IMAGE}:{tag[:arch.start()]}-linux-{wanted})")]
    return []


def _pydantic_problems(error: PydanticError, base: str, file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        path = ".".join([base, *(str(p) for p in item["loc"])])
        if item["type"] == "extra_forbidden":
            message = "is not a setting of the blob module; remove it or fix its spelling (names are case-sensitive)"
        elif item["type"] == "missing":
            message = "is missing; add it (deployment.template.json shows it)"
        else:
            message = item["msg"].removeprefix("Value error, ")
            got = item.get("input")
            if not isinstance(got, (dict, list)) and "connection" not in path.lower():
                message += f" (got {json.dumps(got)[:40]})"
        problems.append(Problem(file, path, message))
    return problems


def _twin_problems(name: str, twin: Any, file: str) -> list[Problem]:
    where = f"modulesContent.{name}.properties.desired"
    if not isinstance(twin, dict):
        return [Problem(file, where, "missing: the blob module needs deviceAutoDeleteProperties (local retention), "
                                     "or captures stay on the device until its disk is full")]
    try:
        parsed = BlobModuleTwin.model_validate(twin)
    except PydanticError as exc:
        return _pydantic_problems(exc, where, file)
    problems = []
    upload = parsed.deviceToCloudUploadProperties
    if upload is not None:
        up_where = f"{where}.deviceToCloudUploadProperties"
        text = upload.cloudStorageConnectionString
        if upload.uploadOn and not _unresolved(text):
            why = "is empty" if not text.strip() else cloud_connection_string_problem(text)
            if why:
                problems.append(Problem(file, f"{up_where}.cloudStorageConnectionString", f"{why}, but uploadOn is true; "
                                        "put the cloud storage account's connection string in .env (az storage account "
                                        "show-connection-string), or set uploadOn to false"))
        if upload.uploadOn and not upload.storageContainersForUpload:
            problems.append(Problem(file, f"{up_where}.storageContainersForUpload", "is empty, but uploadOn is true; "
                                    "name the containers to upload, e.g. {\"captures\": {\"target\": \"%d-%c\"}}"))
        for source, target in upload.storageContainersForUpload.items():
            path = f"{up_where}.storageContainersForUpload.{source}"
            if not _CONTAINER.fullmatch(source):
                problems.append(Problem(file, path, f"{source!r} is not a container name; use 3-63 lowercase letters, "
                                        "digits and single hyphens, starting and ending with a letter or digit"))
            literal = _TARGET_TOKENS.sub("x", target.target or "x-x")
            if not re.fullmatch(r"[a-z0-9-]{1,63}", literal) or "%" in literal:
                problems.append(Problem(file, f"{path}.target", f"{target.target!r} is not a container name or template; "
                                        "use lowercase letters, digits, hyphens and %h (hub), %d (device id), "
                                        "%m (module), %c (source container), e.g. %d-%c"))
    return problems


def _endpoint_problems(content: Mapping[str, Any], name: str, env: Mapping[str, str], file: str) -> list[Problem]:
    """Connection strings of other modules that name this blob module: http, port 11002, its account and key."""
    problems = []
    modules = get_path(content, "$edgeAgent", "properties.desired", "modules") or {}
    account, key = env.get("LOCAL_STORAGE_ACCOUNT_NAME", ""), env.get("LOCAL_STORAGE_ACCOUNT_KEY", "")
    for other, spec in modules.items():
        if other == name or not isinstance(spec, dict):
            continue
        for var, entry in (spec.get("env") or {}).items():
            value = str(entry.get("value", "")) if isinstance(entry, dict) else ""
            found = _BLOB_ENDPOINT.search(value)
            if not found or found.group(2).lower() != name.lower():
                continue
            where = f"{AGENT_MODULES}.{other}.env.{var}.value"
            scheme, host, port, path_account = found.groups()
            parts = connection_string_parts(value)
            if host != name:
                problems.append(Problem(file, where, f"names the blob module as {host!r}; write its name as deployed, {name}"))
            if scheme.lower() != "http" or (port or "80") != BLOB_PORT:
                problems.append(Problem(file, where, f"reaches {name} at {scheme}://{host}:{port or '(default port)'}; the "
                                        f"module serves http on port {BLOB_PORT}: write BlobEndpoint=http://{name}:{BLOB_PORT}/<account>"))
            if not _unresolved(account) and account:
                if path_account != account or parts.get("accountname", account) != account:
                    problems.append(Problem(file, where, f"the BlobEndpoint path and AccountName must be the module's "
                                            f"LOCAL_STORAGE_ACCOUNT_NAME ({account}); use $BLOB_ACCOUNT_NAME for both"))
            if not _unresolved(key) and key and "accountkey" in parts and parts["accountkey"] != key:
                problems.append(Problem(file, where, "its AccountKey is not the module's LOCAL_STORAGE_ACCOUNT_KEY; "
                                        "use $BLOB_ACCOUNT_KEY in both places"))
    return problems


def blob_problems(content: Mapping[str, Any], file: str, platform: str) -> list[Problem]:
    """Every problem of the Azure Blob Storage on IoT Edge modules in a generated manifest's ``modulesContent``:
    an unpinned image or one for another platform, an upper-case module name, the account name and key, the
    /blobroot binding, the twin's deviceAutoDeleteProperties / deviceToCloudUploadProperties, and the connection
    strings by which other modules reach it. Values still holding ``$NAME`` are left to the unresolved-variable
    check; no secret is quoted."""
    problems: list[Problem] = []
    for name, spec in blob_modules(content).items():
        where = f"{AGENT_MODULES}.{name}"
        problems += _image_problems(str(get_path(spec, "settings", "image")), platform, f"{where}.settings.image", file)
        if name != name.lower():
            problems.append(Problem(file, where, f"name the blob module in lowercase (e.g. {name.lower()}): module names are "
                                                 "case-sensitive and the Storage SDK lowercases the host it calls"))
        env = _blob_env(spec)
        account, key = env.get("LOCAL_STORAGE_ACCOUNT_NAME"), env.get("LOCAL_STORAGE_ACCOUNT_KEY")
        if account is None or key is None:
            missing = [v for v, value in (("LOCAL_STORAGE_ACCOUNT_NAME", account), ("LOCAL_STORAGE_ACCOUNT_KEY", key)) if value is None]
            problems.append(Problem(file, f"{where}.env", f"no {' and no '.join(missing)}; add them from .env "
                                    "($BLOB_ACCOUNT_NAME, $BLOB_ACCOUNT_KEY): the local account other modules sign in with"))
        if account is not None and not _unresolved(account) and not _BLOB_ACCOUNT.fullmatch(account):
            problems.append(Problem(file, f"{where}.env.LOCAL_STORAGE_ACCOUNT_NAME.value", f"{account[:40]!r} is not a "
                                    "storage account name; use 3-24 lowercase letters and digits (BLOB_ACCOUNT_NAME in .env)"))
        if key is not None and not _unresolved(key) and _base64_bytes(key) != 64:
            problems.append(Problem(file, f"{where}.env.LOCAL_STORAGE_ACCOUNT_KEY.value", "is not a 64-byte key in base64; "
                                    "make one with: python3 -c \"import base64,os; print(base64.b64encode(os.urandom(64)).decode())\" "
                                    "and put it in .env as BLOB_ACCOUNT_KEY"))
        binds = get_path(_create_options(spec), "HostConfig", "Binds")
        roots = [b for b in (binds if isinstance(binds, list) else []) if isinstance(b, str) and
                 b.split(":")[1:2] == [BLOB_ROOT]]
        if len(roots) != 1:
            problems.append(Problem(file, f"{where}.settings.createOptions.HostConfig.Binds", f"{'no' if not roots else 'more than one'} "
                                    f"binding of {BLOB_ROOT}; bind exactly one volume or host folder there (e.g. "
                                    f"\"blobstorage-data:{BLOB_ROOT}\"), or the blobs are lost whenever the container is recreated"))
        problems += _twin_problems(name, get_path(content, name, "properties.desired"), file)
        problems += _endpoint_problems(content, name, env, file)
    return problems
