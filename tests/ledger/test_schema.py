"""Schema revisions: a new database starts at head, an old one is refused until upgraded, an
unknown one is refused; the URL's password never shows."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.config import config_from_dict
from gateway.errors import ConfigError, LedgerSchemaError, LedgerUnavailable
from gateway.ledger import Ledger, LedgerConfig, head_revision, schema, upgrade
from gateway.ledger.engine import ledger_url
from tests.ledger.conftest import OpenLedger, make_job
from tests.support.servers import free_port

NEXT_MIGRATION = '''
"""A later revision (test only)."""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_column("jobs", "note")
'''


async def _revision(ledger: Ledger) -> str:
    async with ledger.engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        return str(found.scalar_one())


async def _set_revision(ledger: Ledger, revision: str | None) -> None:
    async with ledger.engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM alembic_version"))
        if revision is not None:
            await conn.execute(
                sa.text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision}
            )


async def test_a_new_database_is_created_at_the_current_revision(ledger: Ledger) -> None:
    assert await _revision(ledger) == head_revision()


async def test_an_older_schema_is_refused_until_upgraded(
    ledger_url: str, open_ledger: OpenLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await open_ledger()
    first.observe(make_job(1), "read")
    await first.aclose()
    # This gateway's next version ships one more migration.
    newer = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, newer)
    (newer / "versions" / "0099_note.py").write_text(NEXT_MIGRATION.format(head=head_revision()))
    monkeypatch.setattr(schema, "MIGRATIONS", newer)
    monkeypatch.setattr(schema, "HEAD_REVISION", "0099")
    with pytest.raises(LedgerSchemaError, match="run `eval-gateway ledger upgrade`"):
        await open_ledger()
    assert await upgrade(LedgerConfig(url=ledger_url)) == "0099"
    upgraded = await open_ledger()
    assert await _revision(upgraded) == "0099"
    assert await upgraded.get(make_job(1).id) is not None  # the records are kept
    assert await upgrade(LedgerConfig(url=ledger_url)) == "0099"  # idempotent


def test_the_head_revision_is_the_newest_shipped_migration() -> None:
    # The gateway checks a database's revision without Alembic, against this constant.
    assert head_revision() == schema.migrations_head()


def test_opening_a_ledger_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    script = (
        "import asyncio, sys\n"
        "from gateway.ledger import Ledger, LedgerConfig\n"
        "async def main():\n"
        f"    ledger = await Ledger.open(LedgerConfig(url={url!r}))\n"
        "    await ledger.aclose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    run = [sys.executable, "-c", script]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "True"  # a new database: Alembic creates the schema
    again = subprocess.run(run, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "False"  # at head: checked without Alembic


async def test_an_unknown_schema_is_refused_and_not_upgraded(
    ledger_url: str, open_ledger: OpenLedger
) -> None:
    await _set_revision(await open_ledger(), "f00dcafe")  # written by a newer gateway
    with pytest.raises(LedgerSchemaError, match="does not know"):
        await open_ledger()
    with pytest.raises(LedgerSchemaError, match="does not know"):
        await upgrade(LedgerConfig(url=ledger_url))


async def test_tables_without_a_revision_are_refused(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "CREATION_RACE_SECONDS", 0.5)  # no other process is creating
    await _set_revision(await open_ledger(), None)
    with pytest.raises(LedgerSchemaError, match="no schema revision") as raised:
        await open_ledger()
    assert raised.value.problem().slug == "ledger-unavailable"


def test_the_default_ledger_is_a_file_in_the_user_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    url = ledger_url(LedgerConfig())
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(tmp_path / "eval-gateway" / "ledger.sqlite3")


async def test_the_default_ledger_needs_no_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    ledger = await Ledger.open(LedgerConfig())
    try:
        ledger.observe(make_job(1), "read")
        await ledger.flush()
        assert await ledger.get(make_job(1).id) is not None
    finally:
        await ledger.aclose()
    assert (tmp_path / "state" / "eval-gateway" / "ledger.sqlite3").exists()


BACKENDS = {"b": {"vendor": "overmind", "base_url": "sim://overmind"}}


def test_a_literal_password_in_the_url_is_a_config_error_that_does_not_echo_it() -> None:
    url = "postgresql+asyncpg://gw:hunter2-secret@db:5432/ledger"
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"backends": BACKENDS, "ledger": {"url": url}})
    assert "ledger.url" in str(raised.value)
    assert "hunter2-secret" not in str(raised.value)
    with pytest.raises(ConfigError, match=r"ledger\.url"):
        config_from_dict({"backends": BACKENDS, "ledger": {"url": "mysql://db/x"}})


async def test_the_url_password_never_shows_in_repr_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "hunter2-secret"
    config = config_from_dict(
        {
            "backends": BACKENDS,
            "ledger": {"url": f"postgresql+asyncpg://gw:${{PW}}@127.0.0.1:{free_port()}/x"},
        },
        env={"PW": secret},
    )
    assert secret not in repr(config) and secret not in str(config.ledger)
    with caplog.at_level(logging.DEBUG), pytest.raises(LedgerUnavailable) as raised:
        await Ledger.open(config.ledger)  # nothing listens on that port
    problem = raised.value.problem().model_dump_json()
    assert secret not in str(raised.value) and secret not in problem
    assert secret not in caplog.text
    assert "127.0.0.1" in caplog.text  # the log still says where it tried


RACE_SCRIPT = """
import asyncio, sys, time
from gateway.ledger import Ledger, LedgerConfig

async def main() -> None:
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    ledger = await Ledger.open(LedgerConfig(url=sys.argv[1]))
    await ledger.aclose()

asyncio.run(main())
"""


def test_processes_opening_one_new_database_at_once_all_start(ledger_url: str) -> None:
    """`serve --workers 2` on a new ledger: both workers start, one schema is created."""
    start_at = time.time() + 3.0  # past every interpreter's start-up, so they open together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, ledger_url, str(start_at)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    failures = [p.stderr.read() for p in procs if p.wait(60) != 0 and p.stderr is not None]
    assert failures == []
