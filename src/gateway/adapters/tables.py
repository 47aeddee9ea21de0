"""Declarative tables every adapter fills in: vendor status words and vendor errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    UnsupportedOperation,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.schemas.status import JobStatus


def normalize_status_word(value: object) -> str | None:
    """Status words match ignoring case and surrounding space."""
    if not isinstance(value, str):
        return None
    word = value.strip().casefold()
    return word or None


@dataclass(frozen=True)
class StatusTable:
    """Vendor status word -> canonical status; anything not listed is `unknown`."""

    entries: Mapping[str, JobStatus]
    _index: dict[str, JobStatus] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {}
        for word, status in self.entries.items():
            key = normalize_status_word(word)
            if key is None:
                raise ValueError(f"empty vendor status word in table: {word!r}")
            index[key] = status
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, **by_canonical: Iterable[str]) -> StatusTable:
        """Build from canonical name -> vendor words, as canonical-status.md lays it out."""
        entries: dict[str, JobStatus] = {}
        for canonical, words in by_canonical.items():
            for word in words:
                entries[word] = JobStatus(canonical)
        return cls(entries)

    def lookup(self, value: object) -> JobStatus:
        key = normalize_status_word(value)
        if key is None:
            return JobStatus.UNKNOWN
        return self._index.get(key, JobStatus.UNKNOWN)

    def is_known(self, value: object) -> bool:
        key = normalize_status_word(value)
        return key is not None and key in self._index

    def vendor_words(self, status: JobStatus) -> tuple[str, ...]:
        """The vendor's documented words for one canonical status (for list filters)."""
        return tuple(word for word, st in self.entries.items() if st is status)


JOB_OPERATIONS = frozenset({Operation.GET_JOB, Operation.GET_RESULT, Operation.CANCEL})


@dataclass(frozen=True)
class ErrorRule:
    """One row of an error table: first matching row wins.

    `status` is an HTTP status or a range; `message` is matched in full against the vendor's
    error message (never a substring search); `operations` limits the row to some calls.
    `fields` names the canonical submission fields a refusal is about (dotted paths such as
    `targets.0.model`) and `send` says what to send instead: both become the problem's field
    errors when the vendor gives none of its own.
    """

    problem: type[GatewayError]
    status: int | range | None = None
    message: re.Pattern[str] | None = None
    operations: frozenset[Operation] | None = None
    fields: tuple[str, ...] = ()
    send: str = ""

    def matches(self, operation: Operation, status: int, message: str | None) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        if isinstance(self.status, int) and self.status != status:
            return False
        if isinstance(self.status, range) and status not in self.status:
            return False
        if self.message is not None:
            return message is not None and self.message.fullmatch(message.strip()) is not None
        return True


# Shared fallback after a vendor's own rows. The vendor's 401/403 concern the gateway's own
# credential, so they are upstream-auth-failed, not the caller's unauthorized.
DEFAULT_ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(UpstreamAuthFailed, status=401),
    ErrorRule(UpstreamAuthFailed, status=403),
    ErrorRule(JobNotFound, status=404, operations=JOB_OPERATIONS),
    ErrorRule(UpstreamTimeout, status=408),
    ErrorRule(InvalidRequest, status=400),
    ErrorRule(InvalidRequest, status=422),
    ErrorRule(UpstreamRateLimited, status=429),
    ErrorRule(UnsupportedOperation, status=501),
    ErrorRule(UpstreamUnavailable, status=503),
    ErrorRule(UpstreamTimeout, status=504),
    ErrorRule(UpstreamError, status=range(400, 600)),
)


def find_error_rule(
    rules: Iterable[ErrorRule], operation: Operation, status: int, message: str | None
) -> ErrorRule:
    """The first row (the vendor's own, then the shared defaults) matching the answer."""
    for rule in (*rules, *DEFAULT_ERROR_RULES):
        if rule.matches(operation, status, message):
            return rule
    return ErrorRule(UpstreamError)


def find_rule(
    rules: Iterable[ErrorRule], operation: Operation, status: int, message: str | None
) -> type[GatewayError]:
    return find_error_rule(rules, operation, status, message).problem
