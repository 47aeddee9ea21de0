"""Run `eval-gateway serve` / `eval-gateway simulate` as real subprocesses on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.servers import free_port

START_TIMEOUT = 30.0


@dataclass
class Proc:
    """A started server: its base URL, process and the file its stderr goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                with suppress(ValueError):
                    records.append(json.loads(line))
        return records

    def wait_for_log(self, needle: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_text().splitlines():
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line with {needle!r}:\n{self.log_text()[-3000:]}")

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (graceful), then SIGKILL if it hangs; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def _spawn(args: list[str], log_file: Path, ready_path: str, env: dict[str, str] | None) -> Proc:
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    with log_file.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *args, "--port", str(port)],
            stdout=sink,
            stderr=sink,
            env=full_env,
        )
    proc = Proc(f"http://127.0.0.1:{port}", process, log_file)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{args[0]} exited with {process.returncode}:\n{proc.log_text()}")
        try:
            if httpx.get(proc.url + ready_path, timeout=1.0).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.stop()
            raise RuntimeError(f"{args[0]} did not start:\n{proc.log_text()}")
        time.sleep(0.05)


@contextmanager
def gateway(
    workdir: Path, config: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[Proc]:
    """`eval-gateway serve [--config FILE]` on a free loopback port, stopped after the block."""
    args = ["serve", *(["--config", str(config)] if config else [])]
    proc = _spawn(args, workdir / f"gateway-{time.monotonic_ns()}.log", "/healthz", env)
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def simulator(workdir: Path, vendor: str) -> Iterator[Proc]:
    """`eval-gateway simulate VENDOR` on a free loopback port (a vendor with a real socket)."""
    log = workdir / f"sim-{vendor}-{time.monotonic_ns()}.log"
    proc = _spawn(["simulate", vendor], log, "/_sim/jobs", None)
    try:
        yield proc
    finally:
        proc.stop()


def example_config() -> dict[str, Any]:
    """The shipped example config as a dict, to derive test configs from."""
    data: dict[str, Any] = yaml.safe_load(Path("config.example.yaml").read_text())
    return data


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Write a config atomically (as editors and config management tools do)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path
