"""The captures' Prometheus metrics, read from :meth:`capture.retrain.writer.Captures.status` at each scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

METRICS = {  # status key -> (metric name without prefix and _total, help)
    "captured": ("captures_taken", "Frames captured for retraining (queued for storage)"),
    "uploaded": ("captures_uploaded", "Captures written to storage (Blob Storage or CAPTURE_DIR)"),
    "spooled": ("captures_spooled", "Captures written to the spool while storage failed"),
    "failures": ("captures_storage_failures", "Storage writes that failed"),
    "skippedSameScene": ("captures_skipped_same_scene", "Captures skipped: the same scene as the last capture"),
}
DROPPED = {"droppedByRate": "rate", "droppedByQuota": "quota", "droppedQueueFull": "queue_full",
           "droppedSpoolFull": "spool_full"}


class CapturesCollector(Collector):
    """``cameracapture_captures_taken_total``, ``_captures_uploaded_total``, ``_captures_spooled_total``,
    ``_captures_storage_failures_total``, ``_captures_skipped_same_scene_total``, ``_captures_dropped_total``
    (label ``reason``: ``rate``, ``quota``, ``queue_full``, ``spool_full``): counters;
    ``cameracapture_captures_spool_files`` / ``_spool_bytes``: gauges. Read from ``status`` at each scrape."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def collect(self) -> Iterable[Metric]:
        status = self._status()
        for key, (name, text) in METRICS.items():
            yield CounterMetricFamily(f"cameracapture_{name}", text, value=status[key])
        dropped = CounterMetricFamily("cameracapture_captures_dropped", "Captures dropped, by reason", labels=["reason"])
        for key, label in DROPPED.items():
            dropped.add_metric([label], status[key])
        yield dropped
        yield GaugeMetricFamily("cameracapture_captures_spool_files", "Captures waiting in the spool",
                                value=status["spoolFiles"])
        yield GaugeMetricFamily("cameracapture_captures_spool_bytes", "Bytes waiting in the spool", value=status["spoolBytes"])

