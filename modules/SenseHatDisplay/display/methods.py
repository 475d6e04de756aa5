"""SenseHatDisplay's direct methods, to test the LED matrix from the cloud or ``python -m localedge invoke``.

``show`` ``{"tag": "Apple"}`` shows the tag as a classification of it would (at probability 1: its
icon, your ``icons`` override, or its coloured first letter; scrolled first when ``scrollText`` is
on) and answers the ``display`` status (as reported: ``backend``, ``state``, ``tag``,
``probability``, ``picture``, ``since``, ``error``). ``clear`` (no payload) blanks the matrix and
answers the same status. A tag shown this way stays until the next classification arrives.
Errors: 400 for a missing or empty tag, or one over 64 characters.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from display.show import Display
from edgekit.messages import Classification
from edgekit.methods import MethodHandler, NoPayload, taking

METHOD_SOURCE = "direct method"  # the ``source`` of the classification a ``show`` stands for
MAX_TAG_CHARS = 64


class ShowRequest(BaseModel):
    """``show``'s payload: the tag to show, 1-64 characters."""

    model_config = ConfigDict(extra="forbid")

    tag: str = Field(min_length=1, max_length=MAX_TAG_CHARS)


def handlers(display: Display) -> dict[str, MethodHandler]:
    """The display's direct methods for :meth:`edgekit.hub.Hub.set_method_handlers`."""

    def show(request: ShowRequest) -> dict[str, Any]:
        display.show(Classification(tagName=request.tag, probability=1.0, predictions=[],
                                    captureTime=datetime.now(timezone.utc), frameNumber=0, source=METHOD_SOURCE))
        return display.status()

    def clear(_request: NoPayload) -> dict[str, Any]:
        display.show(None)
        return display.status()

    return {"show": taking(ShowRequest, show), "clear": taking(NoPayload, clear)}
