"""A cache hit answers the same bytes and headers a miss would (its body made once)."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from gateway import config_from_dict
from gateway.server.app import create_app

JOB = "/v1/jobs/ls~mmlu~eval-completed"


def test_hits_answer_what_the_miss_answered_and_raw_only_when_asked() -> None:
    config = config_from_dict(
        {
            "backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}},
            "ledger": {"enabled": False},
        }
    )
    with TestClient(create_app(config)) as api:
        miss, hit, hit_again = api.get(JOB), api.get(JOB), api.get(JOB)
        raw = api.get(JOB, params={"include": "raw"})
        after_raw = api.get(JOB)
    assert "hit" not in miss.headers["cache-status"]
    for answer in (hit, hit_again, after_raw):
        assert answer.status_code == 200
        assert answer.headers["cache-status"].startswith("eval-gateway; hit")
        assert answer.headers["content-type"] == "application/json"
        assert "age" in answer.headers and "x-request-id" in answer.headers
        assert answer.content == miss.content
    assert json.loads(miss.content)["raw"] is None
    assert json.loads(raw.content)["raw"] is not None
