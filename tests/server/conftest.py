"""Real servers shared by the API tests: `eval-gateway serve` on the embedded defaults, and a
gateway in front of a standalone Llama Stack simulator for the waiting/watching tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.proc import Proc, gateway, simulator, write_config
from tests.server.sse import NO_CACHE, STANDALONE_LS


@pytest.fixture(scope="session")
def default_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with gateway(tmp_path_factory.mktemp("default-gateway")) as proc:
        yield proc


@pytest.fixture
def api(default_gateway: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=default_gateway.url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def ls_vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """`eval-gateway simulate llama-stack`: jobs with scripted lifecycles via /_sim/jobs."""
    with simulator(tmp_path_factory.mktemp("ls-vendor"), "llama-stack") as proc:
        yield proc


@pytest.fixture(scope="session")
def watch_proxy(tmp_path_factory: pytest.TempPathFactory, ls_vendor: Proc) -> Iterator[Proc]:
    """A gateway on `ls_vendor`: `ls-remote` caches running jobs 0.1 s (changes show within
    a poll), `ls-nocache` not at all (every poll is a vendor read the simulator counts)."""
    workdir = tmp_path_factory.mktemp("watch-gateway")
    config = {
        "backends": {
            STANDALONE_LS: {
                "vendor": "llama-stack",
                "base_url": ls_vendor.url,
                "cache": {"running_ttl": 0.1},
            },
            NO_CACHE: {
                "vendor": "llama-stack",
                "base_url": ls_vendor.url,
                "cache": {"enabled": False},
            },
        },
        "server": {"reload": {"watch": False}},
    }
    with gateway(workdir, write_config(workdir / "gateway.yaml", config)) as proc:
        yield proc


@pytest.fixture
def watch_client(watch_proxy: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=watch_proxy.url, timeout=30.0) as client:
        yield client
