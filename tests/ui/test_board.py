"""The status board in a real browser (Debian's chromium through playwright): what an
evaluation lead sees and does, checked against the API's own answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.ui.conftest import BULK_JOBS, Board, Tab

PAGES = ("/ui", "/ui/jobs", "/ui/compare")


def counts_of(page: Any) -> dict[str, int]:
    tiles = page.locator("#status-counts a.tile")
    return {
        tiles.nth(i).get_attribute("data-status"): int(tiles.nth(i).get_attribute("data-count"))
        for i in range(tiles.count())
    }


def test_overview_counts_match_the_api(board: Board, tab: Tab) -> None:
    before = board.api.get("/v1/jobs", params={"page_size": 1}).json()["counts"]
    tab.page.goto(f"{board.url}/ui")
    shown = counts_of(tab.page)
    after = board.api.get("/v1/jobs", params={"page_size": 1}).json()["counts"]
    expected = [{s: c.get(s, 0) for s in shown} for c in (before, after)]
    assert shown in expected
    assert sum(shown.values()) >= BULK_JOBS
    # Backends: the same health and circuit as /v1/backends, each with its ledger total.
    for backend in board.api.get("/v1/backends").json()["backends"]:
        row = tab.page.locator(f"#backends tr[data-backend='{backend['name']}']")
        assert row.locator(".circuit").inner_text().replace(" ", "_") == backend["circuit"]
        assert row.locator(".health").inner_text() == backend["health"]["state"]
        listed = board.api.get("/v1/jobs", params={"backend": backend["name"], "page_size": 1})
        total = sum(listed.json()["counts"].values())
        assert int(row.locator("td[data-count]").get_attribute("data-count")) == total
    # Running jobs carry a progress cell and an elapsed time; failures their problem title.
    assert tab.page.locator("#running tr[data-job]").count() >= 1
    first_failure = tab.page.locator("#failures li").first
    assert first_failure.locator(".ptitle").inner_text().strip()


def test_filters_search_and_paging_through_1200_jobs(board: Board, tab: Tab) -> None:
    page = tab.page
    page.goto(f"{board.url}/ui/jobs?page_size=200")
    assert page.locator("#jobs tbody tr").count() == 200
    first_ids = page.locator("#jobs tbody tr").evaluate_all("rows => rows.map(r => r.dataset.job)")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**page=2**")
    second_ids = page.locator("#jobs tbody tr").evaluate_all("rows => rows.map(r => r.dataset.job)")
    assert len(second_ids) == 200 and not set(first_ids) & set(second_ids)
    assert "Jobs 201\u2013400 of" in page.locator("#jobs-summary").inner_text()

    # Status filter, by keyboard-reachable checkboxes; the count is the API's.
    page.goto(f"{board.url}/ui/jobs")
    page.get_by_label("failed", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**status=failed**")
    statuses = set(page.locator("#jobs tbody tr").evaluate_all("r => r.map(x => x.dataset.status)"))
    assert statuses == {"failed"}
    api = board.api.get("/v1/jobs", params={"status": "failed", "page_size": 1}).json()
    assert (
        int(page.locator("#jobs-summary").get_attribute("data-matching")) == api["counts"]["failed"]
    )

    # A window of creation days (UTC, both included), typed into the date inputs.
    today = datetime.now(UTC).date()
    page.goto(f"{board.url}/ui/jobs")
    page.get_by_label("Created from (UTC day)").fill(today.isoformat())
    page.get_by_label("Created to (UTC day)").fill(today.isoformat())
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**created_to=**")
    window = {
        "created_after": f"{today.isoformat()}T00:00:00Z",
        "created_before": f"{(today + timedelta(days=1)).isoformat()}T00:00:00Z",
        "page_size": 1,
    }
    api_total = sum(board.api.get("/v1/jobs", params=window).json()["counts"].values())
    shown = int(page.locator("#jobs-summary").get_attribute("data-matching"))
    assert (
        0
        < shown
        == api_total
        < sum(board.api.get("/v1/jobs", params={"page_size": 1}).json()["counts"].values())
    )

    # Search by name.
    page.goto(f"{board.url}/ui/jobs")
    page.get_by_label("Name contains").fill("bulk run 000123")
    page.get_by_label("Name contains").press("Enter")
    page.wait_for_url("**name=bulk**")
    rows = page.locator("#jobs tbody tr")
    assert rows.count() == 1
    assert "bulk run 000123" in rows.first.inner_text()


def test_a_running_job_turns_succeeded_on_the_open_page(board: Board, tab: Tab) -> None:
    board.sim_clock(freeze=True)
    try:
        job_id = board.new_remote_job(
            [{"status": "in_progress", "seconds": 3600}, {"status": "completed"}]
        )
        page = tab.page
        page.goto(f"{board.url}/ui/jobs/{quote(job_id)}")
        status = page.locator("#job-status .badge").first
        assert status.get_attribute("data-status") == "running"
        page.evaluate("window.__no_reload = true")
        # A second tab on the jobs table: its row follows the ledger without a reload.
        table = page.context.new_page()
        table.goto(f"{board.url}/ui/jobs?backend=ls-remote")
        table.evaluate("window.__no_reload = true")
        row = table.locator(f"#jobs tr[data-job='{job_id}']")
        assert row.get_attribute("data-status") == "running"

        board.sim_clock(advance=7200)

        page.locator("#job-status .badge[data-status='succeeded']").wait_for()
        assert page.evaluate("window.__no_reload") is True
        assert page.locator("#job-status .vendor-word").first.inner_text() == "completed"
        table.locator(f"#jobs tr[data-job='{job_id}'][data-status='succeeded']").wait_for()
        assert table.evaluate("window.__no_reload") is True
        # The timeline now has both statuses.
        page.locator("svg.timeline rect.s-succeeded").wait_for()
        assert page.locator("svg.timeline rect.s-running").count() == 1
        table.close()
    finally:
        board.sim_clock(freeze=False)


def test_the_jobs_table_alone_follows_the_vendor(board: Board, tab: Tab) -> None:
    """No job page open, no refresher: the table's own poll reads its moving rows."""
    board.sim_clock(freeze=True)
    try:
        job_id = board.new_remote_job(
            [
                {"status": "scheduled", "seconds": 60},
                {"status": "in_progress", "seconds": 60},
                {"status": "completed"},
            ]
        )
        board.api.get(f"/v1/jobs/{job_id}")  # seen once, so the ledger lists it
        page = tab.page
        page.goto(f"{board.url}/ui/jobs?backend=ls-remote&sort=-created")
        row = page.locator(f"#jobs tr[data-job='{job_id}']")
        row.wait_for()
        page.evaluate("window.__no_reload = true")
        board.sim_clock(advance=90)
        page.locator(f"#jobs tr[data-job='{job_id}'][data-status='running']").wait_for()
        board.sim_clock(advance=90)
        page.locator(f"#jobs tr[data-job='{job_id}'][data-status='succeeded']").wait_for()
        assert page.evaluate("window.__no_reload") is True
    finally:
        board.sim_clock(freeze=False)


