"""Llama Stack results: aggregated metrics and per-row scores from an `EvaluateResponse`.

`scores` maps each scoring function to `{score_rows, aggregated_results}`. The builtin
provider's aggregated results are small nested objects; the `remote::nvidia` provider's are
a whole NeMo `EvaluationResult` (API.md §6). Both are flattened into readable metrics here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from gateway.adapters.wire import dig, items, obj
from gateway.schemas import Metric, MetricValue, ResultRow

# A NeMo EvaluationResult nests groups in groups; fuzzed input may nest far deeper.
_MAX_DEPTH = 8


def result_rows(generations: Any, scores: Mapping[str, Any]) -> list[ResultRow]:
    """Row i: generations[i], scored by every scoring function's score_rows[i]."""
    outputs = items(generations)
    score_rows = {fn: items(dig(result, "score_rows")) for fn, result in scores.items()}
    count = max([len(outputs), *(len(rows) for rows in score_rows.values())], default=0)
    rows: list[ResultRow] = []
    for index in range(count):
        generation = obj(outputs[index]) if index < len(outputs) else {}
        row_scores: list[Metric] = []
        for scoring_fn, fn_rows in score_rows.items():
            if index < len(fn_rows):
                row_scores.extend(flatten_metrics(obj(fn_rows[index]), group=scoring_fn))
        rows.append(
            ResultRow(
                index=index,
                # `generated_answer` is the builtin provider's key for the candidate's answer;
                # generations are free-form objects, so read it leniently.
                output=generation.get("generated_answer"),
                scores=row_scores,
                data={k: v for k, v in generation.items() if k != "generated_answer"},
            )
        )
    return rows


ValueType = Literal["number", "percentage", "string", "boolean"]


def _finite(value: Any) -> float | int | None:
    """A JSON number (never a bool); non-finite ones become null."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(value: Any) -> tuple[MetricValue, ValueType | None] | None:
    """(value, value_type) of a JSON scalar; None for objects and arrays."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, "boolean"
    if _is_number(value):
        return _finite(value), "number"
    if isinstance(value, str):
        return value, "string"
    return None


def _stats(mapping: Mapping[str, Any], skip: str | None = None) -> dict[str, float | int | None]:
    return {k: _finite(v) for k, v in mapping.items() if k != skip and _is_number(v)}


def flatten_metrics(
    mapping: Mapping[str, Any], *, group: str, name: str | None = None, depth: int = 0
) -> list[Metric]:
    """Metrics from nested aggregated results, named by dotted path.

    A child named like its parent is the parent's headline value and its numeric siblings its
    stats: builtin `{"accuracy": {"accuracy": 0.5, "num_correct": 1, "num_total": 2}}` is one
    metric `accuracy` = 0.5 with stats, and `{"categorical_count": {"categorical_count":
    {"A": 2}}}` is `categorical_count.A`. Lists are left to `raw`."""
    if depth > _MAX_DEPTH:
        return []
    last = name.rsplit(".", 1)[-1] if name is not None else None
    metrics: list[Metric] = []
    rest: Mapping[str, Any] = mapping
    headline = mapping.get(last) if last is not None else None
    if name is not None and _is_number(headline):
        stats = _stats(mapping, skip=last)
        metrics.append(
            Metric(
                name=name,
                value=_finite(headline),
                value_type="number",
                group=group,
                stats=stats or None,
            )
        )
        rest = {k: v for k, v in mapping.items() if k != last and k not in stats}
    for key, child in rest.items():
        if last is not None and key == last:
            child_name = name
        else:
            child_name = key if name is None else f"{name}.{key}"
        if isinstance(child, dict):
            metrics.extend(flatten_metrics(child, group=group, name=child_name, depth=depth + 1))
            continue
        scalar = _scalar(child)
        if scalar is not None and child_name is not None:
            value, value_type = scalar
            metrics.append(Metric(name=child_name, value=value, value_type=value_type, group=group))
    return metrics


def is_nemo_result(aggregated: Mapping[str, Any]) -> bool:
    """remote::nvidia puts NeMo's whole EvaluationResult here (API.md §6); the builtin
    aggregation functions never produce `tasks` or `groups`."""
    return isinstance(aggregated.get("tasks"), dict) or isinstance(aggregated.get("groups"), dict)


def nemo_metrics(scoring_fn: str, result: Mapping[str, Any]) -> list[Metric]:
    """Metrics of a NeMo EvaluationResult: group `<scoring fn>/<task or group>`, name
    `<metric>.<score>` (just `<metric>` where the score is named like it)."""
    metrics: list[Metric] = []
    for task, task_result in obj(result.get("tasks")).items():
        metrics.extend(_nemo_scores(obj(dig(task_result, "metrics")), f"{scoring_fn}/{task}"))
    metrics.extend(_nemo_groups(obj(result.get("groups")), scoring_fn, 0))
    return metrics


def _nemo_groups(groups: Mapping[str, Any], prefix: str, depth: int) -> list[Metric]:
    metrics: list[Metric] = []
    if depth > _MAX_DEPTH:
        return metrics
    for name, group_result in groups.items():
        group = f"{prefix}/{name}"
        metrics.extend(_nemo_scores(obj(dig(group_result, "metrics")), group))
        metrics.extend(_nemo_groups(obj(dig(group_result, "groups")), group, depth + 1))
    return metrics


def _nemo_scores(metric_results: Mapping[str, Any], group: str) -> list[Metric]:
    metrics: list[Metric] = []
    for metric, metric_result in metric_results.items():
        for score_name, score in obj(dig(metric_result, "scores")).items():
            stats = _stats(obj(dig(score, "stats")))
            metrics.append(
                Metric(
                    name=metric if score_name == metric else f"{metric}.{score_name}",
                    value=_finite(dig(score, "value")),
                    value_type="number",
                    group=group,
                    stats=stats or None,
                )
            )
    return metrics
