"""The ledger's schema revision: checked at open, created when new, upgraded on request.

Alembic runs programmatically from the migrations shipped in this package (no alembic.ini).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import LedgerConfig
from gateway.errors import LedgerSchemaError
from gateway.ledger.engine import database_errors, ledger_url, make_engine, shown_url

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_COMMAND = "eval-gateway ledger upgrade"
# Two processes opening one new database at once (`serve --workers 2`, replicas starting
# together): one creates the schema; the other may see its tables before their revision, or
# fail creating them. It looks again for this long before calling the database foreign.
CREATION_RACE_SECONDS = 10.0


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def _current(connection: sa.Connection) -> tuple[str | None, bool]:
    """(revision, whether any ledger table exists)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    return revision, sa.inspect(connection).has_table("jobs")


def _upgrade(connection: sa.Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def _revision_after_creating(engine: AsyncEngine) -> str | None:
    """The database's revision, after creating the schema if the database is new; None while
    it has tables without a revision, which stays so for a database we did not create."""
    deadline = time.monotonic() + CREATION_RACE_SECONDS
    while True:
        try:
            async with engine.begin() as conn:
                revision, has_tables = await conn.run_sync(_current)
                if revision is None and not has_tables:
                    await conn.run_sync(_upgrade)
                    return head_revision()
        except sa.exc.DBAPIError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)  # another process created the same tables first
            continue
        if revision is not None or time.monotonic() > deadline:
            return revision
        await asyncio.sleep(0.2)  # being created by another process right now


async def prepare(engine: AsyncEngine, where: str) -> None:
    """Create a new database at head; refuse a revision this gateway does not know or an old one."""
    revision = await _revision_after_creating(engine)
    head = head_revision()
    if revision == head:
        return
    if revision is None:
        raise LedgerSchemaError(
            f"the ledger database {where} has tables but no schema revision; "
            "point ledger.url at an empty database or one this gateway created"
        )
    if revision in known_revisions():
        raise LedgerSchemaError(
            f"the ledger database {where} is at schema {revision}, this gateway needs {head}: "
            f"run `{UPGRADE_COMMAND}`"
        )
    raise LedgerSchemaError(
        f"the ledger database {where} is at schema {revision}, which this gateway does not "
        "know (written by a newer gateway?): upgrade the gateway, or point ledger.url elsewhere"
    )


async def upgrade(config: LedgerConfig) -> str:
    """Bring the configured ledger database to the current schema; returns the revision."""
    url = ledger_url(config)
    engine = make_engine(config)
    try:
        async with database_errors(url, "be upgraded"), engine.begin() as conn:
            revision, has_tables = await conn.run_sync(_current)
            if revision is not None and revision not in known_revisions():
                raise LedgerSchemaError(
                    f"the ledger database {shown_url(url)} is at schema {revision}, which this "
                    "gateway does not know: it cannot be upgraded by this version"
                )
            if revision is None and has_tables:
                raise LedgerSchemaError(
                    f"the ledger database {shown_url(url)} has tables but no schema revision"
                )
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()
    return head_revision()
