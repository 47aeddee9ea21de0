"""One list across vendors: filters, sorts, keyset paging, counts, scope and bad tokens."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import timedelta

import pytest

from gateway.errors import InvalidRequest
from gateway.ledger import Ledger, LedgerQuery
from gateway.schemas.status import JobStatus
from tests.ledger.conftest import EPOCH, make_job

STATUSES = [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED]


async def _fill(ledger: Ledger, count: int) -> None:
    """`count` jobs over two backends, statuses cycling, one created per second from EPOCH."""
    for n in range(count):
        backend, vendor = ("ls-sim", "llama-stack") if n % 2 else ("do-sim", "digitalocean-genai")
        job = make_job(n, STATUSES[n % 4], backend=backend, vendor=vendor, name=f"MMLU run {n}")
        ledger.observe(job, "sync")
    await ledger.flush()


async def _all_ids(ledger: Ledger, query: LedgerQuery) -> list[str]:
    ids: list[str] = []
    while True:
        page = await ledger.list(query)
        ids += [r.id for r in page.items]
        if page.next_page_token is None:
            return ids
        query = replace(query, page_token=page.next_page_token)


async def test_filters_combine(ledger: Ledger) -> None:
    await _fill(ledger, 40)
    page = await ledger.list(
        LedgerQuery(statuses=(JobStatus.RUNNING, JobStatus.FAILED), backends=("ls-sim",))
    )
    assert {r.status for r in page.items} == {JobStatus.RUNNING, JobStatus.FAILED}
    assert {r.backend for r in page.items} == {"ls-sim"}
    assert len(page.items) == 20
    by_vendor = await ledger.list(LedgerQuery(vendors=("digitalocean-genai",)))
    assert {r.backend for r in by_vendor.items} == {"do-sim"}
    named = await ledger.list(LedgerQuery(name_contains="mmlu RUN 1"))  # case-insensitive
    assert {r.name for r in named.items} == {"MMLU run 1", *(f"MMLU run 1{d}" for d in range(10))}
    wildcard = await ledger.list(LedgerQuery(name_contains="%"))  # a literal, not a pattern
    assert wildcard.items == []
    window = await ledger.list(
        LedgerQuery(
            created_after=EPOCH + timedelta(seconds=9),
            created_before=EPOCH + timedelta(seconds=13),
            sort="created",
        )
    )
    assert [r.id.rsplit("~", 1)[1] for r in window.items] == ["10", "11", "12"]
    updated = await ledger.list(LedgerQuery(updated_after=EPOCH, callers=("nobody",)))
    assert updated.items == []


async def test_sorts_by_created_and_updated_both_ways(ledger: Ledger) -> None:
    await _fill(ledger, 10)
    ledger.observe(make_job(3, JobStatus.CANCELLED), "read")  # ls-sim~bench~3, updated last
    await ledger.flush()
    newest = await ledger.list(LedgerQuery(sort="-created", page_size=3))
    assert [r.id for r in newest.items] == ["ls-sim~bench~9", "do-sim~bench~8", "ls-sim~bench~7"]
    created = [r.created_at for r in (await ledger.list(LedgerQuery(sort="created"))).items]
    assert created == sorted(created)
    latest = await ledger.list(LedgerQuery(sort="-updated", page_size=1))
    assert [(r.id, r.status) for r in latest.items] == [("ls-sim~bench~3", JobStatus.CANCELLED)]
    oldest = await ledger.list(LedgerQuery(sort="updated"))
    stamps = [r.updated_at for r in oldest.items]
    assert stamps == sorted(stamps) and oldest.items[-1].status is JobStatus.CANCELLED


SHAPES = {
    "all": LedgerQuery(),
    # Several backends or statuses: the page is merged from one ordered branch per value.
    "two backends in scope": LedgerQuery(allowed_backends=frozenset({"ls-sim", "do-sim", "x"})),
    "four statuses": LedgerQuery(statuses=tuple(STATUSES)),
}


@pytest.mark.parametrize(
    ("shape", "sort"),
    [("all", sort) for sort in ("-created", "created", "-updated", "updated")]
    + [(shape, sort) for shape in list(SHAPES)[1:] for sort in ("-created", "updated")],
)
async def test_paging_1000_rows_has_no_duplicates_or_gaps_under_concurrent_inserts(
    ledger: Ledger, shape: str, sort: str
) -> None:
    await _fill(ledger, 1000)
    query = replace(SHAPES[shape], sort=sort, page_size=37)  # type: ignore[arg-type]
    seen: list[str] = []
    pages = 0
    extra = 5000
    while True:
        page = await ledger.list(query)
        seen += [r.id for r in page.items]
        pages += 1
        keys = [(r.updated_at if "updated" in sort else r.created_at, r.id) for r in page.items]
        assert keys == sorted(keys, reverse=sort.startswith("-"))  # type: ignore[type-var]
        for _ in range(3):  # other callers keep adding jobs (some created "in the past")
            ledger.observe(make_job(extra, created=EPOCH + timedelta(seconds=extra % 997)), "read")
            extra += 1
        await asyncio.sleep(0)
        if page.next_page_token is None:
            break
        query = replace(query, page_token=page.next_page_token)
    assert len(seen) == len(set(seen)), "a row came twice"
    originals = {f"{'ls-sim' if n % 2 else 'do-sim'}~bench~{n}" for n in range(1000)}
    assert originals <= set(seen), "a row was skipped"
    assert pages >= 1000 // 37


async def test_counts_per_status_ignore_the_status_filter_and_paging(ledger: Ledger) -> None:
    await _fill(ledger, 40)
    page = await ledger.list(
        LedgerQuery(statuses=(JobStatus.FAILED,), backends=("do-sim",), page_size=1)
    )
    # do-sim holds the even jobs: statuses queued (n%4==0) and succeeded (n%4==2) only.
    assert page.counts == {"queued": 10, "succeeded": 10}
    assert page.items == []
    everything = await ledger.list(LedgerQuery(page_size=5))
    assert everything.counts == {"queued": 10, "running": 10, "succeeded": 10, "failed": 10}
    assert everything.next_page_token is not None
    following = await ledger.list(LedgerQuery(page_size=5, page_token=everything.next_page_token))
    assert following.counts == everything.counts


async def test_a_scoped_caller_sees_only_its_backends(ledger: Ledger) -> None:
    await _fill(ledger, 20)
    scoped = LedgerQuery(allowed_backends=frozenset({"ls-sim"}))
    ids = await _all_ids(ledger, replace(scoped, page_size=3))
    assert len(ids) == 10 and all(i.startswith("ls-sim~") for i in ids)
    page = await ledger.list(replace(scoped, backends=("do-sim",)))  # asking does not widen it
    assert page.items == [] and page.counts == {}
    nothing = await ledger.list(LedgerQuery(allowed_backends=frozenset()))
    assert nothing.items == [] and nothing.counts == {}


async def test_bad_page_tokens_and_sizes_are_invalid_requests(ledger: Ledger) -> None:
    await _fill(ledger, 10)
    first = await ledger.list(LedgerQuery(page_size=2))
    token = first.next_page_token
    assert token is not None
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01  # one bit of the position changed
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in ("not a token", "x" * 5000, token[:-4], edited, "AAAA"):
        with pytest.raises(InvalidRequest):
            await ledger.list(LedgerQuery(page_size=2, page_token=bad))
    with pytest.raises(InvalidRequest, match="another query"):
        await ledger.list(LedgerQuery(page_size=2, sort="created", page_token=token))
    with pytest.raises(InvalidRequest, match="another query"):
        await ledger.list(
            LedgerQuery(page_size=2, allowed_backends=frozenset({"ls-sim"}), page_token=token)
        )
    for size in (0, 501, True):
        with pytest.raises(InvalidRequest, match="page_size"):
            await ledger.list(LedgerQuery(page_size=size))
    with pytest.raises(InvalidRequest, match="status"):
        await ledger.list(LedgerQuery(statuses=("finished",)))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="sort"):
        await ledger.list(LedgerQuery(sort="name"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="time zone"):
        await ledger.list(LedgerQuery(created_after=EPOCH.replace(tzinfo=None)))
    # The page size may change between pages; the position stays valid.
    assert (await ledger.list(LedgerQuery(page_size=7, page_token=token))).items


async def test_non_terminal_lists_unfinished_jobs_least_recently_seen_first(
    ledger: Ledger,
) -> None:
    await _fill(ledger, 8)
    ledger.observe(make_job(0, JobStatus.RUNNING, backend="do-sim"), "refresher")
    await ledger.flush()
    waiting = await ledger.non_terminal(10)
    assert {r.status for r in waiting} <= {JobStatus.QUEUED, JobStatus.RUNNING}
    assert len(waiting) == 4
    assert waiting[-1].id == "do-sim~bench~0"  # just refreshed: last in line
    assert len(await ledger.non_terminal(2)) == 2
