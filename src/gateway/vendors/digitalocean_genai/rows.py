"""DigitalOcean GenAI results: metric results, prompts as rows, and paging the results pages.

`GET .../results?page=&per_page=` (API.md §3-4) pages the prompts; each caller page is one
vendor page. A vendor page count is a claim, not evidence (`meta.pages` around 1e15 is
schema-valid), so the walk stops on evidence: an empty or short page, a page equal to the one
before, or more rows than the run's test case dataset has (`dataset.row_count`) or than
`meta.total` says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.adapters.result_pages import cursor_int
from gateway.adapters.wire import boolean, dig, integer, items, number, obj, text
from gateway.errors import InvalidRequest
from gateway.schemas import Metric, ResultRow
from gateway.vendors.digitalocean_genai.spec import MAX_PER_PAGE

ValueType = Literal["number", "percentage", "string", "boolean"]
_VALUE_TYPES: dict[str, ValueType] = {
    "METRIC_VALUE_TYPE_NUMBER": "number",
    "METRIC_VALUE_TYPE_PERCENTAGE": "percentage",
    "METRIC_VALUE_TYPE_STRING": "string",
}
STAR_METRIC_GROUP = "star_metric"


def to_metric(payload: Any, group: str | None = None) -> Metric | None:
    """One `apiEvaluationMetricResult`; None when it names no metric."""
    result = obj(payload)
    name = text(result.get("metric_name")) or text(result.get("metric_uuid"))
    if name is None:
        return None
    raw_type = result.get("metric_value_type")
    value_type = _VALUE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
    string_value = result.get("string_value")
    value: float | str | None
    if value_type == "string":
        value = string_value if isinstance(string_value, str) else None
    elif value_type is not None:
        value = number(result.get("number_value"))
    else:
        # UNSPECIFIED (the spec's own example) or an unknown type: take whichever value is set.
        value = number(result.get("number_value"))
        if value is not None:
            value_type = "number"
        elif isinstance(string_value, str):
            value, value_type = string_value, "string"
    return Metric(
        name=name,
        value=value,
        value_type=value_type,
        group=group,
        detail=text(result.get("reasoning")) or text(result.get("error_description")),
    )


def run_metrics(run: Mapping[str, Any]) -> list[Metric]:
    """The star metric (+ its pass status) and the run-level metric results."""
    metrics: list[Metric] = []
    star = to_metric(run.get("star_metric_result"), STAR_METRIC_GROUP)
    if star is not None:
        metrics.append(star)
    passed = boolean(run.get("pass_status"))
    if passed is not None:
        metrics.append(
            Metric(name="pass_status", value=passed, value_type="boolean", group=STAR_METRIC_GROUP)
        )
    for entry in items(run.get("run_level_metric_results")):
        metric = to_metric(entry)
        if metric is not None:
            metrics.append(metric)
    return metrics


def to_row(index: int, payload: Any) -> ResultRow:
    """One `apiPrompt` -> ResultRow (token counts are uint64 strings on the wire)."""
    prompt = obj(payload)
    data: dict[str, Any] = {}
    for key in ("input_tokens", "output_tokens"):
        count = integer(prompt.get(key))
        if count is not None:
            data[key] = count
    trace_id = text(prompt.get("trace_id"))
    if trace_id is not None:
        data["trace_id"] = trace_id
    for key in ("prompt_chunks", "evaluation_trace_spans"):
        if items(prompt.get(key)):
            data[key] = prompt[key]
    scores = [m for m in map(to_metric, items(prompt.get("prompt_level_metric_results"))) if m]
    return ResultRow(
        index=index,
        id=text(prompt.get("prompt_id")),
        input=prompt.get("input"),
        output=prompt.get("output"),
        expected=prompt.get("ground_truth"),
        scores=scores,
        data=data,
    )


def more_pages(page: Mapping[str, Any], number_asked: int) -> bool:
    """Whether a results page says another follows: `meta.pages`, else `links.pages.next`."""
    if not items(page.get("prompts")):
        return False  # an empty page ends the walk, whatever the meta claims
    pages = integer(dig(page, "meta", "pages"))
    if pages is not None:
        return number_asked < pages
    # GenAI spells the link `next` (and `previous`, where the generic API says `prev`).
    return text(dig(page, "links", "pages", "next")) is not None


@dataclass(frozen=True)
class ResultsCursor:
    """Where a results walk stands: the next vendor page, its size, the rows returned so far,
    the fingerprint of the last page and the run's row bound (when known)."""

    page: int
    per_page: int
    rows: int
    last: str
    limit: int | None

    @classmethod
    def parse(cls, cursor: Mapping[str, Any]) -> ResultsCursor:
        last, limit = cursor.get("last"), cursor.get("limit")
        if not isinstance(last, str) or not (limit is None or cursor_int(cursor, "limit") >= 0):
            raise InvalidRequest("page_token does not belong to this result")
        return cls(
            page=cursor_int(cursor, "page", minimum=2),
            per_page=cursor_int(cursor, "per_page", minimum=1, maximum=MAX_PER_PAGE),
            rows=cursor_int(cursor, "rows"),
            last=last,
            limit=limit,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "rows": self.rows,
            "last": self.last,
            "limit": self.limit,
        }


def fingerprint(prompts: list[Any]) -> str:
    """A short digest of a page's prompts: the same page served twice has the same one."""
    encoded = json.dumps(prompts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]


def row_bound(*claims: int | None) -> int | None:
    """The smallest of the known bounds on a run's rows (negative claims are no bound)."""
    known = [claim for claim in claims if claim is not None and claim >= 0]
    return min(known) if known else None
