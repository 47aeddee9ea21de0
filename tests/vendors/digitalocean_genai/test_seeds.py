"""The DigitalOcean GenAI simulator's seeds (sim/seeds.yaml) are parsed once per process and
shared by every simulator: what one simulator does to its seeded test cases never reaches
the next one."""

from __future__ import annotations

from typing import Any

from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.digitalocean_genai.sim.data import SUPPORT_REGRESSION, store_of

VENDOR = "digitalocean-genai"
START = 1767225600.0
FIRST_VERSION = f"/v2/gen-ai/evaluation_test_cases/{SUPPORT_REGRESSION}"


async def _first_version(state: SimState) -> dict[str, Any]:
    async with client_for(VENDOR, create_app(VENDOR, state=state)) as http:
        answer = await http.get(FIRST_VERSION, params={"evaluation_test_case_version": 1})
    assert answer.status_code == 200
    case: dict[str, Any] = answer.json()["evaluation_test_case"]
    return case


async def test_changing_a_seeded_test_case_in_place_leaves_the_next_simulator_as_seeded() -> None:
    first = SimState(clock=SimClock(start=START, frozen=True))
    seeded = await _first_version(first)
    assert seeded["star_metric"]["success_threshold_pct"] == 75
    # In place, as a route or the control API may change what a simulator holds.
    store_of(first).test_cases[SUPPORT_REGRESSION][0]["star_metric"]["success_threshold_pct"] = 1

    second = SimState(clock=SimClock(start=START, frozen=True))
    assert await _first_version(second) == seeded
