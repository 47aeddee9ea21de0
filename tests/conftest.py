"""Shared test set-up: vcrpy replays vendor traffic recorded from our simulators."""

from __future__ import annotations

from typing import Any

import pytest

SECRET_HEADERS = ["authorization", "x-api-key", "cookie", "set-cookie"]


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # Cassettes are recorded from the simulators (`pytest --record-mode=once`) and replayed
    # with recording off in CI. Credentials never reach a cassette.
    return {
        "filter_headers": [(h, "REDACTED") for h in SECRET_HEADERS],
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
    }
