"""Prometheus metrics of one app, in the app's own registry (several apps never share one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST
MAX_LABEL_CHARS = 100  # vendor words end up in label values: keep them short
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The gateway's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests answered, by route template, backend and HTTP status",
            ["route", "backend", "status"],
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "gateway_upstream_latency_seconds",
            "Time spent in vendor calls, by backend, canonical operation and outcome",
            ["backend", "operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.unknown_statuses = Counter(
            "gateway_unknown_vendor_status",
            "Vendor status words the gateway could not map (canonical status 'unknown')",
            ["backend", "value"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "gateway_config_reloads",
            "Config reload attempts, by outcome (applied or refused)",
            ["outcome"],
            registry=self.registry,
        )
        self.generation = Gauge(
            "gateway_config_generation",
            "Number of the config generation now serving (1 = the one loaded at start)",
            registry=self.registry,
        )

    def unknown_status(self, backend: str, value: str) -> None:
        self.unknown_statuses.labels(backend, value[:MAX_LABEL_CHARS]).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
