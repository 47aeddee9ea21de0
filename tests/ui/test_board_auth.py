"""The board with caller auth on: the API's own keys through a login form, an HttpOnly
SameSite=Strict cookie, a limited key's scope, and CSRF-checked forms."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.ui.conftest import FULL_KEY, LS_ONLY_KEY, Board, Tab


def log_in(tab: Tab, board: Board, key: str, path: str = "/ui") -> None:
    tab.page.goto(f"{board.url}{path}")
    tab.page.wait_for_url("**/ui/login?next=**")
    tab.page.get_by_label("API key").fill(key)
    tab.page.get_by_role("button", name="Log in").click()


def test_login_sets_a_strict_httponly_cookie_and_shows_no_secret(
    locked_board: Board, tab: Tab
) -> None:
    log_in(tab, locked_board, FULL_KEY, "/ui/jobs")
    tab.page.wait_for_url("**/ui/jobs")
    assert tab.page.locator(".who strong").inner_text() == "lead"
    cookie = next(c for c in tab.page.context.cookies() if c["name"] == "egw_key")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/ui"
    assert FULL_KEY not in tab.page.content()
    assert tab.page.evaluate("document.cookie").find(FULL_KEY) == -1
    assert tab.page.locator(".banner.warn").count() == 0  # auth is on: no warning banner
    # Logging out drops the cookie; the board asks for a key again.
    tab.page.get_by_role("button", name="Log out").click()
    tab.page.wait_for_url("**/ui/login")
    assert not [c for c in tab.page.context.cookies() if c["name"] == "egw_key"]
    tab.page.goto(f"{locked_board.url}/ui")
    tab.page.wait_for_url("**/ui/login?next=**")


def test_a_wrong_key_is_refused_with_its_problem(locked_board: Board, tab: Tab) -> None:
    log_in(tab, locked_board, "not-a-key-of-this-gateway-at-all")
    box = tab.page.locator("section.problem")
    assert "Unauthorized" in box.locator("h2").inner_text()
    assert "the API key is not valid" in box.inner_text()
    assert not [c for c in tab.page.context.cookies() if c["name"] == "egw_key"]
    # The browser logs the 401 answer itself (whenever its console event arrives); any
    # other console error still fails the test.
    tab.errors[:] = [e for e in tab.errors if "status of 401" not in e]


def test_a_limited_key_sees_only_its_backends(locked_board: Board, tab: Tab) -> None:
    log_in(tab, locked_board, LS_ONLY_KEY)
    tab.page.wait_for_url(f"{locked_board.url}/ui")
    rows = tab.page.locator("#backends tr[data-backend]")
    assert rows.evaluate_all("r => r.map(x => x.dataset.backend)") == ["ls-sim"]
    scoped = httpx.get(
        f"{locked_board.url}/v1/jobs",
        params={"page_size": 1},
        headers={"Authorization": f"Bearer {LS_ONLY_KEY}"},
    ).json()["counts"]
    shown = tab.page.locator("#status-counts a.tile").evaluate_all(
        "t => Object.fromEntries(t.map(x => [x.dataset.status, Number(x.dataset.count)]))"
    )
    assert shown == {s: scoped.get(s, 0) for s in shown}
    tab.page.goto(f"{locked_board.url}/ui/jobs?page_size=200")
    backends = set(
        tab.page.locator("#jobs tbody tr").evaluate_all(
            "r => r.map(x => x.dataset.job.split('~')[0])"
        )
    )
    assert backends == {"ls-sim"}
    # Another backend's job page is the forbidden problem, not its data.
    other = locked_board.api.get("/v1/jobs", params={"backend": "do-sim", "page_size": 1})
    answer = tab.page.goto(f"{locked_board.url}/ui/jobs/{quote(other.json()['items'][0]['id'])}")
    tab.errors.clear()
    assert answer is not None and answer.status == 403
    assert "Forbidden" in tab.page.locator("section.problem h2").inner_text()


def test_posts_without_the_csrf_token_are_refused(locked_board: Board) -> None:
    job_id = locked_board.new_remote_job([{"status": "in_progress"}])
    with httpx.Client(base_url=locked_board.url, follow_redirects=False) as browser:
        form = browser.get("/ui/login")
        assert form.status_code == 200 and "egw_csrf" in browser.cookies
        token = browser.cookies["egw_csrf"]
        # Login without the token: refused, no cookie set.
        refused = browser.post("/ui/login", data={"api_key": FULL_KEY, "next": "/ui"})
        assert refused.status_code == 403 and "egw_key" not in refused.cookies
        done = browser.post(
            "/ui/login", data={"api_key": FULL_KEY, "next": "/ui", "csrf_token": token}
        )
        assert done.status_code == 303 and done.headers["location"] == "/ui"
        # Logged in, a cancel without the token (or from another origin) does nothing.
        path = f"/ui/jobs/{quote(job_id)}/cancel"
        assert browser.post(path, data={}).status_code == 403
        forged = browser.post(
            path, data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
        )
        assert forged.status_code == 403
        assert "another site" in forged.text
        assert locked_board.api.get(f"/v1/jobs/{job_id}").json()["vendor_status"] == "in_progress"


def test_login_never_redirects_off_the_board(locked_board: Board) -> None:
    with httpx.Client(base_url=locked_board.url, follow_redirects=False) as browser:
        browser.get("/ui/login")
        token = browser.cookies["egw_csrf"]
        for target in ("https://evil.example/ui", "//evil.example/ui", "/v1/backends"):
            done = browser.post(
                "/ui/login", data={"api_key": FULL_KEY, "next": target, "csrf_token": token}
            )
            assert done.headers["location"] == "/ui", target
