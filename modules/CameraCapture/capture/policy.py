"""When a classification becomes a message: threshold, on change or every time, heartbeat, minimum interval."""

from __future__ import annotations

from edgekit.messages import Prediction


def top_prediction(predictions: list[Prediction], threshold: float) -> Prediction | None:
    """The most probable prediction with probability >= threshold, or None."""
    eligible = [p for p in predictions if p.probability >= threshold]
    return max(eligible, key=lambda p: p.probability) if eligible else None


class SendPolicy:
    """Decides, for each classification, whether to send and why ("change", "every", "heartbeat").

    On change, what is compared is what is in view: the top tag, or "not sure", or nothing (an emptied
    scene is sent, so displays clear), and the same tag after another state is a new event (a second apple). Within
    ``min_interval_s`` of the last message nothing is sent; a change that is still there when the
    interval has passed is sent then, so the last state is never lost.
    """

    def __init__(self) -> None:
        self._sent: tuple[str, str | None] = ("empty", None)  # the start is an empty scene: nothing to announce
        self._sent_at: float | None = None

    def decide(self, tag: str | None, now: float, *, send_on: str, heartbeat_s: float, min_interval_s: float,
               state: str | None = None) -> str | None:
        """now: a monotonic time in s; ``state``: what is in view ("tag", "notSure", "empty"; by default
        "tag" when there is a tag, else "empty"). Returns the reason to send, or None."""
        seen = (state or ("tag" if tag is not None else "empty"), tag)
        if self._sent_at is not None and now - self._sent_at < min_interval_s:
            return None
        if send_on == "every" and tag is not None:
            reason = "every"
        elif seen != self._sent:
            reason = "change"
        elif heartbeat_s and self._sent_at is not None and now - self._sent_at >= heartbeat_s:
            reason = "heartbeat"
        else:
            return None
        self._sent, self._sent_at = seen, now
        return reason
