"""Opaque canonical page tokens around each adapter's own paging cursor."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from gateway import jsonbound
from gateway.errors import InvalidRequest

MAX_PAGE_SIZE = 200
MAX_TOKEN_LENGTH = 4096


def encode_page_token(backend: str, cursor: Mapping[str, Any]) -> str:
    """A URL-safe token that carries the backend (so it cannot be replayed elsewhere)."""
    raw = json.dumps({"b": backend, "c": dict(cursor)}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(backend: str, token: str | None) -> dict[str, Any] | None:
    """The adapter cursor inside a token; a foreign or damaged token is an invalid request."""
    if token is None or token == "":
        return None
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidRequest("page_token is too long")
    try:
        padded = token + "=" * (-len(token) % 4)
        data = jsonbound.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise InvalidRequest("page_token is not a token this gateway issued") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), dict):
        raise InvalidRequest("page_token is not a token this gateway issued")
    if data.get("b") != backend:
        raise InvalidRequest("page_token belongs to another backend", backend=backend)
    cursor: dict[str, Any] = data["c"]
    return cursor


def check_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise InvalidRequest("page_size must be an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return page_size
