"""What a classification means for the matrix: a tag, "not sure", or nothing in view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edgekit.messages import Classification

State = Literal["tag", "notSure", "empty"]


@dataclass(frozen=True)
class Scene:
    """state: "tag" (the best prediction is at or above the threshold), "notSure" (below it but at or
    above the floor) or "empty"; tag and probability: the best prediction (None when there is none)."""

    state: State
    tag: str | None = None
    probability: float | None = None

    def same_view(self, other: Scene | None) -> bool:
        """True when ``other`` shows the same thing (the probability may differ)."""
        return other is not None and (self.state, self.tag) == (other.state, other.tag)


EMPTY = Scene("empty")


def judge(message: Classification | None, threshold: float, floor: float) -> Scene:
    """The scene of ``message`` under the display's threshold and not-sure floor.

    The best prediction is the most probable of ``predictions``; a message without predictions
    counts its ``tagName`` and ``probability``. CameraCapture sends ``tagName`` null when nothing is
    at or above ITS threshold, but keeps the predictions, so "not sure" is seen from them.
    """
    if message is None:
        return EMPTY
    candidates = [(p.probability, p.tagName) for p in message.predictions]
    if not candidates and message.tagName is not None:
        candidates = [(message.probability, message.tagName)]
    if not candidates:
        return EMPTY
    probability, tag = max(candidates, key=lambda c: c[0])
    if probability >= threshold:
        return Scene("tag", tag, probability)
    if probability >= floor:
        return Scene("notSure", tag, probability)
    return EMPTY
