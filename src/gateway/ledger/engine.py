"""The ledger's database connection: its URL, the async engine, database errors made typed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.config import LedgerConfig
from gateway.errors import LedgerUnavailable
from gateway.redact import scrub_text

log = logging.getLogger("gateway.ledger")
DEFAULT_FILE = "ledger.sqlite3"
CONNECT_TIMEOUT = 5.0  # seconds to reach PostgreSQL before the attempt counts as failed
COMMAND_TIMEOUT = 30.0  # seconds one PostgreSQL statement may take


def ledger_url(config: LedgerConfig) -> URL:
    """The configured URL, or the SQLite file in the user's state directory."""
    if config.url is not None:
        return make_url(config.url)
    state = Path(platformdirs.user_state_dir("eval-gateway"))
    return make_url(f"sqlite+aiosqlite:///{state / DEFAULT_FILE}")


def shown_url(url: URL) -> str:
    """The URL as it may appear in logs and errors: never its password."""
    return url.render_as_string(hide_password=True)


def make_engine(config: LedgerConfig) -> AsyncEngine:
    url = ledger_url(config)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": config.busy_timeout_seconds})
        busy_ms = int(config.busy_timeout_seconds * 1000)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL: readers never wait for the writer; NORMAL is durable across app crashes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,  # a connection broken by a database restart is replaced, not used
        pool_size=5,
        max_overflow=10,
        pool_timeout=CONNECT_TIMEOUT,
        connect_args={
            "timeout": CONNECT_TIMEOUT,
            "command_timeout": COMMAND_TIMEOUT,
            # JIT compiling a count over many rows costs more than the count itself.
            "server_settings": {"jit": "off"},
        },
    )


def describe_error(exc: BaseException, url: URL) -> str:
    """One line for logs and health: the driver's message, never SQL parameters or password."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).splitlines()[0] if str(original) else ""
    secrets = [url.password] if isinstance(url.password, str) else []
    return scrub_text(f"{type(original).__name__}: {text}"[:300], secrets)


DATABASE_ERRORS = (sa.exc.SQLAlchemyError, OSError, TimeoutError, ConnectionError)


@asynccontextmanager
async def database_errors(
    url: URL, what: str, on_error: Callable[[str], None] | None = None
) -> AsyncIterator[None]:
    """Database failures as LedgerUnavailable (a typed 503), with a safe description."""
    try:
        yield
    except DATABASE_ERRORS as exc:
        detail = describe_error(exc, url)
        log.warning("ledger could not %s on %s: %s", what, shown_url(url), detail)
        if on_error is not None:
            on_error(detail)
        raise LedgerUnavailable(f"the job ledger could not {what}") from None
