"""The ledger wired into the gateway, on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.sse import NEMO_REQUEST, REQUESTS
from tests.support.postgres import PostgresCluster, postgres_cluster

__all__ = ["postgres_cluster"]

OM_REQUEST: dict[str, Any] = REQUESTS["overmind-sim"]
NAMED_REQUEST: dict[str, Any] = {**NEMO_REQUEST, "name": "ledger-it"}


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty ledger database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()


def gateway_config(ledger_url: str, **ledger: Any) -> dict[str, Any]:
    """Two in-process simulated vendors and the ledger at `ledger_url`."""
    return {
        "backends": {
            "om": {"vendor": "overmind", "base_url": "sim://overmind"},
            "nemo": {
                "vendor": "nemo-evaluator",
                "api_version": "v2",
                "base_url": "sim://nemo-evaluator",
            },
        },
        "aliases": {"evals": "om"},
        "ledger": {"url": ledger_url, **ledger},
    }
