"""Small SVG charts drawn on the server (no chart library, no script needed to see them):
the status timeline of a job and the metrics of compared jobs side by side. Colours come
from CSS classes (`s-<status>`, `series-<n>`), so the page's stylesheet owns the palette."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from gateway.schemas import Metric
from gateway.schemas.ledger import StatusChange

TIMELINE_WIDTH = 800
TIMELINE_HEIGHT = 70
BAR_Y, BAR_H = 18, 22
SERIES_COLOURS = 8


def _hhmmss(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def timeline_svg(changes: list[StatusChange], now: datetime, terminal: bool) -> str:
    """One bar across time, a segment per status held, a dot per observed change."""
    if not changes:
        return ""
    start = changes[0].observed_at
    end = changes[-1].observed_at if terminal else max(now, changes[-1].observed_at)
    span = (end - start).total_seconds()
    usable = TIMELINE_WIDTH - 20

    def x(moment: datetime) -> float:
        if span < 1e-3:  # everything seen at once: the last status takes the whole bar
            return 10.0 if moment < end or moment == start else 10.0 + usable
        return 10 + usable * (moment - start).total_seconds() / span

    parts = [
        f'<svg class="timeline" viewBox="0 0 {TIMELINE_WIDTH} {TIMELINE_HEIGHT}" role="img" '
        f'aria-label="Status timeline: {escape(" then ".join(c.status.value for c in changes))}"'
        ' preserveAspectRatio="none">'
    ]
    for i, change in enumerate(changes):
        left = x(change.observed_at)
        right = x(changes[i + 1].observed_at) if i + 1 < len(changes) else 10.0 + usable
        width = max(right - left, 3.0)
        label = f"{change.status.value} ({change.vendor_status or '-'}) from " + _hhmmss(
            change.observed_at
        )
        parts.append(
            f'<rect class="seg s-{change.status.value}" x="{left:.1f}" y="{BAR_Y}" '
            f'width="{width:.1f}" height="{BAR_H}"><title>{escape(label)}</title></rect>'
        )
        parts.append(
            f'<circle class="mark" cx="{left:.1f}" cy="{BAR_Y + BAR_H + 8}" r="3">'
            f"<title>{escape(label)} by {change.observed_by}</title></circle>"
        )
    parts.append(
        f'<text class="axis" x="10" y="12">{_hhmmss(start)}</text>'
        f'<text class="axis" x="{TIMELINE_WIDTH - 10}" y="12" text-anchor="end">'
        f"{_hhmmss(end)}</text></svg>"
    )
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    label: str
    metrics: list[Metric]


def metric_key(metric: Metric) -> str:
    return f"{metric.group}/{metric.name}" if metric.group else metric.name


def numeric(metric: Metric) -> float | None:
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def compare_rows(series: list[Series], limit: int = 30) -> list[tuple[str, list[float | None]]]:
    """(metric, value per series) for every numeric metric any series has, first seen first."""
    keys: dict[str, None] = {}
    tables = []
    for one in series:
        table = {metric_key(m): numeric(m) for m in one.metrics}
        tables.append(table)
        keys.update({k: None for k, v in table.items() if v is not None})
    return [(k, [t.get(k) for t in tables]) for k in list(keys)[:limit]]


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1) :]


def compare_svg(series: list[Series]) -> str:
    """Grouped horizontal bars: a group per metric, a bar per job, each group scaled to its own
    largest value (metrics of different units stay readable side by side)."""
    rows = compare_rows(series)
    if not rows:
        return ""
    label_w, bar_h, gap, width = 220, 14, 12, 800
    n = len(series)
    group_h = n * bar_h + gap
    height = 10 + len(rows) * group_h
    usable = width - label_w - 90
    parts = [
        f'<svg class="compare" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Metrics of {n} jobs side by side">'
    ]
    for r, (key, values) in enumerate(rows):
        top = 10 + r * group_h
        parts.append(
            f'<text class="metric-name" x="{label_w - 8}" y="{top + n * bar_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(_short(key))}</text>'
        )
        scale = max((abs(v) for v in values if v is not None), default=0.0) or 1.0
        for i, value in enumerate(values):
            y = top + i * bar_h
            if value is None:
                parts.append(
                    f'<text class="missing" x="{label_w + 4}" y="{y + bar_h - 3}">no value</text>'
                )
                continue
            length = max(usable * abs(value) / scale, 1.0)
            title = f"{series[i].label}: {key} = {value:g}"
            parts.append(
                f'<rect class="bar series-{i % SERIES_COLOURS}" x="{label_w}" y="{y + 1}" '
                f'width="{length:.1f}" height="{bar_h - 2}"><title>{escape(title)}</title></rect>'
                f'<text class="value" x="{label_w + length + 4:.1f}" y="{y + bar_h - 3}">'
                f"{value:.4g}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
