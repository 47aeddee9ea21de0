"""One gateway config served two ways: in this process (AsyncGateway) and by a real
`eval-gateway serve` on loopback reached through the remote client. `gw` yields either, so
the shared behaviour suite runs the same test functions against both.

Besides the embedded simulators, the config has `ls-live`: a Llama Stack backend on a
standalone simulator process that both sides reach, whose jobs follow lifecycles the tests
script through its control API (one job, seen identically in and out of process)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import AsyncGateway
from gateway.client import AsyncGatewayClient, RetryPolicy
from tests.server.proc import Proc, example_config, gateway, simulator, write_config

LIVE = "ls-live"
KEY_ENV = "GW_CLIENT_TEST_KEY"
KEY = "client-suite-key-0123456789abcdef"
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.05, max_backoff=0.2)
Gw = AsyncGateway | AsyncGatewayClient


def suite_config(vendor_url: str) -> dict[str, Any]:
    config = example_config()
    config["backends"][LIVE] = {
        "vendor": "llama-stack",
        "base_url": vendor_url,
        "cache": {"running_ttl": 0.1},
    }
    config["auth"] = {"enabled": True, "keys": [{"name": "suite", "key": "${" + KEY_ENV + "}"}]}
    config.setdefault("server", {})["reload"] = {"watch": False}
    return config


@pytest.fixture(scope="session")
def live_vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with simulator(tmp_path_factory.mktemp("client-vendor"), "llama-stack") as proc:
        yield proc


@pytest.fixture(scope="session")
def config_dict(live_vendor: Proc) -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)  # the library side resolves the same config
        yield suite_config(live_vendor.url)


@pytest.fixture(scope="session")
def remote(tmp_path_factory: pytest.TempPathFactory, config_dict: dict[str, Any]) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("client-gateway")
    path = write_config(workdir / "gateway.yaml", config_dict)
    env = {KEY_ENV: KEY, "XDG_STATE_HOME": str(workdir / "state")}
    with gateway(workdir, path, env=env) as proc:
        yield proc


@pytest.fixture(params=["library", "remote"])
async def gw(
    request: pytest.FixtureRequest, config_dict: dict[str, Any], tmp_path: Path
) -> AsyncIterator[Gw]:
    if request.param == "library":
        async with AsyncGateway(config_dict) as local:
            yield local
    else:
        proc: Proc = request.getfixturevalue("remote")
        async with AsyncGatewayClient(proc.url, api_key=KEY, retry=FAST_RETRY) as client:
            yield client


def create_live_job(vendor: Proc, *stages: tuple[str, float | None]) -> str:
    """A job on the standalone simulator with this lifecycle; its gateway id on ls-live."""
    lifecycle = [{"status": s, "seconds": d} for s, d in stages]
    made = httpx.post(f"{vendor.url}/_sim/jobs", json={"lifecycle": lifecycle}, timeout=5.0)
    assert made.status_code == 201, made.text
    return "~".join([LIVE, *made.json()["id_parts"]])


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
