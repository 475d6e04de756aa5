"""CameraCapture's Prometheus metrics, read from the pipeline's own counters at each scrape (one source of
truth: the same numbers go to reported properties and the live view).

- ``cameracapture_frames_read_total``, ``_frames_dropped_total`` (overwritten in the newest-frame slot
  before being sampled), ``_frames_classified_total``, ``_frames_skipped_total`` (too little changed to
  classify), ``_messages_sent_total`` (queued on the classification output), ``_errors_total``
  (classification failed, or a message was too large): counters;
- ``cameracapture_capture_fps`` / ``_classify_fps``: frames read / classified per second over the last
  reporting interval (``reportIntervalS``), as reported: gauges;
- ``cameracapture_classifier_latency_seconds``: time of each successful classifier request, s: histogram;
- ``cameracapture_outbox_queued`` (gauge), ``_outbox_delivered_total`` and ``_outbox_dropped_total``
  (counters): the hub's outbox of messages for edgeHub.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

PREFIX = "cameracapture"
LATENCY_BUCKETS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

COUNTERS = {  # pipeline counter -> (metric name, help)
    "framesRead": ("frames_read", "Frames read from the source"),
    "framesDropped": ("frames_dropped", "Frames replaced by a newer one before they were sampled"),
    "framesClassified": ("frames_classified", "Frames classified"),
    "framesSkipped": ("frames_skipped", "Sampled frames not classified: too little changed (sceneChangeThreshold)"),
    "messagesSent": ("messages_sent", "Messages queued on the classification output"),
    "errors": ("errors", "Classifications that failed and messages that could not be sent"),
}
RATES = {"captureFps": ("capture_fps", "Frames read per second over the last reporting interval"),
         "classifyFps": ("classify_fps", "Frames classified per second over the last reporting interval")}


def latency_histogram() -> Histogram:
    """The classifier latency histogram (not registered: :class:`CaptureCollector` serves it)."""
    return Histogram(f"{PREFIX}_classifier_latency_seconds", "Classifier request time, successful requests, s",
                     buckets=LATENCY_BUCKETS_S, registry=None)


class CaptureCollector(Collector):
    """Collects the metrics above from ``status`` (the pipeline's ``status()``: ``counters``), ``rates``
    (the last reported ``captureFps`` / ``classifyFps``), ``outbox`` (``Hub.outbox_status()``) and the
    ``latency`` histogram."""

    def __init__(self, status: Callable[[], dict[str, Any]], rates: Callable[[], dict[str, float]],
                 outbox: Callable[[], dict[str, int]], latency: Histogram) -> None:
        self._status = status
        self._rates = rates
        self._outbox = outbox
        self._latency = latency

    def collect(self) -> Iterable[Metric]:
        counters = self._status()["counters"]
        for key, (name, text) in COUNTERS.items():
            yield CounterMetricFamily(f"{PREFIX}_{name}", text, value=counters.get(key, 0))
        rates = self._rates()
        for key, (name, text) in RATES.items():
            yield GaugeMetricFamily(f"{PREFIX}_{name}", text, value=rates.get(key, 0.0))
        yield from self._latency.collect()
        outbox = self._outbox()
        yield GaugeMetricFamily(f"{PREFIX}_outbox_queued", "Messages waiting for edgeHub", value=outbox["queued"])
        yield CounterMetricFamily(f"{PREFIX}_outbox_delivered", "Messages edgeHub took", value=outbox["delivered"])
        yield CounterMetricFamily(f"{PREFIX}_outbox_dropped", "Messages dropped, oldest first, while the outbox was full",
                                  value=outbox["dropped"])
