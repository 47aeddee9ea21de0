"""Shared test set-up: vcrpy replays vendor traffic recorded from our simulators."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

SECRET_HEADERS = ["authorization", "x-api-key", "cookie", "set-cookie"]


@pytest.fixture(scope="session", autouse=True)
def ledger_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ledger is on by default (a SQLite file in the user's state directory): point that
    directory at a throwaway one for the whole session, so no test (nor a server process a test
    starts, which inherits the environment) ever writes a ledger into the real home directory."""
    state = tmp_path_factory.mktemp("xdg-state")
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        yield str(state)
    finally:
        if saved is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = saved


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # Cassettes are recorded from the simulators (`pytest --record-mode=once`) and replayed
    # with recording off in CI. Credentials never reach a cassette.
    return {
        "filter_headers": [(h, "REDACTED") for h in SECRET_HEADERS],
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
    }
