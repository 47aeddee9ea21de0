"""The status board: server-rendered pages under /ui over the job ledger and the live vendor
answers, served by `eval-gateway serve` (templates, script and styles ship in the package;
nothing is fetched from elsewhere)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

UI_PATH = "/ui"


async def _slash(request: Request) -> Response:
    return RedirectResponse(UI_PATH, status_code=308)


def board_url(host: str, port: int) -> str:
    """The URL `eval-gateway serve` prints for the board (a wildcard bind shown as loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{UI_PATH}"


def ui_routes() -> list[BaseRoute]:
    # Imported here: the pages import gateway.server, whose app imports this package.
    from gateway.ui.login import login_page, logout
    from gateway.ui.pages import cancel_page, compare_page, job_page, jobs_page, overview_page

    return [
        Route(UI_PATH, overview_page, methods=["GET"]),
        Route(f"{UI_PATH}/", _slash, methods=["GET"]),
        Route(f"{UI_PATH}/jobs", jobs_page, methods=["GET"]),
        Route(f"{UI_PATH}/jobs/{{job_id}}", job_page, methods=["GET"]),
        Route(f"{UI_PATH}/jobs/{{job_id}}/cancel", cancel_page, methods=["GET", "POST"]),
        Route(f"{UI_PATH}/compare", compare_page, methods=["GET"]),
        Route(f"{UI_PATH}/login", login_page, methods=["GET", "POST"]),
        Route(f"{UI_PATH}/logout", logout, methods=["POST"]),
        Mount(
            f"{UI_PATH}/static",
            app=StaticFiles(packages=[("gateway.ui", "static")]),
            name="ui-static",
        ),
    ]


__all__ = ["UI_PATH", "board_url", "ui_routes"]
