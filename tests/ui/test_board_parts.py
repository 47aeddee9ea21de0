"""The board's pure parts: charts, the printed URL, the login redirect guard, the filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import QueryParams

from gateway.config import default_config
from gateway.errors import InvalidRequest
from gateway.schemas import JobStatus, Metric
from gateway.schemas.ledger import StatusChange
from gateway.ui import board_url
from gateway.ui.charts import Series, compare_rows, compare_svg, timeline_svg
from gateway.ui.login import safe_next

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def change(status: JobStatus, seconds: float) -> StatusChange:
    return StatusChange(
        job_id="ls-sim~b~j",
        status=status,
        vendor_status=status.value,
        observed_at=T0 + timedelta(seconds=seconds),
        observed_by="read",
    )


def test_the_timeline_has_a_segment_per_status_in_proportion() -> None:
    svg = timeline_svg(
        [
            change(JobStatus.QUEUED, 0),
            change(JobStatus.RUNNING, 10),
            change(JobStatus.SUCCEEDED, 40),
        ],
        T0 + timedelta(seconds=40),
        True,
    )
    assert svg.count("<rect") == 3
    assert 'class="seg s-running" x="205.0"' in svg  # 10 of 40 s across 780 px, from 10
    assert "queued then running then succeeded" in svg  # the chart's accessible name


def test_one_change_fills_the_whole_bar() -> None:
    svg = timeline_svg([change(JobStatus.SUCCEEDED, 0)], T0, True)
    assert 'width="780.0"' in svg


def test_compare_keeps_numeric_metrics_and_escapes_names() -> None:
    a = Series(
        "a",
        [Metric(name="acc", value=0.5), Metric(name="<b>", value=2), Metric(name="t", value="x")],
    )
    b = Series("b", [Metric(name="acc", value=1.0), Metric(name="ok", value=True)])
    assert compare_rows([a, b]) == [("acc", [0.5, 1.0]), ("<b>", [2.0, None])]
    svg = compare_svg([a, b])
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count('class="bar series-') == 3  # acc twice, <b> once
    assert compare_svg([Series("c", [Metric(name="t", value="x")])]) == ""


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/ui"),
        ("0.0.0.0", "http://127.0.0.1:8080/ui"),
        ("::", "http://[::1]:8080/ui"),
        ("board.internal", "http://board.internal:8080/ui"),
    ],
)
def test_serve_prints_a_reachable_board_url(host: str, url: str) -> None:
    assert board_url(host, 8080) == url


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        (None, "/ui"),
        ("/ui/jobs?status=failed", "/ui/jobs?status=failed"),
        ("https://evil.example/ui", "/ui"),
        ("//evil.example/ui", "/ui"),
        ("/\\evil.example", "/ui"),
        ("/metrics", "/ui"),
    ],
)
def test_login_only_returns_to_the_board(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_bad_filters_are_typed_400s() -> None:
    from gateway.ui.listing import parse_filter

    class Gen:
        config = default_config()

    for query in (
        "status=bogus",
        "sort=sideways",
        "page_size=0",
        "page_size=x",
        "backend=nope",
        "created_from=yesterday",
        "colour=red",
    ):
        with pytest.raises(InvalidRequest):
            parse_filter(QueryParams(query), Gen())  # type: ignore[arg-type]
    wanted = parse_filter(QueryParams("status=failed&backend=evals&name=%20mmlu%20"), Gen())  # type: ignore[arg-type]
    assert wanted.statuses == (JobStatus.FAILED,) and wanted.backends == ("evals",)
    assert wanted.name == "mmlu"
