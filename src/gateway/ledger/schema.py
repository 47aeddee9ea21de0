"""The ledger's schema revision: checked at open, created when new, upgraded on request.

Alembic runs programmatically from the migrations shipped in this package (no alembic.ini),
and only to create or upgrade a schema: a gateway opening a database already at
`HEAD_REVISION` reads `alembic_version` itself and never imports Alembic (~11 MiB of RSS).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.config import LedgerConfig
from gateway.errors import LedgerSchemaError
from gateway.ledger.engine import database_errors, ledger_url, make_engine, shown_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision; a test checks it is Alembic's head of MIGRATIONS.
HEAD_REVISION = "0001"
UPGRADE_COMMAND = "eval-gateway ledger upgrade"
# Two processes opening one new database at once (`serve --workers 2`, replicas starting
# together): one creates the schema; the other may see its tables before their revision, or
# fail creating them. It looks again for this long before calling the database foreign.
CREATION_RACE_SECONDS = 10.0


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this gateway's schema is at (its newest migration)."""
    return HEAD_REVISION


def migrations_head() -> str:
    """The head of the shipped migrations, as Alembic computes it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


_VERSION_TABLE = sa.table("alembic_version", sa.column("version_num", sa.String))


def _current(connection: sa.Connection) -> tuple[str | None, bool]:
    """(revision, whether any ledger table exists), read as Alembic keeps it: one row of
    `alembic_version` (no row or no table: no revision)."""
    inspector = sa.inspect(connection)
    revision = None
    if inspector.has_table("alembic_version"):
        revision = connection.execute(sa.select(_VERSION_TABLE.c.version_num)).scalar()
    return revision, inspector.has_table("jobs")


def _upgrade(connection: sa.Connection) -> None:
    from alembic import command

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
