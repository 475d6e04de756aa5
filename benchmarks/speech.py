"""TextToSpeech benchmark: time from a classification message arriving to its audio written (WAV file).

The real Speaker behind the module's inbox (capacity 1, newest wins), writing to a temp folder, for:
1. cached phrases: from memory, and from the disk cache after a restart (targets: < 100 ms);
2. uncached phrases per engine: espeak-ng, Piper (when installed; its process already warm), and
   Azure Speech REST against a local server that plays the service with espeak-ng audio (so this
   measures the engine's HTTP path, not Azure's own synthesis time);
3. uncached phrases with Azure silent (the server accepts and never answers): the hedge starts the
   local engines after ``hedgeDelayS`` (0.3 s); target < 1 s. The first phrase of a fresh speaker
   pays the hedge; later ones skip Azure while its call is still in flight (one per engine).

Run: .venv/bin/python benchmarks/speech.py [--phrases 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "modules" / "TextToSpeech")]

from edgekit.inbox import Inbox  # noqa: E402
from edgekit.messages import Classification  # noqa: E402
from speech.base import Engine  # noqa: E402
from speech.engines import AzureRestEngine, EspeakEngine  # noqa: E402
from speech.piper import PiperEngine, piper_voice_path  # noqa: E402
from speech.settings import SpeechSettings  # noqa: E402
from speech.speaker import Speaker  # noqa: E402

SILENT = threading.Event()  # set: the fake Azure answers nothing


def fake_azure() -> tuple[str, ThreadingHTTPServer]:
    """A local stand-in for the Azure TTS endpoint: espeak-ng audio of the SSML text, or silence."""
    import xml.etree.ElementTree as ET

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if SILENT.is_set():
                time.sleep(15)
                return
            voice = ET.fromstring(body).find("{http://www.w3.org/2001/10/synthesis}voice")
            audio = EspeakEngine("en-us", 10).synthesize(voice.text if voice is not None and voice.text else "x")
            self.send_response(200)
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


class Timed:
    """A Speaker behind the module's inbox; ``send(tag)`` returns seconds from arrival to the WAV written."""

    def __init__(self, settings: SpeechSettings, engines: list[Engine]) -> None:
        self.speaker = Speaker(settings, engines)
        self.inbox: Inbox[Classification] = Inbox(self.speaker.consume, capacity=1, name="speaker",
                                                  coalesce=self.speaker.supersede)
        self._written = threading.Event()
        emit = self.speaker.output.emit

        def timed_emit(wav: bytes, text: str, volume: float = 1.0, timeout_s: float = 30.0) -> Path | None:
            path = emit(wav, text, volume, timeout_s)
            self._written.set()
            return path

        self.speaker.output.emit = timed_emit  # type: ignore[method-assign]

    def send(self, tag: str) -> float:
        self._written.clear()
        message = Classification(tagName=tag, probability=0.9, predictions=[], captureTime=datetime.now(timezone.utc),
                                 frameNumber=0, source="bench")
        started = time.perf_counter()
        self.speaker.arrived()
        self.inbox.put(message)
        if not self._written.wait(30):
            raise RuntimeError(f"{tag!r} was not spoken")
        return time.perf_counter() - started

    def close(self) -> None:
        self.inbox.close()


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"{name:<48} n={len(ms):<3} median {statistics.median(ms):7.1f} ms   max {ms[-1]:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrases", type=int, default=10)
    args = parser.parse_args()
    n = args.phrases
    url, server = fake_azure()
    tmp = Path(tempfile.mkdtemp(prefix="speech-bench-"))
    base = dict(audio_output_dir=str(tmp / "out"), min_repeat_s=0.0, phrase_template="You scanned {tagName}")
    engines: dict[str, Callable[[], Engine]] = {
        "espeak-ng": lambda: EspeakEngine("en-us", 10, "en-US"),
        "azure-rest (local stand-in)": lambda: AzureRestEngine("k", "", "en-US-JennyNeural", 10, "en-US", host=url),
    }
    model = piper_voice_path("en_US-joe-medium")
    if model is not None:
        engines["piper"] = lambda: PiperEngine(model, 30, "en-US")
    lines = []
    for name, make in engines.items():
        engine = make()
        cache = tmp / f"cache-{name.split()[0]}"
        timed = Timed(SpeechSettings(**base, cache_dir=str(cache)), [engine])
        timed.send("Warmup")  # Piper loads its voice here
        uncached = [timed.send(f"Fruit{i}") for i in range(n)]
        memory = [timed.send(f"Fruit{i}") for i in range(n)]
        timed.close()
        restarted = Timed(SpeechSettings(**base, cache_dir=str(cache)), [engine])
        disk = [restarted.send(f"Fruit{i}") for i in range(n)]
        restarted.close()
        engine.close()
        lines += [summary(f"uncached, {name}", uncached), summary(f"cached in memory, {name}", memory),
                  summary(f"cached on disk after a restart, {name}", disk)]

    SILENT.set()
    hedged, later = [], []
    piper = PiperEngine(model, 30, "en-US") if model is not None else None  # as on amd64/arm64v8: Azure, Piper, espeak-ng
    local: list[Engine] = [piper] if piper is not None else []
    for i in range(max(3, n // 3)):
        silent = AzureRestEngine("k", "", "en-US-JennyNeural", 10, "en-US", host=url)
        timed = Timed(SpeechSettings(**base, hedge_delay_s=0.3), [silent, *local, EspeakEngine("en-us", 10, "en-US")])
        if i == 0 and piper is not None:
            piper.synthesize("warm up")  # a module's Piper process is started with the module
        hedged.append(timed.send(f"Silent{i}"))
        later += [timed.send(f"Later{i}-{k}") for k in range(3)]
        timed.close()
    if piper is not None:
        piper.close()
    chain = " -> ".join(["azure-rest (silent)", *(e.name for e in local), "espeak-ng"])
    print(f"Azure silent: engines {chain}, hedge delay 0.3 s")
    lines += [summary("uncached, Azure silent: first phrase (hedged)", hedged),
              summary("uncached, Azure silent: next phrases", later)]
    print("\n".join(lines))
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
