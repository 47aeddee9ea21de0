"""The contract every adapter keeps: canonical-status.md's vendor table, exactly.

Each documented vendor word maps as the table says (ignoring case and surrounding space), no
adapter invents a word, and anything else is `unknown` — never failed, never succeeded. The
same holds end to end: a simulator job in each documented status comes out of the library
with that canonical status and the vendor's word verbatim.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway import AsyncGateway, JobStatus, format_job_id
from gateway.adapters import adapter_class
from gateway.simulators import UNDOCUMENTED_STATUS, Stage, vendor_sim

# Copied from shared/design/canonical-status.md (the "Vendor table"); the test below checks
# the copy against the document whenever ../shared is beside the repository.
TABLE: dict[tuple[str, str | None], dict[str, list[str]]] = {
    ("llama-stack", None): {
        "queued": ["scheduled"],
        "running": ["in_progress"],
        "succeeded": ["completed"],
        "failed": ["failed"],
        "cancelled": ["cancelled"],
    },
    ("nemo-evaluator", "v1"): {
        "queued": ["created", "pending"],
        "running": ["running"],
        "cancelling": ["cancelling"],
        "succeeded": ["completed"],
        "failed": ["failed"],
        "cancelled": ["cancelled"],
        "unknown": ["ready", "unknown"],
    },
    ("nemo-evaluator", "v2"): {
        "queued": ["created", "pending"],
        "running": ["active", "resuming"],
        "paused": ["paused", "pausing"],
        "cancelling": ["cancelling"],
        "succeeded": ["completed"],
        "failed": ["error"],
        "cancelled": ["cancelled"],
    },
    ("overmind", None): {
        "queued": ["pending"],
        "running": ["running"],
        "paused": ["waiting_user"],
        "succeeded": ["completed"],
        "failed": ["failed"],
        "cancelled": ["cancelled"],
    },
    ("digitalocean-genai", None): {
        "queued": ["EVALUATION_RUN_QUEUED"],
        "running": ["EVALUATION_RUN_RUNNING_DATASET", "EVALUATION_RUN_EVALUATING_RESULTS"],
        "cancelling": ["EVALUATION_RUN_CANCELLING"],
        "succeeded": ["EVALUATION_RUN_SUCCESSFUL"],
        "partially_succeeded": ["EVALUATION_RUN_PARTIALLY_SUCCESSFUL"],
        "failed": ["EVALUATION_RUN_FAILED"],
        "cancelled": ["EVALUATION_RUN_CANCELLED"],
        "unknown": ["EVALUATION_RUN_STATUS_UNSPECIFIED"],
    },
    ("datarobot-genai", None): {
        "queued": ["INITIALIZED"],
        "running": ["RUNNING"],
        "succeeded": ["COMPLETED"],
        "failed": ["ERROR"],
        "cancelled": ["ABORTED"],
        "expired": ["EXPIRED"],
    },
}
ROW_LABELS = {
    "Llama Stack `JobStatus`": ("llama-stack", None),
    "NeMo v1 `JobStatus`": ("nemo-evaluator", "v1"),
    "NeMo v2 `PlatformJobStatus`": ("nemo-evaluator", "v2"),
    "Overmind job `status`": ("overmind", None),
    "DigitalOcean run `status`": ("digitalocean-genai", None),
    "DataRobot `JobExecutionState`": ("datarobot-genai", None),
}
DESIGN_DOC = Path(__file__).resolve().parents[3] / "shared" / "design" / "canonical-status.md"
CASES = [
    (vendor, version, word, JobStatus(canonical))
    for (vendor, version), row in TABLE.items()
    for canonical, words in row.items()
    for word in words
]


def ident(case: tuple[str, str | None, str, JobStatus]) -> str:
    return f"{case[0]}-{case[1] or 'default'}-{case[2]}"


@pytest.mark.skipif(not DESIGN_DOC.exists(), reason="shared/design is not beside the repository")
def test_table_copy_matches_the_design_document() -> None:
    lines = DESIGN_DOC.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| vendor | queued"))
    columns = [c.strip() for c in header.strip("|").split("|")][1:]
    parsed = {}
    for line in lines[lines.index(header) + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = {
            col: [w.strip() for w in cell.split(",")]
            for col, cell in zip(columns, cells[1:], strict=True)
            if cell
        }
        parsed[ROW_LABELS[cells[0]]] = row
    assert parsed == TABLE


@pytest.mark.parametrize("case", CASES, ids=[ident(c) for c in CASES])
def test_every_documented_word_maps_as_the_table_says(
    case: tuple[str, str | None, str, JobStatus],
) -> None:
    vendor, version, word, canonical = case
    table = adapter_class(vendor, version).status_table
    assert table.lookup(word) is canonical
    assert table.lookup(f"  {word.swapcase()} \n") is canonical  # case and space ignored


@pytest.mark.parametrize("key", list(TABLE), ids=[f"{v}-{a}" for v, a in TABLE])
def test_no_adapter_invents_or_drops_a_word(key: tuple[str, str | None]) -> None:
    table = adapter_class(*key).status_table
    documented = {w.casefold() for words in TABLE[key].values() for w in words}
    assert {w.casefold() for w in table.entries} == documented


@pytest.mark.parametrize("key", list(TABLE), ids=[f"{v}-{a}" for v, a in TABLE])
@pytest.mark.parametrize("value", [UNDOCUMENTED_STATUS, "cancelling_now", "", None, 3, ["x"]])
def test_anything_else_is_unknown_never_failed(key: tuple[str, str | None], value: object) -> None:
    assert adapter_class(*key).status_table.lookup(value) is JobStatus.UNKNOWN


# -- end to end: simulator job in each documented status -> library -> canonical ------------

BACKENDS = {
    ("llama-stack", None): "ls-sim",
    ("nemo-evaluator", "v1"): "nemo-v1-sim",
    ("nemo-evaluator", "v2"): "nemo-v2-sim",
    ("overmind", None): "overmind-sim",
    ("digitalocean-genai", None): "do-sim",
    ("datarobot-genai", None): "datarobot-sim",
}
# Vendor data a simulator needs to create a job of the right kind.
SIM_JOB_DATA: dict[tuple[str, str | None], dict[str, str]] = {
    ("nemo-evaluator", "v1"): {"api": "v1"},
    ("nemo-evaluator", "v2"): {"api": "v2"},
}


@pytest.mark.parametrize("case", CASES, ids=[ident(c) for c in CASES])
async def test_library_reports_each_documented_status(
    case: tuple[str, str | None, str, JobStatus],
) -> None:
    vendor, version, word, canonical = case
    backend = BACKENDS[(vendor, version)]
    async with AsyncGateway() as gw:
        state = gw.simulator(backend)
        sim = vendor_sim(vendor)
        job = sim.new_job(state, [Stage(word)], dict(SIM_JOB_DATA.get((vendor, version), {})))
        got = await gw.get_job(format_job_id(backend, *sim.id_parts(job)))
    assert (got.status, got.vendor_status) == (canonical, word)
    assert got.terminal is canonical.terminal
    assert got.backend == backend and got.vendor == vendor
    assert re.fullmatch(r"[A-Za-z0-9._~!-]+", got.id)


@pytest.mark.parametrize("key", list(BACKENDS), ids=[f"{v}-{a}" for v, a in BACKENDS])
async def test_library_reports_an_undocumented_status_as_unknown(
    key: tuple[str, str | None],
) -> None:
    vendor, _ = key
    backend = BACKENDS[key]
    async with AsyncGateway() as gw:
        state = gw.simulator(backend)
        sim = vendor_sim(vendor)
        job = sim.new_job(state, [Stage("rebooting")], dict(SIM_JOB_DATA.get(key, {})))
        got = await gw.get_job(format_job_id(backend, *sim.id_parts(job)))
    assert got.status is JobStatus.UNKNOWN
    assert got.vendor_status == "rebooting"
    assert got.terminal is False
