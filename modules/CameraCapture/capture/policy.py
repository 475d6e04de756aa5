"""When a classification becomes a message: the top tag at or above the threshold changed."""

from __future__ import annotations

from edgekit.messages import Prediction


def top_prediction(predictions: list[Prediction], threshold: float) -> Prediction | None:
    """The most probable prediction with probability >= threshold, or None."""
    eligible = [p for p in predictions if p.probability >= threshold]
    return max(eligible, key=lambda p: p.probability) if eligible else None


class OnChange:
    """Sends when the top tag differs from the previous classification's (no tag counts as a state).

    A scene that empties and shows the same tag again is a new event (a second apple scanned).
    """

    def __init__(self) -> None:
        self._last: str | None = None

    def should_send(self, tag: str | None) -> bool:
        changed = tag != self._last
        self._last = tag
        return changed
