"""One real `eval-gateway serve` (embedded defaults) shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.proc import Proc, gateway


@pytest.fixture(scope="session")
def default_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with gateway(tmp_path_factory.mktemp("default-gateway")) as proc:
        yield proc


@pytest.fixture
def api(default_gateway: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=default_gateway.url, timeout=30.0) as client:
        yield client
