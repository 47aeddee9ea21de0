"""Between ledger records and the canonical API: a record as a Job, filters as a LedgerQuery.

A job the vendor no longer knows (it answered "not found" for a job the ledger has) is answered
from the ledger: the last known Job, `stale: true`, its status the last one observed (never
an invented one); over HTTP the answer also carries `Job-At-Vendor: false` and a Cache-Status
with `fwd=stale; fwd-status=404`. The ledger record itself says `at_vendor: false`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.config import GatewayConfig
from gateway.errors import Forbidden, InvalidRequest
from gateway.schemas import Job, JobStatus
from gateway.schemas.ledger import JobRecord, LedgerSort
from gateway.vendors.registry import unknown_vendor_hint, vendor_names

if TYPE_CHECKING:
    from gateway.ledger import LedgerQuery

AT_VENDOR_HEADER = "Job-At-Vendor"
MAX_PAGE_SIZE = 500
MAX_NAME_FILTER = 200
SORTS: tuple[LedgerSort, ...] = ("created", "-created", "updated", "-updated")


def job_from_record(record: JobRecord) -> Job:
    """The last known Job of a ledger record, marked stale (not a fresh vendor answer)."""
    return Job(
        id=record.id,
        backend=record.backend,
        vendor=record.vendor,
        api_version=record.api_version,
        vendor_job_id=record.vendor_ids[-1] if record.vendor_ids else "",
        name=record.name,
        status=record.status,
        vendor_status=record.vendor_status,
        created_at=record.created_at,
        progress=record.progress,
        stale=True,
    )


def _many(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def parse_statuses(
    value: JobStatus | str | Iterable[JobStatus | str] | None,
) -> tuple[JobStatus, ...]:
    items: tuple[JobStatus | str, ...]
    if value is None:
        items = ()
    elif isinstance(value, JobStatus | str):
        items = (value,)
    else:
        items = tuple(value)
    statuses: list[JobStatus] = []
    for item in items:
        try:
            statuses.append(item if isinstance(item, JobStatus) else JobStatus(item))
        except ValueError:
            allowed = ", ".join(s.value for s in JobStatus)
            raise InvalidRequest(f"unknown status {str(item)[:50]!r}; one of: {allowed}") from None
    return tuple(dict.fromkeys(statuses))


def resolve_backends(
    config: GatewayConfig,
    names: Iterable[str],
    allowed: frozenset[str] | None,
) -> tuple[str, ...]:
    """Backend or alias names as backend names. A name the config no longer has is taken as
    it is (the ledger keeps the rows of removed backends); outside `allowed`: Forbidden."""
    resolved: list[str] = []
    for name in names:
        if not name or len(name) > 128:
            raise InvalidRequest("a backend filter must be 1-128 characters")
        backend = config.resolve(name) or name
        if allowed is not None and name not in allowed and backend not in allowed:
            raise Forbidden(f"this API key may not use {name[:100]!r}", backend=backend)
        resolved.append(backend)
    return tuple(dict.fromkeys(resolved))


def build_query(
    config: GatewayConfig,
    *,
    status: Any = None,
    backend: str | Iterable[str] | None = None,
    alias: str | Iterable[str] | None = None,
    vendor: str | Iterable[str] | None = None,
    caller: str | Iterable[str] | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    name_contains: str | None = None,
    sort: str = "-created",
    page_size: int = 50,
    page_token: str | None = None,
    tenant_backends: frozenset[str] | None = None,
) -> LedgerQuery:
    """A checked LedgerQuery (every bad filter a typed 400, a forbidden backend a 403)."""
    from gateway.ledger import LedgerQuery

    aliases = _many(alias)
    for name in aliases:
        if name not in config.aliases:
            known = ", ".join(sorted(config.aliases)) or "none configured"
            raise InvalidRequest(f"unknown alias {name[:100]!r}; aliases: {known}")
    backends = resolve_backends(config, (*_many(backend), *aliases), tenant_backends)
    vendors = _many(vendor)
    for name in vendors:
        if name not in vendor_names():
            raise InvalidRequest(f"unknown vendor {name[:100]!r}{unknown_vendor_hint(name[:100])}")
    if sort not in SORTS:
        raise InvalidRequest(f"unknown sort {sort[:50]!r}; one of: {', '.join(SORTS)}")
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise InvalidRequest("page_size must be an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"page_size must be 1-{MAX_PAGE_SIZE}")
    if name_contains is not None and len(name_contains) > MAX_NAME_FILTER:
        raise InvalidRequest(f"a name filter is at most {MAX_NAME_FILTER} characters")
    for label, moment in (
        ("created_after", created_after),
        ("created_before", created_before),
        ("updated_after", updated_after),
        ("updated_before", updated_before),
    ):
        if moment is not None and moment.tzinfo is None:
            raise InvalidRequest(f"{label} needs a time zone (e.g. 2026-01-31T12:00:00Z)")
    return LedgerQuery(
        statuses=parse_statuses(status),
        backends=backends,
        vendors=vendors,
        callers=_many(caller),
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        name_contains=name_contains or None,
        sort=sort,  # narrowed by the SORTS check above
        page_size=page_size,
        page_token=page_token,
        allowed_backends=tenant_backends,
    )
