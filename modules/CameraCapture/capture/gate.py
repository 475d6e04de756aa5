"""Scene-change gating: classify a frame only when it differs from the last one classified."""

from __future__ import annotations

import cv2
import numpy as np

THUMBNAIL_PX = (64, 48)


class SceneGate:
    """Compares a 64x48 grey thumbnail with the last classified frame's (mean absolute difference,
    0-255). About 0.2 ms for a 640x480 frame, so every frame the camera delivers can be looked at."""

    def __init__(self) -> None:
        self._last: np.ndarray | None = None
        self.last_difference = 0.0

    def changed(self, image: np.ndarray, threshold: float) -> bool:
        """image: HxWx3 uint8 BGR. True when it should be classified (always, with threshold 0, and
        for the first frame or after :meth:`forget`); it then becomes the frame compared with."""
        thumb = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), THUMBNAIL_PX, interpolation=cv2.INTER_AREA)
        thumb = thumb.astype(np.int16)
        self.last_difference = 255.0 if self._last is None else float(np.abs(thumb - self._last).mean())
        if threshold > 0 and self.last_difference < threshold:
            return False
        self._last = thumb
        return True

    def forget(self) -> None:
        """The last frame passed was not classified after all (the classifier failed): the next one passes."""
        self._last = None
