"""When a classification becomes a message: threshold, on change or every time, heartbeat, minimum interval."""

from __future__ import annotations

from edgekit.messages import Prediction


def top_prediction(predictions: list[Prediction], threshold: float) -> Prediction | None:
    """The most probable prediction with probability >= threshold, or None."""
    eligible = [p for p in predictions if p.probability >= threshold]
    return max(eligible, key=lambda p: p.probability) if eligible else None


class SendPolicy:
    """Decides, for each classification, whether to send and why ("change", "every", "heartbeat").

    On change, the state compared is the top tag, and "no tag" is a state: an emptied scene is
    sent (so displays clear), and the same tag after it is a new event (a second apple). Within
    ``min_interval_s`` of the last message nothing is sent; a change that is still there when the
    interval has passed is sent then, so the last state is never lost.
    """

    def __init__(self) -> None:
        self._sent_tag: object = None  # the start is an empty scene: nothing to announce
        self._sent_at: float | None = None

    def decide(self, tag: str | None, now: float, *, send_on: str, heartbeat_s: float, min_interval_s: float) -> str | None:
        """now: a monotonic time in s. Returns the reason to send, or None."""
        if self._sent_at is not None and now - self._sent_at < min_interval_s:
            return None
        if send_on == "every" and tag is not None:
            reason = "every"
        elif tag != self._sent_tag:
            reason = "change"
        elif heartbeat_s and self._sent_at is not None and now - self._sent_at >= heartbeat_s:
            reason = "heartbeat"
        else:
            return None
        self._sent_tag, self._sent_at = tag, now
        return reason
