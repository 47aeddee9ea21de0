"""The served app leaves the collector nothing long-lived to walk once it has started.

Opening the ledger at start imports SQLAlchemy and alembic (~55,000 objects). Left young,
every full collection walked them all: +35 us of GC per proxied request under load. The app
`eval-gateway serve` builds freezes them once its lifespan has opened the ledger.
"""

from __future__ import annotations

import gc
import types
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.server.app import CONFIG_ENV, app_from_env


def young_functions_of(package: str) -> int:
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, types.FunctionType) and (o.__module__ or "").startswith(package)
    )


def test_serve_app_freezes_what_opening_the_ledger_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "backends:\n  ls: {vendor: llama-stack, base_url: 'sim://llama-stack'}\n"
        f"ledger: {{url: 'sqlite+aiosqlite:///{tmp_path}/ledger.db'}}\n"
    )
    monkeypatch.setenv(CONFIG_ENV, str(config))
    try:
        app = app_from_env()
        with TestClient(app) as api:
            assert api.get("/readyz").status_code == 200
            assert young_functions_of("sqlalchemy") == 0
            assert young_functions_of("alembic") == 0
    finally:
        gc.unfreeze()  # this test process is no server: let the collector see it all again
