"""The served access log: its own handler, lines without a LogRecord, written in batches.

The LogRecord and a write per line were a third of a cached answer's time
(docs/speed-second-step.md). A batch is written in chunks of whole lines no larger than
PIPE_BUF: workers sharing one stderr pipe then never interleave inside a line, as when each
line was its own write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any, TextIO

from gateway.server.logs import ACCESS_LOGGER, JsonFormatter

ATOMIC_WRITE_BYTES = 4096  # PIPE_BUF on Linux: a write to a pipe up to this size is whole


def whole_line_chunks(lines: list[str], limit: int) -> Iterator[str]:
    """`lines` joined into chunks of at most `limit` bytes (UTF-8), never splitting a line
    (one longer than `limit` is a chunk of its own)."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        length = len(line) if line.isascii() else len(line.encode())
        if chunk and size + length > limit:
            yield "".join(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += length
    if chunk:
        yield "".join(chunk)


class AccessLineHandler(logging.StreamHandler[TextIO]):
    """The served gateway's handler of `gateway.access`: a JSON stream handler that also takes
    an access line as fields, without a LogRecord (gateway.server.middleware.access_log), and
    writes such lines in batches: at most FLUSH_SECONDS after the first, or FLUSH_LINES at
    once (like nginx's `access_log ... buffer= flush=`). The LogRecord and a write per line
    were a third of a cached answer's time. Lines still pending are written by `flush` (the
    lifespan's end, logging.shutdown); a killed process loses at most FLUSH_SECONDS of them."""

    FLUSH_SECONDS = 0.05
    FLUSH_LINES = 64

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def write_fields(self, message: str, request_id: str | None, fields: dict[str, Any]) -> None:
        formatter = self.formatter
        if not isinstance(formatter, JsonFormatter):  # configured otherwise: a plain record
            raise TypeError("AccessLineHandler.write_fields needs a JsonFormatter")
        line = formatter.line(time.time(), "info", ACCESS_LOGGER, message, request_id, fields)
        self._pending.append(line + self.terminator)
        if len(self._pending) >= self.FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop to flush later: now
                self.flush()
                return
            self._timer = loop.call_later(self.FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.acquire()
        try:
            pending, self._pending = self._pending, []
            for chunk in whole_line_chunks(pending, ATOMIC_WRITE_BYTES):
                try:
                    self.stream.write(chunk)
                    self.stream.flush()
                except Exception:
                    self.handleError(logging.makeLogRecord({"msg": "access lines"}))
        finally:
            self.release()
        super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        self.flush()  # a record through logging comes after the lines written before it
        super().emit(record)

    def close(self) -> None:
        self.flush()
        super().close()


def flush_access_lines() -> None:
    """Write the access lines still pending (a served worker's last act: it exits without
    logging.shutdown)."""
    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        handler.flush()


def direct_access_handler(logger: logging.Logger) -> AccessLineHandler | None:
    """The logger's one AccessLineHandler when a line may skip the LogRecord: nothing else
    (filters, other handlers, a handler level above INFO) would see or stop it."""
    handlers = logger.handlers
    if len(handlers) != 1 or logger.propagate or logger.filters:
        return None
    handler = handlers[0]
    if type(handler) is not AccessLineHandler or handler.filters or handler.level > logging.INFO:
        return None
    return handler if isinstance(handler.formatter, JsonFormatter) else None
