"""Which classified frames are kept for retraining: ``captureMode`` (uncertainty sampling, tag changes or a random
sample), then a rate limit per hour, a quota per tag and UTC day, and a frame-difference scene gate (the order
and the counters are described in :mod:`capture.retrain`)."""

from __future__ import annotations

import random
import time
from collections import deque
from datetime import datetime, timezone

import numpy as np

from capture.gate import SceneGate
from capture.policy import top_prediction
from capture.retrain.records import Reason
from capture.settings import CaptureSettings
from edgekit.messages import Prediction

MAX_QUOTA_TAGS = 1024  # distinct tags counted per day; past it, further tags share one count
HOUR_S = 3600.0


class CapturePolicy:
    """Mode, rate limit, per-tag daily quota and scene gating (see the module docstring).

    ``reason`` and ``admit`` run on the pipeline's thread; ``rng`` draws the ``sample`` fraction.
    """

    def __init__(self, counters: dict[str, int], rng: random.Random | None = None) -> None:
        self.counters = counters
        self.rng = rng or random.Random()
        self.scene = SceneGate()
        self._last_tag: object = None  # the start is an empty scene
        self._recent: deque[float] = deque()  # monotonic times of the captures in the last hour
        self._day = ""
        self._per_tag: dict[str, int] = {}

    def reason(self, predictions: list[Prediction], settings: CaptureSettings) -> Reason | None:
        """Why this classification would be captured by ``captureMode`` alone, or None."""
        top = top_prediction(predictions, settings.threshold)
        tag = top.tagName if top else None
        changed, self._last_tag = tag != self._last_tag, tag
        mode = settings.capture_mode
        if mode == "uncertain":
            best = max((p.probability for p in predictions), default=0.0)
            return "uncertain" if abs(best - settings.threshold) <= settings.capture_band + 1e-9 else None
        if mode == "changes":
            return "change" if changed else None
        if mode == "sample":
            return "sample" if self.rng.random() < settings.capture_fraction else None
        return None

    def admit(self, image: np.ndarray, best_tag: str | None, when: datetime, settings: CaptureSettings) -> bool:
        """Rate limit, quota and scene gate for a frame ``reason`` chose; True: capture it (counted as taken)."""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= HOUR_S:
            self._recent.popleft()
        if len(self._recent) >= settings.capture_max_per_hour:
            self.counters["droppedByRate"] += 1
            return False
        day = when.astimezone(timezone.utc).strftime("%Y%m%d")
        if day != self._day:
            self._day, self._per_tag = day, {}
        key = best_tag if best_tag is not None else "\x00none"
        if key not in self._per_tag and len(self._per_tag) >= MAX_QUOTA_TAGS:
            key = "\x00other"
        if self._per_tag.get(key, 0) >= settings.capture_quota:
            self.counters["droppedByQuota"] += 1
            return False
        if not self.scene.changed(image, settings.capture_scene_change):
            self.counters["skippedSameScene"] += 1
            return False
        self._recent.append(now)
        self._per_tag[key] = self._per_tag.get(key, 0) + 1
        return True


