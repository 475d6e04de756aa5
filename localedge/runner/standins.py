"""What the local runner puts in place of what an IoT Edge device gives its modules.

- Volumes: each named volume in a module's createOptions ``HostConfig.Binds`` (``cameracapture-captures:/captures``)
  becomes a folder under the runner's state folder, ``.localedge/volumes/<Module>/<volume>``, kept across
  runs like a Docker volume; an env value naming the container path (``CAPTURE_DIR=/captures``, or a path
  under it) is pointed at that folder. A host path bind (``/dev:/dev``) is that path on this machine.
- Azure Blob Storage on IoT Edge (``mcr.microsoft.com/azure-blob-storage``, a marketplace image the
  runner cannot run): Azurite (:mod:`localedge.runner.azurite`) takes its place, with the account its
  env gives (``LOCAL_STORAGE_ACCOUNT_NAME`` / ``LOCAL_STORAGE_ACCOUNT_KEY``; a local account for the run
  when ``.env`` leaves them unset), its data in the module's ``/blobroot`` volume folder, and the URLs
  naming the module (``http://blobstorage:11002/<account>``) pointed at Azurite's loopback port. When
  Node.js or Azurite is missing, the runner says so in one line and the values naming the module are left
  empty, so CameraCapture writes its captures to its local folder instead.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localedge.deploy.manifest import Manifest, ModuleSpec, unresolved
from localedge.runner.azurite import Azurite, AzuriteUnavailable

logger = logging.getLogger("localedge")

BLOB_IMAGE = "mcr.microsoft.com/azure-blob-storage"
BLOB_PORT = "11002"  # the module's Blob API port on the IoT Edge network
BLOB_DATA = "/blobroot"  # where the module keeps its data
LOCAL_ACCOUNT = "localcaptures"  # the account when .env names none
RESTART_DELAY_S = 5.0  # from an Azurite's exit to the attempt to start it again, and between attempts
_VOLUME_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def module_url(module: str, declared_port: str) -> re.Pattern[str]:
    """URLs that name ``module`` on the IoT Edge network (``http://Module[:port]/...``, also inside a connection
    string, ``BlobEndpoint=http://Module:port/account;``); group 1 is the scheme."""
    return re.compile(rf"(?i)(\w+://){re.escape(module)}(?::{re.escape(declared_port)})?(?=[/?#;]|$)")


def point_at_loopback(values: dict[str, Any], module: str, declared_port: str, local_port: int,
                      host: str = "127.0.0.1") -> None:
    """Module names resolve only on the IoT Edge network: point string values' URLs naming ``module`` at
    ``<host>:<local_port>`` (loopback by default), where the runner runs it (``values``: an env or desired
    properties, changed in place)."""
    pattern = module_url(module, declared_port)
    for key, value in values.items():
        if isinstance(value, str):
            values[key] = pattern.sub(rf"\g<1>{host}:{local_port}", value)


def is_blob_module(spec: ModuleSpec) -> bool:
    """True for Microsoft's Azure Blob Storage on IoT Edge module (any tag)."""
    return spec.image.split("@")[0].rsplit(":", 1)[0] == BLOB_IMAGE


def blob_account_defaults(template: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    """Variables to define so that each blob module has an account: ``{VAR: value}`` for each of its
    ``LOCAL_STORAGE_ACCOUNT_NAME`` / ``_KEY`` written as one ``$VAR`` (``template``: the deployment template
    as read, before substitution) that ``variables`` leave unset or empty (a random 64-byte key per run)."""
    agent = template.get("modulesContent", {}).get("$edgeAgent", {}).get("properties.desired", {})
    modules = agent.get("modules") if isinstance(agent, dict) else None
    defaults: dict[str, str] = {}
    for spec in (modules or {}).values() if isinstance(modules, dict) else ():
        image = str((spec.get("settings") or {}).get("image", "")) if isinstance(spec, dict) else ""
        if image.split("@")[0].rsplit(":", 1)[0] != BLOB_IMAGE or not isinstance(spec.get("env"), dict):
            continue
        for key, value in (("LOCAL_STORAGE_ACCOUNT_NAME", LOCAL_ACCOUNT),
                           ("LOCAL_STORAGE_ACCOUNT_KEY", base64.b64encode(os.urandom(64)).decode())):
            raw = str((spec["env"].get(key) or {}).get("value", "")) if isinstance(spec["env"].get(key), dict) else ""
            names = unresolved(raw)
            if len(names) == 1 and raw.strip() in (f"${names[0]}", f"${{{names[0]}}}") \
                    and not variables.get(names[0], "").strip():
                defaults[names[0]] = value
    return defaults


def volume_folders(spec: ModuleSpec, root: Path) -> dict[str, Path]:
    """The module's volumes as local folders: ``{container path: folder}`` (created, 0700)."""
    folders: dict[str, Path] = {}
    if spec.binds:  # the state folder and the volumes private (0700), like the state folder itself
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for level in (root / "volumes", root / "volumes" / spec.name):
            level.mkdir(mode=0o700, exist_ok=True)
    for bind in spec.binds:
        parts = bind.split(":")
        if len(parts) < 2 or not parts[1].startswith("/"):
            continue
        source, target = parts[0], parts[1].rstrip("/") or "/"
        if source.startswith("/"):  # a host path: the same path on this machine
            folders[target] = Path(source)
            continue
        folder = root / "volumes" / spec.name / (_VOLUME_NAME.sub("_", source) or "volume")
        folder.mkdir(mode=0o700, exist_ok=True)
        folders[target] = folder.resolve()
    return folders


def temp_folder(root: Path, module: str) -> Path:
    """The module's own temp folder under the runner's state folder, ``<root>/tmp/<Module>`` (created, 0700): given
    as its ``TMPDIR``, so what a module writes there (TextToSpeech's WAVs without a sound device) stays with this
    checkout's runs instead of a /tmp every checkout on the machine shares."""
    folder = root / "tmp" / (_VOLUME_NAME.sub("_", module) or "module")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for level in (root / "tmp", folder):
        level.mkdir(mode=0o700, exist_ok=True)
    return folder.resolve()


def map_volumes(env: dict[str, str], folders: Mapping[str, Path]) -> None:
    """Point env values that are a container path under a volume (``/captures``, ``/captures/spool``) at its folder."""
    for key, value in env.items():
        for target, folder in folders.items():
            if value == target or value.startswith(target + "/"):
                env[key] = str(folder) + value[len(target):]
                break


class BlobStandIns:
    """Azurite in place of each Blob Storage on IoT Edge module of the manifest.

    ``start(envs, desired)``: starts them and rewrites, in every module's env and desired properties,
    URLs naming a blob module to its Azurite; returns the names of the blob modules it took the place of.
    ``watch()``: starts again one that exited; ``stop()``: stops them (their data stays in the volume folders).
    """

    def __init__(self, manifest: Manifest, root: Path, host: str = "127.0.0.1") -> None:
        self._manifest = manifest
        self._root = root
        self._host = host  # where the Azurites listen: loopback, or the modules' network under run --images
        self.azurites: dict[str, Azurite] = {}
        self._next_start: dict[str, float] = {}

    def start(self, envs: Mapping[str, dict[str, str]], desired: list[dict[str, Any]]) -> list[str]:
        taken = []
        for spec in self._manifest.modules.values():
            if not is_blob_module(spec) or spec.status != "running":
                continue
            taken.append(spec.name)
            pattern = module_url(spec.name, BLOB_PORT)
            try:
                azurite = self._azurite(spec)
                azurite.start()
            except (AzuriteUnavailable, ValueError) as exc:
                logger.warning("%s: %s; captures go to local folders", spec.name, exc)
                for name, env in envs.items():
                    for key, value in env.items():
                        if pattern.search(value):
                            env[key] = ""
                            logger.info("%s: %s names %s, which does not run here: left empty", name, key, spec.name)
                continue
            self.azurites[spec.name] = azurite
            logger.info("%s: Azurite on %s:%d in place of %s", spec.name, self._host, azurite.port, spec.image)
            for values in [*envs.values(), *desired]:
                point_at_loopback(values, spec.name, BLOB_PORT, azurite.port, self._host)
        return taken

    def _azurite(self, spec: ModuleSpec) -> Azurite:
        account = spec.env.get("LOCAL_STORAGE_ACCOUNT_NAME", "")
        key = spec.env.get("LOCAL_STORAGE_ACCOUNT_KEY", "")
        folder = volume_folders(spec, self._root).get(BLOB_DATA) or self._root / "volumes" / spec.name / "blobroot"
        return Azurite(folder, account, key, host=self._host)

    def watch(self) -> None:
        """Start again, on the same port and data, an Azurite that exited (as edgeAgent restarts a module
        whose restartPolicy is always), RESTART_DELAY_S after it was found gone; call periodically."""
        now = time.monotonic()
        for name, azurite in self.azurites.items():
            if azurite.running:
                self._next_start.pop(name, None)
                continue
            if name not in self._next_start:
                self._next_start[name] = now + RESTART_DELAY_S
                logger.warning("%s: Azurite exited; starting it again in %.0f s", name, RESTART_DELAY_S)
            if now < self._next_start[name]:
                continue
            self._next_start[name] = now + RESTART_DELAY_S
            try:
                azurite.start()
                logger.info("%s: Azurite started again on %s:%d", name, azurite.host, azurite.port)
            except AzuriteUnavailable as exc:
                logger.warning("%s: %s", name, exc)

    def stop(self) -> None:
        """Stop every Azurite (their data stays in the volume folders)."""
        for azurite in self.azurites.values():
            azurite.stop()
