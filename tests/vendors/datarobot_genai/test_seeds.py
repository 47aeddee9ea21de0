"""The DataRobot simulator's seeds (sim/seeds.yaml) are parsed once per process and shared by
every simulator: what one simulator does to its seeded jobs never reaches the next one."""

from __future__ import annotations

from typing import Any

from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.datarobot_genai.sim.data import GENAI_IDS

VENDOR = "datarobot-genai"
START = 1767225600.0
AGGREGATIONS = "/api/v2/genai/evaluationDatasetMetricAggregations/"


async def _aggregation_rows(state: SimState) -> list[dict[str, Any]]:
    async with client_for(VENDOR, create_app(VENDOR, state=state)) as http:
        answer = await http.get(AGGREGATIONS)
    assert answer.status_code == 200
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


async def test_changing_a_seeded_job_in_place_leaves_the_next_simulator_as_seeded() -> None:
    first = SimState(clock=SimClock(start=START, frozen=True))
    seeded = await _aggregation_rows(first)
    assert {row["metricName"] for row in seeded} == {"Faithfulness"}
    # In place, as a route or the control API may change what a simulator holds.
    request = first.jobs[GENAI_IDS["COMPLETED"]].data["aggregation"]
    request["insightsConfiguration"][0]["insightName"] = "Changed"

    second = SimState(clock=SimClock(start=START, frozen=True))
    assert await _aggregation_rows(second) == seeded
