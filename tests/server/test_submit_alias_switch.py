"""Config-driven vendor switching for submissions: the next submission to an alias goes where
the alias points after a live reload, with the same canonical request and no restart."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.proc import example_config, gateway, write_config
from tests.server.sse import REQUESTS
from tests.server.test_reload import FAST_RELOAD, generation, wait_until


def test_an_alias_switch_moves_the_next_submission_to_the_new_api_version(
    tmp_path: Path,
) -> None:
    config = example_config()
    config["server"]["reload"] = dict(FAST_RELOAD)
    config["aliases"]["evals"] = "nemo-v1-sim"
    path = write_config(tmp_path / "gateway.yaml", config)
    request = REQUESTS["nemo-v1-sim"]  # one canonical request, whichever backend runs it
    with gateway(tmp_path, path) as proc, httpx.Client(base_url=proc.url, timeout=30) as api:
        first = api.post("/v1/backends/evals/jobs", json=request)
        assert first.status_code == 202, first.text
        assert first.json()["backend"] == "nemo-v1-sim"
        assert first.json()["requested"] == "evals"

        before = generation(proc)
        config["aliases"]["evals"] = "nemo-v2-sim"
        write_config(path, config)
        wait_until(lambda: generation(proc) > before)

        second = api.post("/v1/backends/evals/jobs", json=request)
        assert second.status_code == 202, second.text
        body = second.json()
        assert body["backend"] == "nemo-v2-sim"
        assert body["jobs"][0]["api_version"] == "v2"
        assert second.headers["Location"].endswith(f"/v1/jobs/{body['jobs'][0]['id']}")
        assert api.get(f"/v1/jobs/{body['jobs'][0]['id']}").status_code == 200