def test_cancel_asks_first_then_cancels(board: Board, tab: Tab) -> None:
    job_id = board.new_remote_job([{"status": "in_progress"}])
    page = tab.page
    page.goto(f"{board.url}/ui/jobs/{quote(job_id)}")
    page.get_by_role("link", name="Cancel job…").click()
    page.get_by_role("heading", name="Cancel this job?").wait_for()
    assert board.api.get(f"/v1/jobs/{job_id}").json()["status"] == "running"  # not yet
    page.get_by_role("button", name="Yes, cancel the job").click()
    page.wait_for_url("**cancelled=1**")
    assert "Cancel sent" in page.locator(".banner.ok").inner_text()
    # The vendor got the cancel (Llama Stack ends a cancelled job `failed` or `cancelled`),
    # and the page shows what the API says of the job now.
    after = board.api.get(f"/v1/jobs/{job_id}").json()
    assert after["vendor_status"] != "in_progress" and after["terminal"]
    shown = page.locator("#job-status .badge").first.get_attribute("data-status")
    assert shown == after["status"]


def test_no_cancel_offered_where_the_vendor_has_none(board: Board, tab: Tab) -> None:
    listed = board.api.get("/v1/jobs", params={"backend": "do-sim", "page_size": 100}).json()
    running = next(
        j["id"]
        for j in listed["items"]
        if not board.api.get(f"/v1/jobs/{j['id']}").json()["terminal"]
    )
    tab.page.goto(f"{board.url}/ui/jobs/{quote(running)}")
    assert tab.page.locator("#cancel-link").count() == 0
    assert "this vendor has no cancel" in tab.page.locator(".job-head").inner_text()


def test_a_failed_job_shows_its_problem(board: Board, tab: Tab) -> None:
    failed = next(i for i in board.seeded_ls if i.endswith("eval-failed"))
    error = board.api.get(f"/v1/jobs/{failed}").json()["error"]
    tab.page.goto(f"{board.url}/ui/jobs/{quote(failed)}")
    box = tab.page.locator("section.problem").first
    assert box.locator("h2").inner_text() == f"Failed: {error['title']}"
    assert box.locator(".detail").inner_text() == error["detail"]
    assert "What to do:" in box.inner_text()
    assert "Traceback" not in tab.page.content()


def test_compare_draws_the_metrics_of_picked_jobs(board: Board, tab: Tab) -> None:
    done = board.api.get(
        "/v1/jobs", params={"status": "succeeded", "backend": "ls-sim", "page_size": 500}
    ).json()["items"]
    with_metrics = [j["id"] for j in done if "bulk" not in j["id"]][:2]
    assert len(with_metrics) == 2
    page = tab.page
    page.goto(f"{board.url}/ui/jobs?backend=ls-sim&status=succeeded&page_size=200")
    for job_id in with_metrics:
        page.locator(f"#jobs tr[data-job='{job_id}'] input[type=checkbox]").check()
    page.get_by_role("button", name="Compare picked jobs").click()
    page.wait_for_url("**/ui/compare?**")
    assert page.locator("#legend li").count() == 2
    bars = page.locator("svg.compare rect.bar")
    assert bars.count() >= 2
    assert {bars.nth(i).get_attribute("class") for i in range(bars.count())} >= {
        "bar series-0",
        "bar series-1",
    }
    assert all(float(bars.nth(i).get_attribute("width")) > 0 for i in range(bars.count()))


