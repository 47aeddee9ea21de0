"""One SDK tracer provider for the session, recording into memory (the OTel API allows one
global provider per process; the gateway uses the one it finds instead of installing its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="session")
def _provider() -> InMemorySpanExporter:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # someone installed one already: listen to it
        current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    else:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    return _EXPORTER


@pytest.fixture
def spans(_provider: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    _provider.clear()
    yield _provider
    _provider.clear()
