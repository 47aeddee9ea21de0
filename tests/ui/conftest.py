"""The status board's browser suite: real `eval-gateway serve` processes (auth off, and auth
on with a full and a limited key) over sim:// backends, a standalone Llama Stack simulator
whose /_sim/ control moves jobs along, and a ledger seeded with 1,200 jobs; Debian's chromium
driven by playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.simulators import create_app
from tests.server.proc import Proc, gateway, simulator, write_config
from tests.ui.seed import seed_ledger

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BULK_JOBS = 1200
REMOTE = "ls-remote"  # the gateway's backend on the standalone simulator
FULL_KEY = "ui-test-full-key-0123456789abcdef"
LS_ONLY_KEY = "ui-test-ls-only-key-0123456789abcd"
DOCS_UI = Path(__file__).resolve().parents[2] / "docs" / "ui"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ui-screenshots",
        action="store_true",
        default=False,
        help="save full-page screenshots of the status board under docs/ui/",
    )


@dataclass
class Board:
    proc: Proc
    vendor: Proc  # the standalone llama-stack simulator behind `ls-remote`
    api: httpx.Client
    seeded_ls: list[str] = field(default_factory=list)  # gateway ids of ls-sim's seed jobs

    @property
    def url(self) -> str:
        return self.proc.url

    def new_remote_job(self, lifecycle: list[dict[str, Any]]) -> str:
        """A job on the standalone simulator (scripted lifecycle); its gateway id."""
        made = httpx.post(f"{self.vendor.url}/_sim/jobs", json={"lifecycle": lifecycle})
        made.raise_for_status()
        return "~".join([REMOTE, *made.json()["id_parts"]])

    def sim_clock(self, **body: Any) -> None:
        httpx.post(f"{self.vendor.url}/_sim/clock", json=body).raise_for_status()


def board_config(ledger_url: str, vendor_url: str, *, auth: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "backends": {
            "ls-sim": {"vendor": "llama-stack", "base_url": "sim://llama-stack"},
            "nemo-v2-sim": {
                "vendor": "nemo-evaluator",
                "api_version": "v2",
                "base_url": "sim://nemo-evaluator",
            },
            "do-sim": {"vendor": "digitalocean-genai", "base_url": "sim://digitalocean-genai"},
            REMOTE: {
                "vendor": "llama-stack",
                "base_url": vendor_url,
                "cache": {"running_ttl": 0.1},
            },
        },
        "aliases": {"evals": "nemo-v2-sim"},
        "server": {"reload": {"watch": False}},
        "ledger": {"url": ledger_url},
    }
    if auth:
        config["auth"] = {
            "enabled": True,
            "keys": [
                {"name": "lead", "key": "${UI_FULL_KEY}"},
                {"name": "ls-team", "key": "${UI_LS_ONLY_KEY}", "backends": ["ls-sim"]},
            ],
        }
    return config


def ls_seed_ids() -> list[str]:
    """Gateway ids of the jobs the Llama Stack simulator is seeded with (the same every run)."""
    app = create_app("llama-stack")
    sim, state = app.state.vendor_sim, app.state.sim
    return ["~".join(["ls-sim", *sim.id_parts(job)]) for job in state.jobs.values()]


def observe_seed_jobs(api: httpx.Client, ls_ids: list[str]) -> None:
    """Read every simulated backend's jobs once through the API, so the ledger has them."""
    for backend in ("nemo-v2-sim", "do-sim"):
        api.get(f"/v1/backends/{backend}/jobs", params={"page_size": 100}).raise_for_status()
    for job_id in ls_ids:
        api.get(f"/v1/jobs/{job_id}")


def wait_for_ledger(api: httpx.Client, at_least: int, timeout: float = 20.0) -> None:
    """The ledger writes behind: wait until it holds what was observed."""
    deadline = time.monotonic() + timeout
    while True:
        total = sum(api.get("/v1/jobs", params={"page_size": 1}).json()["counts"].values())
        if total >= at_least:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the ledger holds {total} jobs, expected {at_least}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def ui_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-board")


@pytest.fixture(scope="session")
def ui_vendor(ui_workdir: Path) -> Iterator[Proc]:
    with simulator(ui_workdir, "llama-stack") as proc:
        yield proc


@pytest.fixture(scope="session")
def seeded_ledger_file(ui_workdir: Path) -> Path:
    path = ui_workdir / "seed.sqlite3"
    seed_ledger(f"sqlite+aiosqlite:///{path}", BULK_JOBS)
    return path


def _start_board(
    workdir: Path, seed: Path, vendor: Proc, *, auth: bool, name: str
) -> Iterator[Board]:
    ledger = workdir / f"{name}.sqlite3"
    shutil.copy(seed, ledger)
    config = board_config(f"sqlite+aiosqlite:///{ledger}", vendor.url, auth=auth)
    path = write_config(workdir / f"{name}.yaml", config)
    env = {"UI_FULL_KEY": FULL_KEY, "UI_LS_ONLY_KEY": LS_ONLY_KEY}
    headers = {"Authorization": f"Bearer {FULL_KEY}"} if auth else {}
    with (
        gateway(workdir, path, env=env) as proc,
        httpx.Client(base_url=proc.url, headers=headers, timeout=30.0) as api,
    ):
        ids = ls_seed_ids()
        observe_seed_jobs(api, ids)
        wait_for_ledger(api, BULK_JOBS + len(ids))
        yield Board(proc, vendor, api, ids)


@pytest.fixture(scope="session")
def board(ui_workdir: Path, seeded_ledger_file: Path, ui_vendor: Proc) -> Iterator[Board]:
    """The board with auth off."""
    yield from _start_board(ui_workdir, seeded_ledger_file, ui_vendor, auth=False, name="open")


@pytest.fixture(scope="session")
def locked_board(ui_workdir: Path, seeded_ledger_file: Path, ui_vendor: Proc) -> Iterator[Board]:
    """The board with auth on: keys `lead` (everything) and `ls-team` (ls-sim only)."""
    yield from _start_board(ui_workdir, seeded_ledger_file, ui_vendor, auth=True, name="locked")


# -- the browser --------------------------------------------------------------------------


# Package scope: playwright's sync API keeps an event loop running in this thread while it
# is open, and the async tests that run after tests/ui need the thread's loop free.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # launch() gives the browser a fresh temporary profile (user-data dir) of its own, and
    # each test a fresh context (no cookies carried over).
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """A browser page that records every console error and uncaught exception."""

    page: Any
    errors: list[str]


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    yield from _tab(browser, {"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any) -> Iterator[Tab]:
    yield from _tab(browser, {"width": 390, "height": 844})


def _tab(browser: Any, viewport: dict[str, int]) -> Iterator[Tab]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield Tab(page, errors)
    finally:
        context.close()
    assert errors == [], f"console errors: {errors}"


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path | None:
    """docs/ui/ when --ui-screenshots was given, else None."""
    if not request.config.getoption("--ui-screenshots"):
        return None
    DOCS_UI.mkdir(parents=True, exist_ok=True)
    return DOCS_UI
