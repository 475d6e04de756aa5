"""Every module's Prometheus metrics, scraped over HTTP as IoT Edge's metrics collector scrapes them.

The solution runs under the local runner on the demo clip; `python -m localedge metrics`, a second process,
finds the modules' endpoints through the runner's state file and GETs each `/metrics`; the exposition text
is parsed with prometheus-client's own parser and checked for names, the collector's identity labels and
values that follow from what the modules did (messages upstream, phrases, display states).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from capture.settings import CaptureSettings
from classifier.observe import Metrics as ClassifierMetrics
from classifier.serving import ModelSlot
from conftest import ROOT, free_port, read_jsonl
from display.settings import DisplaySettings
from edgekit.metrics import DEFAULT_PORT, ModuleMetrics, identity, labelled_registry
from edgekit.settings import SettingsError, SettingsStore, build
from localedge.runner.run import RunnerError, module_environments
from localedge.deploy.manifest import load_manifest
from localedge.runner.discovery import endpoint
from localedge.runner.metrics import scrape
from speech.engines import Engine, SynthesisError
from speech.metrics import SpeechMetrics
from speech.settings import SpeechSettings
from speech.speaker import Speaker

MODULES = ["ImageClassifierService", "CameraCapture", "TextToSpeech", "SenseHatDisplay"]
EDGE_ENV = {"IOTEDGE_IOTHUBHOSTNAME": "contoso.azure-devices.net", "IOTEDGE_DEVICEID": "checkout-7",
            "IOTEDGE_MODULEID": "CameraCapture"}


Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse(text: str) -> Samples:
    """Exposition text -> sample name -> [(labels, value)], with prometheus-client's parser (as a scraper reads it)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def per_module(output: str) -> dict[str, Samples]:
    """`python -m localedge metrics` output -> module -> samples (sections start with `# <Module> <url>`)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "#" and words[1] in MODULES and words[2].startswith("http://"):
            current = sections.setdefault(words[1], [])
        elif current is not None:
            current.append(line)
    return {name: parse("\n".join(lines) + "\n") for name, lines in sections.items()}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


class Runner:
    """`python -m localedge run` on the demo clip (looped), its state files in ``state``."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        self.upstream = tmp / "upstream.jsonl"
        self.env = {**os.environ, "LOCALEDGE_STATE_DIR": str(self.state)}
        self.log = (tmp / "runner.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localedge", "run", "--duration", "240", "--upstream", str(self.upstream),
             "--set", "CameraCapture.VIDEO_PATH=demo/colours.mp4", "--set", "CameraCapture.LOOP_VIDEO=true",
             "--set", "CameraCapture.REPORT_INTERVAL_S=1", "--set", f"TextToSpeech.AUDIO_OUTPUT_DIR={tmp / 'audio'}"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def metrics(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "localedge", "metrics", "--runner", str(self.process.pid), *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60, check=False)

    def tags(self) -> list[str]:
        return [m["body"]["tagName"] for m in read_jsonl(self.upstream)] if self.upstream.exists() else []

    def output(self) -> str:
        self.log.flush()
        return (self.tmp / "runner.log").read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(60)
        self.log.close()
        return code


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    running = Runner(tmp_path_factory.mktemp("metrics"))
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()[-3000:]
    assert not list(running.state.glob("runner-*.json")), "the state file outlived the runner"


def _scraped_after_the_clip(runner: Runner, deadline_s: float = 180.0) -> tuple[list[str], dict[str, Samples], str]:
    """Scrape until the whole clip was classified, said and shown (polled: the machine may be slow).

    Returns the upstream tags read before the scrape, the scrape (module -> samples) and its output.
    """
    deadline = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < deadline:
        assert runner.process.poll() is None, runner.output()[-3000:]
        tags = runner.tags()
        done = runner.metrics()
        last = done.stdout + done.stderr
        scraped = per_module(done.stdout)
        if done.returncode == 0 and len(tags) >= 5 and set(scraped) == set(MODULES):
            camera, speech, display = scraped["CameraCapture"], scraped["TextToSpeech"], scraped["SenseHatDisplay"]
            if (value(speech, "texttospeech_phrases_spoken_total") >= 5 and value(display, "sensehatdisplay_updates_total") >= 5
                    and value(camera, "cameracapture_capture_fps") > 0 and value(camera, "cameracapture_classify_fps") > 0):
                return tags, scraped, done.stdout
        time.sleep(1.0)
    raise AssertionError(f"the modules' metrics never showed the whole clip:\n{last[-4000:]}\n{runner.output()[-3000:]}")


def test_every_module_serves_its_metrics_and_localedge_metrics_scrapes_them(runner: Runner) -> None:
    tags, scraped, _ = _scraped_after_the_clip(runner)
    assert tags[:5] == ["Red", "Yellow", "Green", "Blue", "Red"]

    camera = scraped["CameraCapture"]
    assert value(camera, "cameracapture_frames_read_total") > 0
    assert value(camera, "cameracapture_frames_classified_total") > 0
    assert value(camera, "cameracapture_messages_sent_total") >= len(tags)  # every upstream message was a sent one
    assert value(camera, "cameracapture_errors_total") == 0
    assert value(camera, "cameracapture_classifier_latency_seconds_count") >= value(camera, "cameracapture_frames_classified_total")
    assert value(camera, "cameracapture_classifier_latency_seconds_bucket", le="+Inf") > 0
    assert value(camera, "cameracapture_outbox_delivered_total") >= len(tags)
    assert value(camera, "cameracapture_outbox_dropped_total") == 0
    for name in ("cameracapture_frames_dropped_total", "cameracapture_frames_skipped_total", "cameracapture_outbox_queued"):
        assert name in camera

    speech = scraped["TextToSpeech"]
    assert value(speech, "texttospeech_phrases_spoken_total") >= 5  # by Piper or espeak-ng, whichever answered first
    assert value(speech, "texttospeech_cache_hits_total", cache="memory") >= 1  # "Red" again: synthesised once
    assert value(speech, "texttospeech_synthesis_seconds_count") >= 4
    assert value(speech, "texttospeech_engine_failures_total") == 0

    assert value(scraped["SenseHatDisplay"], "sensehatdisplay_updates_total") >= 5
    assert value(scraped["ImageClassifierService"], "classifier_requests_total", route="/image", status="200") > 0


def test_every_sample_carries_the_collectors_identity_labels(runner: Runner) -> None:
    _, scraped, _ = _scraped_after_the_clip(runner)
    instances = set()
    for module, samples in scraped.items():
        labels = [found for series in samples.values() for found, _ in series]
        assert labels, module
        assert {found.get("module_name") for found in labels} == {module}
        numbers = {found.get("instance_number") for found in labels}
        assert len(numbers) == 1, module
        instance = numbers.pop()
        assert instance is not None and uuid.UUID(instance)
        instances.add(instance)
        # No hub or device outside IoT Edge: those labels appear only when IOTEDGE_* name them.
        assert not any("iothub" in found or "edge_device" in found for found in labels), module
    assert len(instances) == len(MODULES)  # one instance_number per process
    assert not any(name.endswith("_created") for module in ("CameraCapture", "TextToSpeech", "SenseHatDisplay")
                   for name in scraped[module])


def test_the_state_file_is_private_and_names_each_modules_own_port(runner: Runner) -> None:
    _scraped_after_the_clip(runner)
    files = list(runner.state.glob("runner-*.json"))
    assert [f.name for f in files] == [f"runner-{runner.process.pid}.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(runner.state.stat().st_mode) == 0o700
    urls = {name: where["url"] for name, where in json.loads(files[0].read_text())["modules"].items()}
    assert sorted(urls) == sorted(MODULES)
    ports = {url.rsplit(":", 1)[1] for url in urls.values()}
    assert len(ports) == len(MODULES) and f"{DEFAULT_PORT}/metrics" not in ports
    one = runner.metrics("SenseHatDisplay")
    assert one.returncode == 0 and list(per_module(one.stdout)) == ["SenseHatDisplay"]


def test_metrics_says_in_one_line_when_no_runner_runs(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "localedge", "metrics"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path / "none")}, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout.strip().splitlines() == ["localedge | no local runner is running: start one with `python -m localedge run`"]
    # a file left by a runner that was killed is not a running runner, and is cleared away
    (tmp_path / "none").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = tmp_path / "none" / f"runner-{dead.stdout.strip()}.json"
    stale.write_text('{"pid": %s, "modules": {}}' % dead.stdout.strip())
    again = subprocess.run([sys.executable, "-m", "localedge", "metrics"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "LOCALEDGE_STATE_DIR": str(tmp_path / "none")}, timeout=60, check=False)
    assert again.returncode == 1 and "no local runner is running" in again.stdout and not stale.exists()


# --- the shared piece, in-process ----------------------------------------------------------------------------


def test_identity_labels_come_from_the_iot_edge_environment() -> None:
    labels = identity(EDGE_ENV, "ignored")
    assert labels["iothub"] == "contoso.azure-devices.net" and labels["edge_device"] == "checkout-7"
    assert labels["module_name"] == "CameraCapture" and uuid.UUID(labels["instance_number"])
    assert set(identity({}, "TextToSpeech")) == {"module_name", "instance_number"}  # no hub, no device: left out
    assert identity({}) == {}  # not a module of a deployment (the classifier standalone): no labels


def test_a_module_serves_its_registry_with_the_labels_over_http() -> None:
    metrics = ModuleMetrics("CameraCapture", EDGE_ENV)
    Counter("cameracapture_things", "things", ["kind"], registry=metrics.registry).labels("a").inc(3)
    port = free_port()
    try:
        assert metrics.serve(port, host="127.0.0.1")
        assert metrics.reported() == {"port": port, "path": "/metrics", "error": ""}
        samples = parse(scrape(f"http://127.0.0.1:{port}/metrics"))
    finally:
        metrics.close()
    (labels, count), = samples["cameracapture_things_total"]
    assert count == 3 and labels == {"kind": "a", **identity(EDGE_ENV)}
    assert "cameracapture_things_created" not in samples


def test_metrics_port_0_turns_metrics_off_and_a_taken_port_does_not_stop_the_module() -> None:
    off = ModuleMetrics("SenseHatDisplay", {})
    assert not off.serve(0) and off.reported() == {"port": 0, "path": "/metrics", "error": ""}
    assert endpoint(off.reported()) == {"why": "metrics turned off (METRICS_PORT=0)"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = ModuleMetrics("SenseHatDisplay", {})
        assert not busy.serve(taken.getsockname()[1], host="127.0.0.1")
    assert busy.reported()["port"] == 0 and "cannot listen on port" in busy.reported()["error"]
    assert "serves no metrics" in endpoint(busy.reported())["why"]


@pytest.mark.parametrize("model", [CaptureSettings, SpeechSettings, DisplaySettings])
def test_a_bad_metrics_port_is_refused_as_a_start_up_setting(model: Any) -> None:
    assert model().metrics_port == DEFAULT_PORT and model.scope("metrics_port") == "startup"
    for bad in ("70000", "-1", "port"):
        with pytest.raises(SettingsError) as refused:
            build(model, {"metrics_port": bad})
        assert "metricsPort" in refused.value.problems
    store = SettingsStore(model, {"METRICS_PORT": "70000"})  # a bad env value: the default, and said why
    assert store.current.metrics_port == DEFAULT_PORT
    assert store.model.from_environment({"METRICS_PORT": "0"}) == {"metrics_port": "0"}
    twin = store.apply({"metricsPort": 9700, "$version": 2}, full=True)  # never from the module twin
    assert "a start-up setting: set METRICS_PORT" in twin["metricsPort"] and store.current.metrics_port == DEFAULT_PORT
    store.close()


def test_the_runner_gives_each_module_its_own_metrics_port_and_keeps_0() -> None:
    manifest = load_manifest(ROOT / "deployment.template.json", {})
    envs = module_environments(manifest, {}, {})
    ports = [envs[name]["METRICS_PORT"] for name in MODULES]
    assert len(set(ports)) == len(MODULES) and all(0 < int(p) <= 65535 and p != str(DEFAULT_PORT) for p in ports)
    envs = module_environments(manifest, {"TextToSpeech": {"METRICS_PORT": "0"}}, {})
    assert envs["TextToSpeech"]["METRICS_PORT"] == "0"
    with pytest.raises(RunnerError, match="METRICS_PORT"):
        module_environments(manifest, {"CameraCapture": {"METRICS_PORT": "9x"}}, {})


class _Fails(Engine):
    name = "azure-rest"
    voice = "v"

    def synthesize(self, text: str) -> bytes:
        raise SynthesisError("no network")


class _Works(Engine):
    name = "espeak-ng"
    voice = "v"

    def synthesize(self, text: str) -> bytes:
        return b"RIFF" + text.encode()


def test_speech_counts_phrases_cache_hits_failures_and_latency_per_engine(tmp_path: Path) -> None:
    metrics = ModuleMetrics("TextToSpeech", {})
    speaker = Speaker(SpeechSettings(audio_output_dir=str(tmp_path)), [_Fails(), _Works()], SpeechMetrics(metrics.registry))
    speaker.say("Apple")
    speaker.say("Apple")
    samples = parse(generate_latest(labelled_registry(metrics.registry, metrics.labels)).decode())
    assert value(samples, "texttospeech_phrases_spoken_total", engine="espeak-ng") == 2
    assert value(samples, "texttospeech_phrases_spoken_total", engine="azure-rest") == 0
    assert value(samples, "texttospeech_engine_failures_total", engine="azure-rest") == 1  # the cached phrase never asks it again
    assert value(samples, "texttospeech_cache_hits_total", cache="memory") == 1
    assert value(samples, "texttospeech_synthesis_seconds_count", engine="espeak-ng") == 1


def test_the_classifiers_metrics_carry_the_identity_labels_only_in_a_deployment() -> None:
    labelled = ClassifierMetrics(ModelSlot(), labels=identity({**EDGE_ENV, "IOTEDGE_MODULEID": "ImageClassifierService"}))
    labelled.requests.labels("/image", "200").inc()
    (labels, _), = parse(generate_latest(labelled.served).decode())["classifier_requests_total"]
    assert labels["module_name"] == "ImageClassifierService" and labels["edge_device"] == "checkout-7"
    standalone = ClassifierMetrics(ModelSlot(), labels={})
    standalone.requests.labels("/image", "200").inc()
    assert 'classifier_requests_total{route="/image",status="200"} 1.0' in generate_latest(standalone.served).decode()


class _OwnProcess(_Works):
    """An engine running a process of its own holding 5 MB (as Piper holds its voice)."""

    def process_resident_bytes(self) -> int:
        return 5 * 1024 * 1024


def test_speech_reports_the_memory_of_its_engines_own_processes(tmp_path: Path) -> None:
    metrics = ModuleMetrics("TextToSpeech", {})
    Speaker(SpeechSettings(audio_output_dir=str(tmp_path)), [_Fails(), _OwnProcess()], SpeechMetrics(metrics.registry))
    samples = parse(generate_latest(labelled_registry(metrics.registry, metrics.labels)).decode())
    assert value(samples, "texttospeech_engine_process_resident_bytes") == 5 * 1024 * 1024
