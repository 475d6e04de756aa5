"""Azurite, the Azure Storage API server from the npm registry, playing Blob Storage on IoT Edge locally.

On a device, CameraCapture writes its captures to Microsoft's Azure Blob Storage on IoT Edge module
(``mcr.microsoft.com/azure-blob-storage``) with the azure-storage-blob SDK. Under the local runner the
same SDK talks to Azurite's Blob service instead: the same REST API, one account whose name and key
come from ``.env``, data kept in a folder. Azurite is installed by ``make`` (``npm install --prefix
.node azurite@3.37.0``); this module installs nothing, it finds ``.node/node_modules/.bin/azurite-blob``
in the project folder and runs it.

>>> azurite = Azurite(Path(".localedge/azurite"), "captures", key)   # doctest: +SKIP
>>> azurite.start()                   # a free loopback port; raises AzuriteUnavailable in one line
>>> azurite.connection_string         # for CAPTURE_STORAGE_CONNECTION_STRING
>>> azurite.stop(); azurite.start()   # an outage: the same port and data again after the restart
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path

from localedge import ROOT
from localedge.runner.ports import free_port
from localedge.runner.supervisor import _LIBC, _terminate_with

AZURITE_VERSION = "3.37.0"
BINARY = ROOT / ".node" / "node_modules" / ".bin" / "azurite-blob"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
FIRST_PORT_TRIES = 3  # free ports tried at the first start (another process may take one before Azurite binds it)
OUTPUT_LINES = 50  # Azurite's last lines kept, for the error when it does not start
_LISTENING = re.compile(r"successfully listens on (https?://[^\s]+?):(\d+)")
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")


class AzuriteUnavailable(RuntimeError):
    """Azurite cannot run here (no Node.js, not installed, or it did not start); the message is one line."""


class Azurite:
    """One Azurite Blob service on loopback, one storage account, its data in ``folder``.

    folder: Azurite's workspace (created; kept across restarts, so blobs survive a stop and start);
    account: the storage account name (3-24 lowercase letters and digits, as Azure's);
    key: its key, base64 (as Azure's account keys; the SDK signs requests with it);
    host: the address it listens on (loopback by default).
    Raises ValueError for an account name or key Azure would not accept.
    """

    def __init__(self, folder: Path, account: str, key: str, binary: Path = BINARY, host: str = "127.0.0.1") -> None:
        if not _ACCOUNT.fullmatch(account):
            raise ValueError(f"storage account name {account!r}: 3-24 lowercase letters and digits")
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("storage account key: must be base64 (as Azure's account keys are)") from None
        if not key:
            raise ValueError("storage account key: empty")
        self.folder = folder
        self.account = account
        self._key = key
        self.binary = binary
        self.host = host  # the address it listens on: loopback, or the modules' network under run --images
        self.port = 0  # chosen at the first start, kept for the restarts
        self._process: subprocess.Popen[str] | None = None
        self._output: deque[str] = deque(maxlen=OUTPUT_LINES)

    @property
    def blob_endpoint(self) -> str:
        """``http://127.0.0.1:<port>/<account>`` (Azurite's path-style URL); valid once started."""
        if not self.port:
            raise RuntimeError("Azurite has not been started")
        return f"http://{self.host}:{self.port}/{self.account}"

    @property
    def connection_string(self) -> str:
        """The account's connection string for the azure-storage-blob SDK (holds the key: a secret)."""
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self._key};"
                f"BlobEndpoint={self.blob_endpoint};")

    @property
    def running(self) -> bool:
        """True while the Azurite process runs."""
        return self._process is not None and self._process.poll() is None

    def check(self) -> None:
        """Raise AzuriteUnavailable (one line, saying what to do) when Node.js or Azurite is missing."""
        if shutil.which("node") is None:
            raise AzuriteUnavailable("Node.js is not installed: no Azurite (install Node.js, then `make azurite`)")
        if not self.binary.exists():
            raise AzuriteUnavailable(f"Azurite is not installed ({self.binary} missing): run `make azurite` "
                                     f"(npm install --prefix .node azurite@{AZURITE_VERSION})")

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start Azurite and wait until it listens: on a free port the first time (one the runner hands out to
        nothing else, :func:`free_port`), on the same port after a :meth:`stop` (so a connection string handed
        out stays valid). No-op while running.

        Raises AzuriteUnavailable when Node.js or Azurite is missing, or it does not listen within
        ``timeout_s`` s (with its last output line)."""
        if self.running:
            return
        self.check()
        self.folder.mkdir(parents=True, exist_ok=True)
        first = not self.port
        for attempt in range(1, FIRST_PORT_TRIES + 1):
            if first:
                self.port = free_port(self.host)
            failure = self._launch(timeout_s)
            if failure is None:
                return
            taken = any("EADDRINUSE" in line for line in self._output)
            if not (first and taken and attempt < FIRST_PORT_TRIES):
                if first:
                    self.port = 0
                raise AzuriteUnavailable(failure)

    def _launch(self, timeout_s: float) -> str | None:
        """Start Azurite on ``self.port``; None once it listens, else why not (it is stopped then)."""
        env = {**os.environ, "AZURITE_ACCOUNTS": f"{self.account}:{self._key}"}
        command = [str(self.binary), "--blobHost", self.host, "--blobPort", str(self.port),
                   "--location", str(self.folder), "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
        self._output.clear()
        process = subprocess.Popen(  # noqa: S603 - our own binary, arguments from this class
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env, preexec_fn=functools.partial(_terminate_with, os.getpid()) if _LIBC is not None else None)
        self._process = process
        listening = threading.Event()
        ports: list[int] = []  # the port it says it listens on
        threading.Thread(target=self._read_output, args=(process, listening, ports), name="azurite-output",
                         daemon=True).start()
        # the line saying it listens, not the end of its output: a process that failed to bind may not have
        # exited yet when its output ends
        if listening.wait(timeout_s) and ports and process.poll() is None:
            return None
        code = process.poll()
        self.stop()
        last = next((line for line in reversed(self._output) if line.strip()), "no output")
        why = f"exited with code {code} as it started" if code is not None else f"did not start within {timeout_s:.0f} s"
        return f"Azurite {why}: {last.strip()[:200]}"

    def _read_output(self, process: subprocess.Popen[str], listening: threading.Event, ports: list[int]) -> None:
        """Keep Azurite's output lines; on the one saying it listens, put the port in ``ports`` and set
        ``listening``; set ``listening`` too when the output ends."""
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:  # drained to the end, so Azurite never blocks on a full pipe
                self._output.append(line)
                found = _LISTENING.search(line)
                if found and not listening.is_set():
                    self.port = int(found.group(2))
                    ports.append(self.port)
                    listening.set()
        listening.set()  # its output ended: it exits

    def stop(self) -> None:
        """Stop Azurite (SIGTERM, then SIGKILL after 10 s); its data stays in ``folder``. Safe to repeat."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
