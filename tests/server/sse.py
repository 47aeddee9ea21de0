"""A small server-sent events client for the tests (httpx streaming, the WHATWG parsing rules
the tests rely on: fields, comments, blank-line dispatch), plus the canonical requests that
each simulated vendor accepts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.schemas import Job, Problem

STANDALONE_LS = "ls-remote"  # a llama-stack backend on a standalone simulator process
NO_CACHE = "ls-nocache"  # the same simulator, uncached: every poll is a vendor read


@dataclass
class Frame:
    """One dispatched event (event/id/data) or a comment line (heartbeat)."""

    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comment: str | None = None
    retry: int | None = None
    at: float = 0.0

    @property
    def job(self) -> Job:
        assert self.event == "status", self
        return Job.model_validate_json("\n".join(self.data))

    @property
    def problem(self) -> Problem:
        assert self.event == "problem", self
        return Problem.model_validate_json("\n".join(self.data))


def frames(response: httpx.Response) -> Iterator[Frame]:
    current = Frame()
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Frame(comment=line[1:].strip(), at=time.monotonic())
            continue
        if not line:
            if current.event or current.data or current.id:
                current.at = time.monotonic()
                yield current
            current = Frame()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            current.data.append(value)
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry":
            current.retry = int(value)


def watch(
    client: httpx.Client,
    job_id: str,
    *,
    last_event_id: str | None = None,
    heartbeat: float | None = None,
    stop_after: int | None = None,
    timeout: float = 30.0,
    on_frame: Callable[[Frame], None] | None = None,
) -> tuple[httpx.Response, list[Frame]]:
    """Read a job's event stream to its end (or `stop_after` events); heartbeats included.
    `on_frame` sees each frame as it arrives."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    params = {"heartbeat": heartbeat} if heartbeat else {}
    seen: list[Frame] = []
    with client.stream(
        "GET", f"/v1/jobs/{job_id}/events", headers=headers, params=params, timeout=timeout
    ) as response:
        if response.status_code != 200:
            response.read()
            return response, seen
        for frame in frames(response):
            seen.append(frame)
            if on_frame is not None:
                on_frame(frame)
            if stop_after is not None and len([f for f in seen if f.event]) >= stop_after:
                break
    return response, seen


def events(seen: list[Frame]) -> list[Frame]:
    return [f for f in seen if f.event]


def create_sim_job(sim_url: str, *stages: tuple[str, float | None]) -> str:
    """A llama-stack job on a standalone simulator with this lifecycle; its id on ls-remote."""
    lifecycle = [{"status": s, "seconds": d} for s, d in stages]
    made = httpx.post(f"{sim_url}/_sim/jobs", json={"lifecycle": lifecycle}, timeout=5.0)
    assert made.status_code == 201, made.text
    return "~".join([STANDALONE_LS, *made.json()["id_parts"]])


def vendor_reads(sim_url: str, vendor_job_id: str) -> int:
    counts: dict[str, int] = httpx.get(f"{sim_url}/_sim/requests", timeout=5.0).json()["requests"]
    return sum(n for k, n in counts.items() if k.startswith("GET ") and k.endswith(vendor_job_id))


# One canonical request per simulated backend of config.example.yaml, valid for its vendor.
NEMO_REQUEST: dict[str, Any] = {
    "evaluation": "nvidia/test-benchmark",
    "targets": [
        {
            "model": "meta/llama-3.1-8b-instruct",
            "endpoint": "http://nemo-nim-proxy:8000/v1/chat/completions",
        }
    ],
}
REQUESTS: dict[str, dict[str, Any]] = {
    "ls-sim": {
        "evaluation": "mmlu",
        "targets": [{"model": "meta-llama/Llama3.1-8B-Instruct"}],
        "max_tokens": 256,  # Llama Stack requires it (docs/vendors/llama-stack.md)
    },
    "nemo-v1-sim": NEMO_REQUEST,
    "nemo-v2-sim": NEMO_REQUEST,
    "overmind-sim": {
        "evaluation": "prompt_tuning",
        "targets": [{"type": "agent", "agent": "a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}],
        "vendor_options": {
            "project": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "prompt_slug": "support-triage-system",
            "analyzer_model": "claude-sonnet-4",
            "num_iterations": 3,
            "candidates_per_iteration": 2,
            "data_source": "traces",
        },
    },
    "do-sim": {
        "evaluation": "22efb7d6-cdb5-6388-bf8f-4e013e2ddde4",
        "targets": [{"type": "agent", "agent": "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"}],
    },
    "datarobot-sim": {
        "evaluation": "66b0c1d2e3f4a5b6c7d8e9a1",
        "targets": [{"model": "66b0c1d2e3f4a5b6c7d8e9b1"}],
        "name": "gateway-eval",
        "vendor_options": {
            "insightsConfiguration": [
                {
                    "insightName": "Faithfulness",
                    "insightType": "Quality metric",
                    "aggregationTypes": ["average", "percentYes"],
                }
            ]
        },
    },
}


def metrics_value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
