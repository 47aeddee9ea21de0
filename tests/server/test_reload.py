"""Live config reload on a real server: re-route an alias with no restart and no failed request."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.proc import Proc, example_config, gateway, simulator, write_config

FAST_RELOAD = {"watch": True, "poll_seconds": 0.1, "drain_seconds": 20}


def backends_behind(client: httpx.Client, alias: str = "evals") -> set[str]:
    response = client.get(f"/v1/backends/{alias}/jobs", params={"page_size": 2})
    assert response.status_code == 200, response.text
    return {job["backend"] for job in response.json()["items"]}


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def generation(proc: Proc) -> int:
    value: int = httpx.get(proc.url + "/readyz").json()["config"]["generation"]
    return value


@pytest.fixture
def config() -> dict[str, Any]:
    data = example_config()
    data["server"]["reload"] = dict(FAST_RELOAD)
    return data


@pytest.fixture
def served(tmp_path: Path, config: dict[str, Any]) -> Iterator[tuple[Proc, Path]]:
    path = write_config(tmp_path / "gateway.yaml", config)
    with gateway(tmp_path, path) as proc:
        yield proc, path


def test_editing_the_file_reroutes_an_alias_with_no_failed_request(
    served: tuple[Proc, Path], config: dict[str, Any]
) -> None:
    proc, path = served
    pid = proc.pid
    seen: list[tuple[int, frozenset[str]]] = []
    errors: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=proc.url, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.get("/v1/backends/evals/jobs", params={"page_size": 2})
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                if response.status_code != 200:
                    errors.append(response.text)
                items = response.json().get("items", []) if response.status_code == 200 else []
                seen.append((response.status_code, frozenset(j["backend"] for j in items)))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(seen) > 20)
        config["aliases"]["evals"] = "overmind-sim"  # the one-line vendor switch
        write_config(path, config)
        wait_until(lambda: seen[-1][1] == {"overmind-sim"})
        count = len(seen)
        wait_until(lambda: len(seen) > count + 20)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert not errors, errors
    assert {status for status, _ in seen} == {200}
    assert {b for _, b in seen} == {frozenset({"nemo-v1-sim"}), frozenset({"overmind-sim"})}
    assert seen[-1][1] == {"overmind-sim"}
    assert proc.pid == pid and proc.process.poll() is None  # no restart
    assert generation(proc) == 2
    proc.wait_for_log("config reloaded (file changed)")


def test_a_bad_config_is_refused_and_the_old_one_keeps_serving(
    served: tuple[Proc, Path], config: dict[str, Any]
) -> None:
    proc, path = served
    client = httpx.Client(base_url=proc.url, timeout=30)

    config["aliases"]["evals"] = "nemo-v9-sim"  # no such backend
    write_config(path, config)
    line = proc.wait_for_log("REFUSED")
    assert "alias 'evals' points at 'nemo-v9-sim', which is not a backend" in line
    assert json.loads(line)["level"] == "error"
    assert backends_behind(client) == {"nemo-v1-sim"}

    broken = path.with_suffix(".broken")
    broken.write_text("backends: [this is: not valid", encoding="utf-8")
    broken.replace(path)  # atomically, so the watch never sees a half-written file
    wait_until(lambda: proc.log_text().count("REFUSED") == 2)
    assert "not valid YAML" in proc.log_text()
    assert backends_behind(client) == {"nemo-v1-sim"}
    assert generation(proc) == 1
    assert 'gateway_config_reloads_total{outcome="refused"} 2.0' in client.get("/metrics").text

    config["aliases"]["evals"] = "nemo-v2-sim"  # fixed: the next good edit applies
    write_config(path, config)
    wait_until(lambda: backends_behind(client) == {"nemo-v2-sim"})
    assert generation(proc) == 2


def test_sighup_reloads_when_the_file_watch_is_off(tmp_path: Path, config: dict[str, Any]) -> None:
    config["server"]["reload"]["watch"] = False
    path = write_config(tmp_path / "gateway.yaml", config)
    with gateway(tmp_path, path) as proc, httpx.Client(base_url=proc.url, timeout=30) as client:
        config["aliases"]["evals"] = "datarobot-sim"
        write_config(path, config)
        time.sleep(0.5)  # several poll intervals: nothing happens without the watch
        assert backends_behind(client) == {"nemo-v1-sim"}

        proc.signal(signal.SIGHUP)
        wait_until(lambda: backends_behind(client) == {"datarobot-sim"})
        proc.wait_for_log("config reloaded (SIGHUP)")


def test_a_request_in_flight_finishes_on_the_config_it_started_with(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    with simulator(tmp_path, "overmind") as vendor:
        # A real-socket Overmind backend that we can slow down.
        config["backends"]["om-remote"] = {"vendor": "overmind", "base_url": vendor.url}
        config["aliases"]["evals"] = "om-remote"
        path = write_config(tmp_path / "gateway.yaml", config)
        with gateway(tmp_path, path) as proc, httpx.Client(base_url=proc.url, timeout=30) as c:
            assert backends_behind(c) == {"om-remote"}
            httpx.post(vendor.url + "/_sim/faults", json={"kind": "delay", "seconds": 2.0})
            slow: list[set[str]] = []
            in_flight = threading.Thread(target=lambda: slow.append(backends_behind(c)))
            in_flight.start()
            time.sleep(0.5)

            config["aliases"]["evals"] = "do-sim"
            write_config(path, config)
            proc.wait_for_log("config reloaded")
            assert backends_behind(c) == {"do-sim"}  # new requests: the new config
            assert in_flight.is_alive()  # ...while the old request is still running

            in_flight.join(10)
            assert slow == [{"om-remote"}]  # the old request finished on the old config
            line = proc.wait_for_log("config generation 1 closed")
            assert "0 request(s) cut off" in line
