"""A real MLflow tracking server (`mlflow server` from PyPI) on a loopback port, with a SQLite
store in a temporary directory. The full `mlflow` package lives in its own virtualenv
(.venv-mlflow, made by .ci/run) so it never pins the gateway's dependencies; without it the
tests fail in CI and are skipped elsewhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0  # it imports a lot and migrates the store: 15-70 s on a busy machine


def mlflow_binary() -> str:
    for candidate in (
        os.environ.get("MLFLOW_SERVER_BIN"),
        str(REPO / ".venv-mlflow" / "bin" / "mlflow"),
        shutil.which("mlflow"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = (
        "no `mlflow` server binary: "
        "python3 -m venv .venv-mlflow && .venv-mlflow/bin/pip install mlflow"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class MlflowServer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api = httpx.Client(base_url=f"{url}/api/2.0/mlflow", timeout=30.0)

    def runs(self, experiment: str) -> list[dict]:
        """Every run of an experiment, read straight from the server's REST API."""
        found = self.api.get("/experiments/get-by-name", params={"experiment_name": experiment})
        if found.status_code == 404:
            return []
        found.raise_for_status()
        experiment_id = found.json()["experiment"]["experiment_id"]
        answer = self.api.post("/runs/search", json={"experiment_ids": [experiment_id]})
        answer.raise_for_status()
        return list(answer.json().get("runs", []))


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    binary = mlflow_binary()
    workdir = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",  # never phone home from a test
        "DO_NOT_TRACK": "true",
        # No background job runner (six worker processes the export never uses).
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--default-artifact-root",
            (workdir / "artifacts").as_uri(),
            "--workers",
            "1",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its uvicorn child goes down with it (killpg below)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(workdir / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not start in time")
            time.sleep(0.2)  # readiness poll, bounded by the deadline above
        server = MlflowServer(url)
        yield server
        server.api.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
