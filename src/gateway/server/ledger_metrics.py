"""The job ledger in /metrics: its state and its write-behind queue, read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gateway.core.async_gateway import AsyncGateway


class LedgerCollector(Collector):
    """gateway_ledger_up, _queued, _written, _failed_writes, _dropped (absent when off)."""

    def __init__(self, current: Callable[[], AsyncGateway]) -> None:
        self.current = current

    def collect(self) -> Iterator[Metric]:
        handle = self.current().ledger_handle
        if handle is None:
            return
        status = handle.status()
        up = GaugeMetricFamily(
            "gateway_ledger_up", "1 while the job ledger's database takes writes, 0 if degraded"
        )
        up.add_metric([], 1.0 if status.state == "ok" else 0.0)
        queued = GaugeMetricFamily(
            "gateway_ledger_queued", "Observed job changes waiting to be written to the ledger"
        )
        queued.add_metric([], float(status.queued))
        written = CounterMetricFamily("gateway_ledger_written", "Job changes written to the ledger")
        written.add_metric([], float(status.written))
        failed = CounterMetricFamily(
            "gateway_ledger_failed_writes", "Ledger write attempts that failed (they are retried)"
        )
        failed.add_metric([], float(status.failed_writes))
        dropped = CounterMetricFamily(
            "gateway_ledger_dropped", "Job changes dropped because the ledger's queue was full"
        )
        dropped.add_metric([], float(status.dropped))
        yield from (up, queued, written, failed, dropped)
