"""TextToSpeech: speaks the tag of each classification message that changes the tag.

Wiring root: settings (env < module twin) -> hub -> speaker (Azure Speech or espeak-ng, sound
device or WAV files) behind an inbox worker, so speaking never blocks the transport.
"""

from __future__ import annotations

import logging
import os
import sys

from edgekit.hub import InputMessage
from edgekit.inbox import Inbox
from edgekit.messages import Classification, parse_classification
from edgekit.runtime import configure_logging, connect_hub, stop_event
from edgekit.settings import SettingsStore
from speech.settings import SpeechSettings
from speech.speaker import Speaker

logger = logging.getLogger("TextToSpeech")

QUEUE_CAPACITY = 8


def main() -> int:
    configure_logging()
    stop = stop_event()
    hub = connect_hub(stop)
    if hub is None:
        return 0
    try:
        store = SettingsStore(SpeechSettings, os.environ, hub)
        store.start()
        speaker = Speaker(store.current)
        store.add_listener(lambda _old, new: speaker.configure(new))
        store.report(speech={"engines": ",".join(e.name for e in speaker.engines)})
        inbox: Inbox[Classification] = Inbox(speaker.consume, capacity=QUEUE_CAPACITY, name="speaker")

        def on_input(message: InputMessage) -> None:
            classification = parse_classification(message)
            if classification is not None:
                inbox.put(classification)

        hub.set_input_handler(on_input)
        stop.wait()
        inbox.close()
        return 0
    finally:
        hub.close()


if __name__ == "__main__":
    sys.exit(main())
