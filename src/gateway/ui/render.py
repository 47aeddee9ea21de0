"""Jinja2 templates of the board (package data) and the small filters they use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.schemas import Metric, ProblemType
from gateway.ui import charts
from gateway.ui.session import CSRF_FIELD, csrf_token

# Pages carry private data and run only our own files: no caching, no inline script, no
# framing, forms post only back here.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def duration(seconds: float | None) -> str:
    """`42s`, `3m 05s`, `2h 07m`, `3d 4h`: short enough for a table cell."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def since(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "-"
    return duration(((now or datetime.now(UTC)) - moment).total_seconds())


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def metric_value(metric: Metric) -> str:
    value = metric.value
    if value is None:
        return "-"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text} {metric.unit}" if metric.unit else text


def percent(progress: float | None) -> str:
    return "-" if progress is None else f"{progress * 100:.0f}%"


def explain(slug: str | None) -> str:
    """What a problem type means and what to do about it (the catalog's explanation)."""
    try:
        return ProblemType.from_slug(slug or "").explanation
    except KeyError:
        return ""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.ui", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=duration,
        since=since,
        when=when,
        metric_value=metric_value,
        percent=percent,
        metric_key=charts.metric_key,
    )
    env.globals.update(
        timeline_svg=lambda *a: Markup(charts.timeline_svg(*a)),  # escaped inside
        compare_svg=lambda *a: Markup(charts.compare_svg(*a)),
        compare_rows=charts.compare_rows,
        csrf_field=CSRF_FIELD,
        explain=explain,
    )
    return env


ENV = _environment()


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """A rendered template with what every page needs (auth state, CSRF token, nav)."""
    if context.get("fragment"):
        template = f"live/{template}"
    full = {"request": request, "csrf_token": csrf_token(request), **context}
    body = ENV.get_template(template).render(full)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
