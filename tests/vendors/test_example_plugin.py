"""The example out-of-tree vendor (examples/acme-evals) plugs in through its entry point for
real: its package metadata, made from its own pyproject.toml, sits in a scratch site
directory, and `eval-gateway serve` (a subprocess) serves a `sim://acme-evals` backend."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from gateway import AsyncGateway
from gateway.schemas import Job, JobStatus, Problem
from gateway.simulators import Fault
from gateway.vendors import registry
from tests.server.proc import Proc, gateway

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-evals"
CONFIG = {
    "backends": {"acme": {"vendor": "acme-evals", "base_url": "sim://acme-evals"}},
    "ledger": {"enabled": False},
}


def install_metadata(site: Path) -> None:
    """What `pip install` leaves for the example: a dist-info with its entry points."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = [
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
        for group, entries in project["entry-points"].items()
    ]
    (info / "entry_points.txt").write_text("\n".join(lines))


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    site = tmp_path_factory.mktemp("site")
    install_metadata(site)
    return os.pathsep.join([str(site), str(EXAMPLE / "src")])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, plugin_path: str) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("acme-serve")
    config = workdir / "gateway.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    with gateway(workdir, config, env={"PYTHONPATH": plugin_path}) as proc:
        yield proc


def get_job(proc: Proc, job_id: str) -> Job:
    answer = httpx.get(f"{proc.url}/v1/jobs/{job_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    return Job.model_validate(answer.json())


def test_the_served_plugin_backend_is_listed(served: Proc) -> None:
    body = httpx.get(f"{served.url}/v1/backends", timeout=10).json()
    (acme,) = body["backends"]
    assert (acme["name"], acme["vendor"], acme["simulated"]) == ("acme", "acme-evals", True)


@pytest.mark.parametrize(
    ("run_id", "word", "status"),
    [
        ("run-waiting", "WAITING", JobStatus.QUEUED),
        ("run-executing", "EXECUTING", JobStatus.RUNNING),
        ("run-done", "DONE", JobStatus.SUCCEEDED),
        ("run-errored", "ERRORED", JobStatus.FAILED),
        ("run-stopped", "STOPPED", JobStatus.CANCELLED),
    ],
)
def test_a_plugin_job_reads_as_a_canonical_job_with_the_mapped_status(
    served: Proc, run_id: str, word: str, status: JobStatus
) -> None:
    job = get_job(served, f"acme~{run_id}")
    assert (job.vendor, job.backend, job.vendor_job_id) == ("acme-evals", "acme", run_id)
    assert (job.status, job.vendor_status) == (status, word)
    if status is JobStatus.FAILED:
        assert job.error is not None and job.error.detail == "the grader crashed"


def test_the_plugins_error_table_applies(served: Proc) -> None:
    for job_id in ("acme~run-nope", "acme~nope"):  # a 404, and ACME's 400 for a bad id shape
        answer = httpx.get(f"{served.url}/v1/jobs/{job_id}", timeout=10)
        assert answer.status_code == 404, answer.text
        problem = Problem.model_validate(answer.json())
        assert problem.slug == "job-not-found" and problem.vendor_status_code in (400, 404)


def test_a_plugin_backend_lists_its_jobs(served: Proc) -> None:
    body = httpx.get(f"{served.url}/v1/backends/acme/jobs", timeout=10).json()
    assert {job["vendor_job_id"] for job in body["items"]} >= {"run-done", "run-moving"}


@pytest.fixture
def in_process(plugin_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for entry in reversed(plugin_path.split(os.pathsep)):
        monkeypatch.syspath_prepend(entry)
    registry.reload()
    yield
    monkeypatch.undo()
    registry.reload()


@pytest.mark.usefixtures("in_process")
async def test_an_undocumented_plugin_word_is_unknown_in_the_library() -> None:
    async with AsyncGateway(CONFIG) as gw:
        gw.simulator("acme").arm(Fault("undocumented_status"))
        job = await gw.get_job("acme~run-done")
    assert job.status is JobStatus.UNKNOWN and job.vendor == "acme-evals"
