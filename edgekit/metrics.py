"""A module's Prometheus metrics: one registry per module, served on ``METRICS_PORT`` for the metrics collector.

Azure Monitor's IoT Edge metrics collector (``mcr.microsoft.com/azureiotedge-metrics-collector``) scrapes
the Prometheus text endpoints listed in its ``MetricsEndpointsCSV`` over the IoT Edge network
(``http://<Module>:9600/metrics``, as edgeHub and edgeAgent serve theirs); the port needs no
``PortBindings`` (nor ``ExposedPorts``): container-to-container traffic on the ``azure-iot-edge``
bridge network reaches it, the host does not. Microsoft's guidance for custom metrics: start each
metric name with the module name, and label every sample with the IoT hub, the device, the module and
an instance id made at start-up, or a value cannot be told apart from another device's. Every sample
served here carries the labels IoT Edge's own metrics use, ``iothub`` and ``edge_device`` (from
``IOTEDGE_IOTHUBHOSTNAME`` / ``IOTEDGE_DEVICEID``, when present), ``instance_number`` (a GUID made
when the process starts: counters restart from zero with it) and edgeAgent's ``module_name``.

A module registers its metrics (or a collector reading the counters it already keeps: one source of
truth) in :attr:`ModuleMetrics.registry`, then calls :meth:`ModuleMetrics.serve`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from edgekit.http import HttpServer

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9600  # edgeHub's and edgeAgent's metrics port, which the collector is configured with
PATH = "/metrics"
INSTANCE_NUMBER = str(uuid.uuid4())  # one per process start, like IoT Edge's own instance_number

IDENTITY_ENV = {"iothub": "IOTEDGE_IOTHUBHOSTNAME", "edge_device": "IOTEDGE_DEVICEID", "module_name": "IOTEDGE_MODULEID"}


def identity(environ: Mapping[str, str], module: str | None = None) -> dict[str, str]:
    """The labels every sample of this process carries: ``iothub``, ``edge_device``, ``module_name``
    (``IOTEDGE_MODULEID``, else ``module``) and ``instance_number``; a label without a value is left out.

    Empty (no labels at all) when neither ``IOTEDGE_MODULEID`` nor ``module`` names a module: a process
    that is not a module of a deployment (the classifier run standalone) has no identity to give.
    """
    labels = {label: environ.get(variable, "") for label, variable in IDENTITY_ENV.items()}
    labels["module_name"] = labels["module_name"] or (module or "")
    if not labels["module_name"]:
        return {}
    labels["instance_number"] = INSTANCE_NUMBER
    return {label: value for label, value in labels.items() if value}


class Labelled(Collector):
    """Every metric of ``source`` with ``labels`` added to each sample (a sample's own label of the same
    name wins); with ``drop_created``, without the ``*_created`` timestamps prometheus-client adds to
    counters and histograms (each would be one more series uploaded per scrape)."""

    def __init__(self, source: CollectorRegistry, labels: Mapping[str, str], drop_created: bool = False) -> None:
        self._source = source
        self._labels = dict(labels)
        self._drop_created = drop_created

    def collect(self) -> Iterable[Metric]:
        for family in self._source.collect():
            if not self._labels and not self._drop_created:
                yield family
                continue
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [sample._replace(labels={**self._labels, **sample.labels}) for sample in family.samples
                                if not (self._drop_created and family.type != "gauge" and sample.name.endswith("_created"))]
            yield labelled


def labelled_registry(source: CollectorRegistry, labels: Mapping[str, str], drop_created: bool = False) -> CollectorRegistry:
    """A registry that serves ``source``'s metrics with ``labels`` on every sample (for ``generate_latest``
    or ``make_wsgi_app``; ``?name[]=`` filtering works on it)."""
    served = CollectorRegistry(support_collectors_without_names=True)
    served.register(Labelled(source, labels, drop_created))
    return served


class ModuleMetrics:
    """A module's metrics registry and its HTTP endpoint.

    module: the module's name (``module_name`` when ``IOTEDGE_MODULEID`` is not set);
    environ: where the identity labels come from (see :func:`identity`);
    registry: the registry to serve (default: a new one, :attr:`registry`).
    """

    def __init__(self, module: str, environ: Mapping[str, str], registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.labels = identity(environ, module)
        self._server: HttpServer | None = None
        self.port = 0
        self.error = ""

    def serve(self, port: int, host: str = "0.0.0.0") -> bool:
        """Serve the metrics at ``http://<host>:<port>/metrics`` (any path answers; 0: not served).

        Returns False, with the reason in :attr:`error` (and logged), when the port cannot be bound:
        the module goes on without metrics rather than stopping over them.
        """
        self.port = port
        if port == 0:
            logger.info("metrics not served (METRICS_PORT=0)")
            return False
        app = make_wsgi_app(labelled_registry(self.registry, self.labels, drop_created=True))
        try:
            self._server = HttpServer(app, host, port, threads=2, name="metrics", connection_limit=16,
                                      max_body_bytes=1024)
        except OSError as exc:
            self.error = f"cannot listen on port {port}: {exc.strerror or exc}"
            logger.error("metrics %s; set METRICS_PORT to a free port (0 turns metrics off)", self.error)
            return False
        self._server.start()
        logger.info("metrics on http://%s:%d%s", host, port, PATH)
        return True

    def reported(self) -> dict[str, Any]:
        """Where the metrics are, for reported properties: ``{"port", "path", "error"}`` (port 0: off)."""
        return {"port": self.port if self.port and not self.error else 0, "path": PATH, "error": self.error}

    def close(self) -> None:
        """Stop serving (safe to call more than once)."""
        if self._server is not None:
            self._server.close()
