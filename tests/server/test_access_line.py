"""The access line as `eval-gateway serve` writes it: its own handler takes the line without a
LogRecord, and the line is the one the logging path writes; anything else configured on the
access logger (a filter) gets every line through logging as before."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.server import create_app
from gateway.server.access_lines import (
    ATOMIC_WRITE_BYTES,
    AccessLineHandler,
    direct_access_handler,
    whole_line_chunks,
)
from gateway.server.logs import ACCESS_LOGGER, JsonFormatter, log_config

DONE = "ls-sim~mmlu~eval-completed"  # a seeded completed Llama Stack job


@pytest.fixture
def served_logging() -> Iterator[io.StringIO]:
    """`log_config()` applied (as uvicorn applies it in serve), every handler into a buffer."""
    names = ("gateway", ACCESS_LOGGER, "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (logger.handlers[:], logger.propagate, logger.level, logger.filters[:])
        for name, logger in ((n, _logger(n)) for n in names)
    }
    stream = io.StringIO()
    logging.config.dictConfig(log_config())
    for name in names:
        for handler in _logger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)
    try:
        yield stream
    finally:
        for name, (handlers, propagate, level, filters) in saved.items():
            logger = _logger(name)
            logger.handlers, logger.propagate, logger.level = handlers, propagate, level
            logger.filters = filters


def _logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


async def _get(path: str, request_id: str) -> httpx.Response:
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return await client.get(path, headers={"X-Request-ID": request_id})


def _access_lines(stream: io.StringIO) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return {r["request_id"]: r for r in lines if r["logger"] == ACCESS_LOGGER}


async def test_the_served_access_line_skips_the_log_record_and_says_the_same(
    served_logging: io.StringIO,
) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    # pytest's log capture joins every non-propagating logger; served, nothing else is there
    access.handlers = [h for h in access.handlers if isinstance(h, AccessLineHandler)]
    assert isinstance(direct_access_handler(access), AccessLineHandler)
    answer = await _get(f"/v1/jobs/{DONE}", "direct-1")
    assert answer.status_code == 200

    seen: list[logging.LogRecord] = []

    def note(record: logging.LogRecord) -> bool:
        seen.append(record)
        return True

    access.addFilter(note)  # something else wants the records: the logging path again
    assert direct_access_handler(access) is None
    assert (await _get(f"/v1/jobs/{DONE}", "record-1")).status_code == 200
    assert [r.getMessage() for r in seen] == [f"GET /v1/jobs/{DONE} 200"]

    lines = _access_lines(served_logging)
    direct, logged = lines["direct-1"], lines["record-1"]
    assert list(direct) == list(logged)  # the same fields in the same order
    for key in ("ts", "request_id", "duration_ms", "upstream_ms"):
        direct.pop(key), logged.pop(key)
    assert direct == logged
    assert direct["message"] == f"GET /v1/jobs/{DONE} 200"
    assert (direct["route"], direct["backend"], direct["status"]) == (
        "/v1/jobs/{job_id}",
        "ls-sim",
        200,
    )


async def test_above_info_the_served_access_line_is_not_written(
    served_logging: io.StringIO,
) -> None:
    logging.getLogger("gateway").setLevel(logging.WARNING)
    await _get("/healthz", "quiet-1")
    assert "quiet-1" not in _access_lines(served_logging)


async def test_served_access_lines_are_written_in_batches_soon_after_and_at_the_end(
    served_logging: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    access.handlers = [h for h in access.handlers if isinstance(h, AccessLineHandler)]
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            await client.get("/healthz", headers={"X-Request-ID": "soon-1"})
            for _ in range(100):  # written soon after, unprompted (FLUSH_SECONDS: 50 ms)
                if "soon-1" in _access_lines(served_logging):
                    break
                await asyncio.sleep(0.02)
            assert "soon-1" in _access_lines(served_logging)

            monkeypatch.setattr(AccessLineHandler, "FLUSH_SECONDS", 3600.0)
            for n in range(3):
                await client.get("/healthz", headers={"X-Request-ID": f"end-{n}"})
            assert not {"end-0", "end-1", "end-2"} & _access_lines(served_logging).keys()
    # The lifespan's end writes what is pending (a worker exits without logging.shutdown).
    assert {"end-0", "end-1", "end-2"} <= _access_lines(served_logging).keys()


class RecordingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


async def test_a_batch_is_written_in_whole_lines_no_larger_than_a_pipes_atomic_write() -> None:
    """Workers share one stderr pipe: a write up to PIPE_BUF is never interleaved with
    another's, so a batch goes out in such chunks, each of whole lines."""
    stream = RecordingStream()
    handler = AccessLineHandler(stream)
    handler.setFormatter(JsonFormatter())
    fields = {"path": "/v1/jobs/" + "é" * 150}  # multi-byte: chunks count bytes
    for n in range(40):  # under FLUSH_LINES: one batch, pending until flushed
        handler.write_fields(f"GET {n}", f"id-{n}", fields)
    assert stream.writes == []
    handler.flush()
    assert len(stream.writes) > 1
    assert all(len(w.encode()) <= ATOMIC_WRITE_BYTES and w.endswith("\n") for w in stream.writes)
    assert [json.loads(line)["request_id"] for line in "".join(stream.writes).splitlines()] == [
        f"id-{n}" for n in range(40)
    ]
    long_line = "x" * (ATOMIC_WRITE_BYTES * 2) + "\n"
    assert list(whole_line_chunks([long_line, "a\n"], ATOMIC_WRITE_BYTES)) == [long_line, "a\n"]
