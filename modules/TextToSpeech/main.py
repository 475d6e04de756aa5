"""TextToSpeech: speaks the tag of each classification message that changes the tag.

Wiring root: settings (env < module twin) -> speaker (Azure Speech or espeak-ng, sound device or
WAV files) behind an inbox worker so speaking never blocks the transport -> its Prometheus metrics on
METRICS_PORT (reported as ``metrics``), until SIGTERM. Worker failures are counted and reported as
``workerErrors`` (thread name -> count).
"""

from __future__ import annotations

import os
import sys
import threading

from edgekit.hub import Hub
from edgekit.messages import classification_inbox
from edgekit.metrics import ModuleMetrics
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore
from speech.metrics import SpeechMetrics
from speech.settings import SpeechSettings
from speech.speaker import Speaker

QUEUE_CAPACITY = 8


def run(hub: Hub | None, stop: threading.Event) -> int:
    assert hub is not None
    store = SettingsStore(SpeechSettings, os.environ, hub)
    store.start()
    metrics = ModuleMetrics("TextToSpeech", os.environ)
    speaker = Speaker(store.current, metrics=SpeechMetrics(metrics.registry))
    store.add_listener(lambda _old, new: speaker.configure(new))  # applies to the next phrase, never waits for one
    metrics.serve(store.current.metrics_port)
    store.report(speech={"engines": ",".join(e.name for e in speaker.engines)}, metrics=metrics.reported())
    try:
        inbox = classification_inbox(hub, speaker.consume, QUEUE_CAPACITY, "speaker")
        stop.wait()
        inbox.close()
    finally:
        metrics.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_module(run))