def test_controls_are_labelled_and_reachable_by_keyboard(board: Board, tab: Tab) -> None:
    page = tab.page
    for path in PAGES:
        page.goto(f"{board.url}{path}")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !el.textContent.trim())
                .map(el => el.outerHTML)"""
        )
        assert unlabelled == [], f"{path}: {unlabelled}"
    page.goto(f"{board.url}/ui/jobs")
    reached: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || e.getAttribute('aria-label') || e.textContent.trim(); }"
            )
        )
    assert {"f-name", "Apply", "Jobs"} <= reached
    assert any(r.startswith("pick-") for r in reached)  # a row's compare checkbox


def test_auth_off_is_said_on_every_page(board: Board, tab: Tab) -> None:
    job = board.seeded_ls[0]
    for path in (*PAGES, f"/ui/jobs/{quote(job)}"):
        tab.page.goto(f"{board.url}{path}")
        assert "Caller auth is off." in tab.page.locator(".banner.warn").inner_text()


def test_pages_fit_a_phone(board: Board, phone: Tab) -> None:
    for path in (*PAGES, f"/ui/jobs/{quote(board.seeded_ls[0])}"):
        phone.page.goto(f"{board.url}{path}")
        overflow = phone.page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        wide = phone.page.evaluate(
            "() => [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".slice(0, 5).map(e => e.outerHTML.slice(0, 120))"
        )
        assert overflow <= 1, f"{path} is {overflow}px wider than the phone: {wide}"


def test_a_bad_query_is_a_readable_problem_not_a_stack(board: Board, tab: Tab) -> None:
    answer = tab.page.goto(f"{board.url}/ui/jobs?sort=sideways")
    assert answer is not None and answer.status == 400
    tab.errors.clear()  # the browser logs the 400 itself
    box = tab.page.locator("section.problem")
    assert "Invalid request" in box.locator("h2").inner_text()
    assert "sort must be one of" in box.inner_text()
    assert "What to do:" in box.inner_text()
    assert "Traceback" not in tab.page.content()


def test_screenshots(board: Board, tab: Tab, screenshots: Path | None) -> None:
    """`pytest tests/ui -k screenshots --ui-screenshots` refreshes docs/ui/*.png."""
    if screenshots is None:
        import pytest

        pytest.skip("pass --ui-screenshots to refresh docs/ui/")
    done = next(i for i in board.seeded_ls if i.endswith("eval-completed"))
    others = board.api.get(
        "/v1/jobs", params={"status": "succeeded", "backend": "ls-sim", "page_size": 500}
    ).json()["items"]
    pair = [done, *[j["id"] for j in others if "bulk" not in j["id"] and j["id"] != done][:1]]
    shots = {
        "overview": "/ui",
        "jobs": "/ui/jobs",
        "job": f"/ui/jobs/{quote(done)}",
        "compare": "/ui/compare?" + "&".join(f"job={quote(j)}" for j in pair),
    }
    for name, path in shots.items():
        tab.page.goto(f"{board.url}{path}")
        tab.page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_per_row_scores_are_paged_and_the_raw_payload_comes_on_request(
    board: Board, tab: Tab
) -> None:
    done = board.api.get(
        "/v1/jobs", params={"backend": "do-sim", "status": "succeeded", "page_size": 50}
    ).json()["items"]
    job_id = next(
        j["id"]
        for j in done
        if len(board.api.get(f"/v1/jobs/{j['id']}/result").json()["rows"]) >= 3
    )
    page = tab.page
    page.goto(f"{board.url}/ui/jobs/{quote(job_id)}?rows_per_page=2")
    first = page.locator("#rows tbody tr").all_inner_texts()
    assert len(first) == 2
    page.get_by_role("link", name="Next rows").click()
    page.wait_for_url("**rows_page=2**")
    second = page.locator("#rows tbody tr").all_inner_texts()
    assert len(second) in (1, 2) and not set(first) & set(second)
    assert page.get_by_role("link", name="First rows").count() == 1

    assert page.locator("pre.raw").count() == 0  # not unless asked for
    page.get_by_role("link", name="Show the vendor's raw payload").click()
    page.wait_for_url("**raw=1**")
    raw = page.locator("pre.raw").inner_text()
    vendor = board.api.get(f"/v1/jobs/{job_id}", params={"include": "raw"}).json()["raw"]
    assert all(f'"{key}"' in raw for key in vendor)


def test_serve_prints_the_board_url(board: Board) -> None:
    assert f"status board: {board.url}/ui" in board.proc.log_text()
