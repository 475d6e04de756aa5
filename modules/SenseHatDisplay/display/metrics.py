"""SenseHatDisplay's Prometheus metrics, read from the display at each scrape.

- ``sensehatdisplay_updates_total``: new matrix states shown (a tag's picture, or cleared for no tag);
  a message repeating the state shown is not an update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

PREFIX = "sensehatdisplay"


class DisplayCollector(Collector):
    """``sensehatdisplay_updates_total`` from ``updates`` (the display's count)."""

    def __init__(self, updates: Callable[[], int]) -> None:
        self._updates = updates

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(f"{PREFIX}_updates", "New matrix states shown", value=self._updates())
