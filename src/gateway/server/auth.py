"""Caller auth: API keys kept as sha256 digests, compared in constant time.

A caller sends `Authorization: Bearer <key>` (or `X-API-Key: <key>`). Each key may be limited
to some backends and aliases; a key allowed an alias may use the backend it points at (job ids
always carry the backend's own name), so switching an alias moves its callers along with it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.datastructures import Headers

from gateway.config import GatewayConfig
from gateway.errors import Forbidden, Unauthorized

REALM = "eval-gateway"
WWW_AUTHENTICATE = f'Bearer realm="{REALM}"'
MAX_KEY_CHARS = 1024


@dataclass(frozen=True)
class Caller:
    """Who is calling and what they may use (`allowed` None: everything)."""

    name: str | None
    allowed: frozenset[str] | None = None

    def may_use(self, config: GatewayConfig, name: str) -> bool:
        if self.allowed is None:
            return True
        return name in self.allowed or config.resolve(name) in self.allowed

    def check(self, config: GatewayConfig, name: str) -> None:
        """Raise `Forbidden` unless this caller may use backend or alias `name`."""
        if not self.may_use(config, name):
            raise Forbidden(
                f"this API key may not use {name[:100]!r}",
                backend=name[:100] if config.resolve(name) else None,
            )


ANONYMOUS = Caller(name=None)


@dataclass(frozen=True)
class _Key:
    name: str
    digest: bytes
    allowed: frozenset[str] | None


class KeyRing:
    """The caller keys of one config generation."""

    def __init__(self, config: GatewayConfig) -> None:
        self.enabled = config.auth.enabled
        self._keys = tuple(
            _Key(k.name, k.digest, _allowed(config, k.backends)) for k in config.auth.keys
        )

    def authenticate(self, headers: Headers) -> Caller:
        """The caller the request's key belongs to; `Unauthorized` if none matches."""
        if not self.enabled:
            return ANONYMOUS
        presented = _presented_key(headers)
        if presented is None:
            raise Unauthorized("send an API key: 'Authorization: Bearer <key>'")
        digest = hashlib.sha256(presented.encode()).digest()
        found: _Key | None = None
        for key in self._keys:  # no early exit: the time taken does not depend on which matched
            if hmac.compare_digest(digest, key.digest):
                found = key
        if found is None:
            raise Unauthorized("the API key is not valid")
        return Caller(found.name, found.allowed)


def _allowed(config: GatewayConfig, names: list[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    resolved = {config.resolve(n) for n in names}
    return frozenset({*names, *(r for r in resolved if r is not None)})


def _presented_key(headers: Headers) -> str | None:
    value = headers.get("authorization")
    if value is not None:
        scheme, _, credential = value.strip().partition(" ")
        key = credential.strip() if scheme.lower() == "bearer" else ""
    else:
        key = (headers.get("x-api-key") or "").strip()
    return key if 0 < len(key) <= MAX_KEY_CHARS else None
