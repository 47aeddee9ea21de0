"""Structured JSON logs that carry the request id on every line.

The request id lives in a ContextVar: each request runs in its own task (its own context), so
a log line written anywhere below the middleware (core, adapters) picks up the right id without
threading it through every call.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

ACCESS_LOGGER = "gateway.access"
REQUEST_ID: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)
# What orjson refuses (an int past 64 bits, a dict with non-str keys) is written by json.
_FALLBACK_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode


def _encode(out: dict[str, Any]) -> str:
    try:
        return orjson.dumps(out, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return _FALLBACK_ENCODE(out)


# LogRecord attributes that are not the caller's extra fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "fields",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class RequestIdFilter(logging.Filter):
    """Stamp the current request id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id and extra fields."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        if not isinstance(fields, dict):
            fields = {
                key: value
                for key, value in vars(record).items()
                if key not in _STANDARD and not key.startswith("_")
            }
        if record.exc_info:
            fields = {**fields, "exception": self.formatException(record.exc_info)}
        return self.line(
            record.created,
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            getattr(record, "request_id", None) or REQUEST_ID.get(),
            fields,
        )

    def line(
        self,
        created: float,
        level: str,
        logger: str,
        message: str,
        request_id: str | None,
        fields: dict[str, Any],
    ) -> str:
        """The JSON line of one event (a record's fields never replace the five above)."""
        out: dict[str, Any] = {
            "ts": self._timestamp(created),
            "level": level,
            "logger": logger,
            "message": message,
            "request_id": request_id,
        }
        for key, value in fields.items():
            out.setdefault(key, value)
        return _encode(out)

    def _timestamp(self, created: float) -> str:
        """ISO 8601 UTC with milliseconds; the date and time part is made once a second."""
        second = int(created)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._second, self._second_text = second, moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"


def log_config(level: str = "info") -> dict[str, Any]:
    """A logging.config dict (given to uvicorn, so every worker uses it): JSON to stderr."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    access = {**handler, "()": "gateway.server.access_lines.AccessLineHandler", "filters": []}
    del access["class"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler, "access": access},
        "loggers": {
            "gateway": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            # The access line names its request itself (no RequestIdFilter needed).
            ACCESS_LOGGER: {"handlers": ["access"], "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "propagate": False},  # ours is richer
        },
    }
