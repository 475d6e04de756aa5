"""Runs CameraCapture's real pipeline in-process against a real classifier and the runner's real bus."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


from capture.pipeline import CapturePipeline
from capture.settings import CaptureSettings
from classifier.app import create_app
from classifier.model import Model as CustomVisionModel
from classifier.settings import ClassifierSettings
from conftest import ROOT, free_port, read_jsonl
from edgekit.http import HttpServer
from edgekit.local_hub import LocalHub
from edgekit.settings import SettingsStore
from localedge.runner.bus import Bus, UpstreamSink
from localedge.runner.routes import parse_route


class ClassifierServer:
    """ImageClassifierService's app under waitress on a fixed loopback port; can be stopped and restarted."""

    def __init__(self, model: CustomVisionModel) -> None:
        self.model = model
        self.port = free_port()
        self.server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/image"

    def start(self) -> None:
        self.server = HttpServer(create_app(self.model, ClassifierSettings()), "127.0.0.1", self.port, 4, "classifier")
        self.server.start()

    def stop(self) -> None:
        self.server.close()


@contextmanager
def serving(model: CustomVisionModel) -> Iterator[ClassifierServer]:
    """A started :class:`ClassifierServer` for ``model``, stopped on exit."""
    server = ClassifierServer(model)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class CameraHarness:
    """The pipeline with a SettingsStore from ``env``, its output routed to $upstream (a JSONL file)."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.upstream = tmp / "upstream.jsonl"
        route = parse_route("up", "FROM /messages/modules/CameraCapture/outputs/classification INTO $upstream")
        self.bus = Bus([route], {"CameraCapture": {}}, UpstreamSink(self.upstream, io.StringIO()))
        self.bus.start()
        self.hub = LocalHub.from_environment(self.bus.environment("CameraCapture"))
        self.store = SettingsStore(CaptureSettings, env, self.hub)
        self.store.start()
        self.stop = threading.Event()
        self.pipeline = CapturePipeline(self.store, self.hub, self.stop)
        self.thread = threading.Thread(target=self.pipeline.run, daemon=True)
        self.thread.start()

    def tags(self) -> list[str | None]:
        return [m["body"]["tagName"] for m in read_jsonl(self.upstream)] if self.upstream.exists() else []

    def reported(self, key: str) -> dict[str, Any]:
        return self.bus.reported["CameraCapture"].get(key, {})

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.hub.close()
        self.bus.close()


class ClassifierProcess:
    """ImageClassifierService's main.py as its own process (standalone), on a fixed port: stop it for a real outage."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/image"

    def start(self) -> None:
        env = {**os.environ, "PORT": str(self.port), "MODEL_DIR": str(self.model_dir), "PYTHONPATH": str(ROOT)}
        env.pop("LOCALEDGE_ADDRESS", None)
        self.process = subprocess.Popen([sys.executable, str(ROOT / "modules" / "ImageClassifierService" / "main.py")],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
