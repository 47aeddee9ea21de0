"""The board's one door to the job ledger (gateway.ledger, notes/ledger-contract.md): the
gateway's `gw.ledger`, read with `Ledger.list/get/history`. Backend names are resolved and the
caller key's scope applied here, as `gw.jobs` does for the API. A gateway without a ledger
answers `ledger-unavailable`, which the pages show as problem details."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.core.async_gateway import AsyncGateway
from gateway.errors import LedgerUnavailable
from gateway.schemas import JobStatus
from gateway.schemas.ledger import JobRecord, LedgerPage, LedgerSort, StatusChange

if TYPE_CHECKING:
    from gateway.ledger import Ledger


async def ledger_of(gw: AsyncGateway) -> Ledger:
    """The gateway's ledger, opened now if it is not yet (it opens lazily)."""
    opener = getattr(gw, "open_ledger", None)
    if opener is not None:
        opened: Ledger = await opener()
        return opened
    ledger: Ledger | None = getattr(gw, "ledger", None)
    if ledger is None:
        raise LedgerUnavailable(
            "this gateway keeps no job ledger (ledger.enabled is false in its config); "
            "the status board reads every job from it"
        )
    return ledger


async def list_records(
    gw: AsyncGateway,
    *,
    scope: frozenset[str] | None,
    statuses: Sequence[JobStatus] = (),
    backends: Sequence[str] = (),
    vendor: str | None = None,
    caller: str | None = None,
    name: str | None = None,
    sort: LedgerSort = "-created",
    page_size: int = 50,
    page_token: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> LedgerPage:
    """One page of the ledger, limited to what the caller's key may see (`scope`)."""
    from gateway.ledger import LedgerQuery  # the ledger (SQLAlchemy) loads with the first page

    resolved = tuple(dict.fromkeys(gw.config.resolve(b) or b for b in backends))
    query = LedgerQuery(
        statuses=tuple(statuses),
        backends=resolved,
        vendors=(vendor,) if vendor else (),
        callers=(caller,) if caller else (),
        name_contains=name,
        sort=sort,
        page_size=page_size,
        page_token=page_token,
        created_after=created_after,
        created_before=created_before,
        allowed_backends=scope,
    )
    return await (await ledger_of(gw)).list(query)


async def get_record(gw: AsyncGateway, job_id: str) -> JobRecord | None:
    return await (await ledger_of(gw)).get(job_id)


async def history(gw: AsyncGateway, job_id: str) -> list[StatusChange]:
    return await (await ledger_of(gw)).history(job_id)
