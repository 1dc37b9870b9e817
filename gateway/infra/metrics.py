"""Prometheus metrics, served at /metrics (on BWS_METRICS_PORT, or on the HTTP port).

Label values come from fixed sets only (method names, route templates, status
codes), so no caller can add series. The per-partition figures live in their
own registry: they name tenants and are only shown to trusted scrapers."""
from __future__ import annotations

from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class _IndexSizes:
    def __init__(self, sizes: Callable[[], dict]) -> None:
        self.sizes = sizes

    def collect(self):
        family = GaugeMetricFamily("bws_index_templates", "Templates in this process' search index",
                                   labels=["partition"])
        for partition, size in sorted(self.sizes().items()):
            family.add_metric([str(partition)], size)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tenant_registry = CollectorRegistry()
        self.calls = Counter("bws_calls", "BWS calls by method and status code", ["method", "code"],
                             registry=self.registry)
        self.latency = Histogram("bws_call_duration_seconds", "Time spent in the service per call", ["method"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.engine_queue = Gauge("bws_engine_in_flight", "Images submitted to the engine workers and not done",
                                  registry=self.registry)

    def observe_call(self, method: str, code: str, seconds: float) -> None:
        """`method`: a gRPC method path or an HTTP route template, never a raw request path."""
        name = method if method.startswith("/extension/") else method.rsplit("/", 1)[-1]
        self.calls.labels(name, code).inc()
        self.latency.labels(name).observe(seconds)

    def watch(self, engine_in_flight: Callable[[], int], index_sizes: Callable[[], dict]) -> None:
        self.engine_queue.set_function(engine_in_flight)
        self.tenant_registry.register(_IndexSizes(index_sizes))

    def render(self, tenants: bool = True) -> bytes:
        """The exposition text; `tenants=False` leaves out the series that name partitions."""
        return generate_latest(self.registry) + (generate_latest(self.tenant_registry) if tenants else b"")
