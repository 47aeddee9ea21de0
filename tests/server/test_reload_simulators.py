"""A live reload keeps the jobs of in-process simulators it leaves alone, and no simulator, even
one rebuilt by a reload, ever hands out a job id an earlier one gave (issue 11, item 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.server import create_app
from gateway.server.holder import GatewayHolder
from tests.server.proc import example_config, write_config
from tests.server.sse import REQUESTS

BACKENDS = ("do-sim", "nemo-v1-sim", "ls-sim", "overmind-sim", "datarobot-sim")


class Served:
    def __init__(self, path: Path, config: dict[str, Any], client: httpx.AsyncClient) -> None:
        self.path, self.config, self.client = path, config, client
        self.holder: GatewayHolder = client._transport.app.state.holder  # type: ignore[attr-defined]

    async def submit(self, backend: str, body: dict[str, Any] | None = None) -> str:
        answer = await self.client.post(
            f"/v1/backends/{backend}/jobs", json=body or REQUESTS[backend]
        )
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["jobs"][0]["id"]
        return job_id

    async def reload(self) -> None:
        write_config(self.path, self.config)
        assert await self.holder.reload("test edit")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = example_config()
    config["server"]["reload"] = {"watch": False}
    path = write_config(tmp_path / "gateway.yaml", config)
    app = create_app(path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield Served(path, config, client)
    await app.state.holder.aclose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_reload_that_leaves_a_backend_alone_keeps_its_jobs(
    served: Served, backend: str
) -> None:
    job_id = await served.submit(backend)
    served.config["aliases"]["evals"] = "nemo-v2-sim"  # an edit elsewhere in the file
    await served.reload()
    assert served.holder.current.number == 2
    read = await served.client.get(f"/v1/jobs/{job_id}", headers={"Cache-Control": "no-cache"})
    assert read.status_code == 200, read.text
    assert read.json()["id"] == job_id
    assert await served.submit(backend) != job_id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_rebuilt_simulator_never_reuses_an_id(served: Served, backend: str) -> None:
    first = await served.submit(backend)
    served.config["backends"][backend]["timeouts"] = {"total": 29.0}  # this backend changes
    await served.reload()
    assert served.holder.current.gateway.simulator(backend).jobs.get(first.split("~")[-1]) is None
    # Its simulator is a new one, but ids go on from where the old one stopped: an old id
    # never names a new job.
    assert await served.submit(backend) != first


async def test_seeded_jobs_are_not_seeded_again_over_kept_state(served: Served) -> None:
    listed = await served.client.get("/v1/backends/nemo-v1-sim/jobs", params={"status": "running"})
    job_id = listed.json()["items"][0]["id"]
    cancel = await served.client.post(f"/v1/jobs/{job_id}/cancel")
    assert cancel.status_code == 200, cancel.text
    served.config["aliases"]["evals"] = "nemo-v2-sim"
    await served.reload()
    read = await served.client.get(f"/v1/jobs/{job_id}", headers={"Cache-Control": "no-cache"})
    assert read.json()["status"] in {"cancelling", "cancelled"}, read.text


async def test_a_rebuilt_llama_stack_builtin_provider_does_not_number_jobs_from_1_again(
    served: Served,
) -> None:
    builtin = {
        "evaluation": "basic-qa",
        "targets": [{"model": "meta-llama/Llama3.1-8B-Instruct"}],
        "max_tokens": 32,
    }
    first = await served.submit("ls-sim", builtin)
    served.config["backends"]["ls-sim"]["timeouts"] = {"total": 29.0}
    await served.reload()
    assert await served.submit("ls-sim", builtin) != first
