"""Keeping the ledger current without callers: the refresher (one per ledger, by lease), the
sync importer (bounded paging), the proxy's one ledger across reloads, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gateway import AsyncGateway
from gateway.cli.app import app
from gateway.config import load_config
from gateway.ledger_jobs.importer import sync_backend
from gateway.ledger_jobs.refresher import refresh_round
from gateway.server.holder import GatewayHolder
from gateway.server.metrics import Metrics
from tests.ledger_integration.conftest import OM_REQUEST, gateway_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def uncached(ledger_url: str, **ledger: Any) -> dict[str, Any]:
    config = gateway_config(ledger_url, **ledger)
    for backend in config["backends"].values():
        backend["cache"] = {"enabled": False}  # every read reaches the (simulated) vendor
    return config


async def test_the_refresher_follows_jobs_and_runs_once_per_ledger(ledger_url: str) -> None:
    config = uncached(ledger_url)
    async with AsyncGateway(config) as a, AsyncGateway(config) as b:
        made = (await a.submit("om", OM_REQUEST)).jobs[0]
        a.simulator("om").clock.advance(24 * 3600)  # the vendor moves on; nobody reads it
        assert await refresh_round(a, owner="replica-a") >= 1
        assert await refresh_round(b, owner="replica-b") == 0  # a holds the lease
        await (await a.open_ledger()).flush()
        changes = (await a.history(made.id)).changes
        assert [c.observed_by for c in changes] == ["submit", "refresher"]
        assert changes[-1].status is not made.status


async def test_sync_imports_listings_with_bounded_paging(ledger_url: str) -> None:
    async with AsyncGateway(uncached(ledger_url)) as gw:
        cut = await sync_backend(gw, "nemo", max_pages=2, page_size=2)
        assert cut.pages == 2 and len(cut.jobs) == 4 and not cut.complete
        full = await sync_backend(gw, "nemo", page_size=2)
        assert full.complete and len(full.jobs) > 4
        await (await gw.open_ledger()).flush()
        listed = await gw.jobs(backend="nemo", page_size=500)
        assert {r.id for r in listed.items} == {j.id for j in full.jobs}
        history = await gw.history(full.jobs[0].id)
        assert history.changes[0].observed_by == "sync"
        refused = await sync_backend(gw, "evals", page_size=2)  # an alias: its backend, om
        assert refused.backend == "om"


async def test_the_proxy_keeps_one_ledger_across_reloads(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}"
    path = tmp_path / "gateway.yaml"
    config = gateway_config(url)
    path.write_text(yaml.safe_dump(config))
    holder = GatewayHolder(load_config(path), source=path, metrics=Metrics())
    first = holder.current.gateway.ledger_handle
    config["aliases"] = {"evals": "nemo"}  # a reload that leaves `ledger:` alone
    path.write_text(yaml.safe_dump(config))
    assert await holder.reload("test")
    assert holder.current.gateway.ledger_handle is first
    config["ledger"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'two.sqlite3'}"
    path.write_text(yaml.safe_dump(config))
    assert await holder.reload("test")
    assert holder.current.gateway.ledger_handle is not first
    await holder.aclose()


def test_the_cli_lists_every_backend_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVAL_GATEWAY_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(gateway_config(f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}")))
    cli = CliRunner()
    synced = cli.invoke(app, ["ledger", "sync", "--config", str(path), "--json"])
    assert synced.exit_code == 0, synced.output
    reports = {r["backend"]: r for r in json.loads(synced.stdout)}
    assert reports["nemo"]["complete"] and reports["om"]["jobs"] > 0
    listed = cli.invoke(app, ["jobs", "ls", "--config", str(path), "--json", "--page-size", "500"])
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    assert {r["vendor"] for r in page["items"]} == {"nemo-evaluator", "overmind"}
    table = cli.invoke(app, ["jobs", "ls", "--config", str(path), "--backend", "om"])
    assert table.exit_code == 0 and "by status:" in table.stdout
    job_id = page["items"][0]["id"]
    history = cli.invoke(app, ["jobs", "history", job_id, "--config", str(path), "--json"])
    assert json.loads(history.stdout)["changes"][0]["observed_by"] == "sync"
    out = tmp_path / "jobs.csv"
    exported = cli.invoke(
        app, ["ledger", "export", "--format", "csv", "-o", str(out), "--config", str(path)]
    )
    assert exported.exit_code == 0, exported.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("id,") and len(rows) == len(page["items"]) + 1
    bad = cli.invoke(app, ["jobs", "ls", "--config", str(path), "--status", "done"])
    assert bad.exit_code == 1 and "invalid-request" in bad.output
    assert cli.invoke(app, ["ledger", "upgrade", "--config", str(path)]).exit_code == 0
    purged = cli.invoke(app, ["ledger", "purge", "--days", "1", "--config", str(path)])
    assert purged.exit_code == 0 and "purged 0" in purged.stdout
