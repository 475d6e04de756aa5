"""What a classification means for the matrix: a tag, "not sure", or nothing in view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edgekit.messages import Classification

State = Literal["tag", "notSure", "empty"]


@dataclass(frozen=True)
class Scene:
    """state: "tag", "notSure" or "empty", as CameraCapture decided (the message's ``state``); tag and
    probability: the tag shown, or the best prediction when not sure (None when empty)."""

    state: State
    tag: str | None = None
    probability: float | None = None

    def same_view(self, other: Scene | None) -> bool:
        """True when ``other`` shows the same thing (the probability may differ)."""
        return other is not None and (self.state, self.tag) == (other.state, other.tag)


EMPTY = Scene("empty")


def judge(message: Classification | None) -> Scene:
    """The scene ``message`` says is in view: its ``state``, decided by CameraCapture (a version 1
    message: "tag" when it names a tag, else "empty"), with the tag and probability it is about: the tag
    for "tag", the best prediction for "notSure"."""
    if message is None or message.state == "empty":
        return EMPTY
    if message.state == "tag" and message.tagName is not None:
        return Scene("tag", message.tagName, message.probability)
    best = message.best()
    if message.state == "notSure" and best is not None:
        return Scene("notSure", best.tagName, best.probability)
    return EMPTY
