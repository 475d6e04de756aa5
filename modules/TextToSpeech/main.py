"""TextToSpeech: speaks the tag of each classification message that changes the tag.

Wiring root: settings (env < module twin) -> speaker (Azure Speech, Piper, espeak-ng; sound device
or WAV files) behind an inbox of one message where the newest wins, so speaking never blocks the
transport and never speaks a stale tag -> its Prometheus metrics on METRICS_PORT (reported as
``metrics``), reporting ``speech`` (engines, breakers, last phrase, counters) when it changes,
until SIGTERM. Worker failures are counted and reported as ``workerErrors``.
"""

from __future__ import annotations

import os
import sys
import threading

from edgekit.hub import Hub, InputMessage
from edgekit.inbox import Inbox
from edgekit.messages import Classification, parse_classification
from edgekit.metrics import ModuleMetrics
from edgekit.runtime import run_module
from edgekit.settings import SettingsStore
from speech import methods
from speech.metrics import SpeechMetrics
from speech.settings import SpeechSettings
from speech.speaker import Speaker

REPORT_CHECK_S = 2.0  # how often the reported ``speech`` is refreshed when it changed, s


def run(hub: Hub | None, stop: threading.Event) -> int:
    assert hub is not None
    store = SettingsStore(SpeechSettings, os.environ, hub)
    store.start()
    metrics = ModuleMetrics("TextToSpeech", os.environ)
    settings = store.current
    speaker = Speaker(settings, metrics=SpeechMetrics(metrics.registry))
    store.add_listener(lambda _old, new: speaker.configure(new), since=settings)  # for the next phrase, never waits
    metrics.serve(store.current.metrics_port, store.current.bind_address)
    store.report(speech=speaker.reported(), metrics=metrics.reported())
    inbox: Inbox[Classification] = Inbox(speaker.consume, capacity=1, name="speaker", coalesce=speaker.supersede)

    def on_input(message: InputMessage) -> None:
        classification = parse_classification(message)
        if classification is not None:
            speaker.arrived()
            inbox.put(classification)

    hub.set_input_handler(on_input)
    hub.set_method_handlers(methods.handlers(speaker))  # say
    try:
        reported = speaker.reported()
        while not stop.wait(REPORT_CHECK_S):
            now = speaker.reported()
            if now != reported:
                store.report(speech=now, metrics=metrics.reported())
                reported = now
        inbox.close()
    finally:
        speaker.close()
        metrics.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_module(run))
