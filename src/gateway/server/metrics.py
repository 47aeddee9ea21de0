"""Prometheus metrics of one app, in the app's own registry (several apps never share one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from gateway.core.async_gateway import AsyncGateway
from gateway.resilience import BreakerState
from gateway.transport import AiohttpUpstream

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

        # Children by label values: prometheus_client's labels() takes a lock and checks its
        # arguments on every call, a measurable share of a cached answer.
        self._request_counts: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[tuple[str, str, str], Any] = {}

    def count_request(self, route: str, backend: str, status: int) -> None:
        key = (route, backend, status)
        child = self._request_counts.get(key)
        if child is None:
            child = self._request_counts[key] = self.requests.labels(route, backend, str(status))
        child.inc()

    def observe_upstream(self, backend: str, operation: str, outcome: str, seconds: float) -> None:
        key = (backend, operation, outcome)
        child = self._latencies.get(key)
        if child is None:
            child = self._latencies[key] = self.upstream_latency.labels(*key)
        child.observe(seconds)

    def unknown_status(self, backend: str, value: str) -> None:
        self.unknown_statuses.labels(backend, value[:MAX_LABEL_CHARS]).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ResilienceCollector(Collector):
    """Reads the serving gateway's retry/cache/breaker counters at scrape time.

    The counters are per config generation: after a reload they start again from zero, which
    Prometheus' rate() reads as a counter reset.
    """

    def __init__(self, current: Callable[[], AsyncGateway]) -> None:
        self.current = current

    def collect(self) -> Iterator[Metric]:
        gateway = self.current()
        events = CounterMetricFamily(
            "gateway_resilience_events",
            "Cache, coalescing, retry and circuit-breaker events by backend and kind",
            labels=["backend", "event"],
        )
        circuit = GaugeMetricFamily(
            "gateway_circuit_state",
            "1 for the state each backend's circuit breaker is in",
            labels=["backend", "state"],
        )
        opened = CounterMetricFamily(
            "gateway_upstream_connections_opened",
            "Connections opened to each backend's vendor (flat under load: connections reused)",
            labels=["backend"],
        )
        for name in gateway.config.backends:
            http = gateway.backend(name).http
            if isinstance(http, AiohttpUpstream):  # httpx engine: its pool is not counted
                opened.add_metric([name], http.connections_opened)
            guard = gateway.guard(name)
            for event, count in guard.stats.snapshot().items():
                events.add_metric([name, event], count)
            for state in BreakerState:
                circuit.add_metric([name, state.value], 1.0 if guard.breaker_state is state else 0)
        shared = GaugeMetricFamily(
            "gateway_shared_state_ok",
            "1 while Redis shared state answers (absent when no Redis is configured)",
        )
        if gateway.resilience.redis_state != "off":
            shared.add_metric([], 1.0 if gateway.resilience.redis_state == "ok" else 0.0)
        yield events
        yield opened
        yield circuit
        yield shared
        yield from _watch_metrics(gateway)


def _watch_metrics(gateway: AsyncGateway) -> Iterator[Metric]:
    """The shared job pollers behind long-polls and event streams (per config generation)."""
    stats = gateway.watcher.stats()
    pollers = GaugeMetricFamily(
        "gateway_watch_pollers", "Jobs polled now for long-polls and event streams"
    )
    pollers.add_metric([], stats.pollers)
    subscribers = GaugeMetricFamily(
        "gateway_watch_subscribers", "Long-polls and event streams following a job now"
    )
    subscribers.add_metric([], stats.subscribers)
    polls = CounterMetricFamily(
        "gateway_watch_polls", "Job reads by the shared pollers (through the cache)"
    )
    polls.add_metric([], stats.polls)
    events = CounterMetricFamily("gateway_watch_events", "Job changes the shared pollers published")
    events.add_metric([], stats.events)
    yield pollers
    yield subscribers
    yield polls
    yield events
