"""NeMo Evaluator metrics, for v1 and v2 alike: progress counters and aggregated results.

Both versions nest results the same way (EvaluationResult v1, EvaluationResultV2): `{tasks?,
groups?}`, each with `metrics: {metric: {scores: {score: {value, stats}}}}`.
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.wire import dig, integer, number, obj
from gateway.schemas import Metric

# Nested `groups` inside a GroupResult are free-form; follow them this deep at most.
_MAX_GROUP_DEPTH = 8


def verbatim(value: Any) -> str | None:
    """The vendor's status word exactly as sent (None when missing or not a string)."""
    return value if isinstance(value, str) and value.strip() else None


def progress_metrics(details: dict[str, Any]) -> list[Metric]:
    """Summary counters NeMo puts in `status_details`: samples processed and per-task status."""
    metrics: list[Metric] = []
    samples = integer(details.get("samples_processed"))
    if samples is not None:
        metrics.append(
            Metric(name="samples_processed", value=samples, value_type="number", unit="samples")
        )
    for task, word in obj(details.get("task_status")).items():
        if (status := verbatim(word)) is not None:
            metrics.append(
                Metric(name="task_status", value=status, value_type="string", group=str(task))
            )
    return metrics


def _score_stats(value: Any) -> dict[str, float | int | None] | None:
    """ScoreStats (count, sum, mean, stderr...) kept as numbers; other entries dropped."""
    stats: dict[str, float | int | None] = {}
    for key, raw in obj(value).items():
        if isinstance(raw, int) and not isinstance(raw, bool):
            stats[str(key)] = raw  # counts stay integers
        elif (parsed := number(raw)) is not None:
            stats[str(key)] = parsed
    return stats or None


def _metric_results(metrics: Any, group: str) -> list[Metric]:
    """`{metric: {scores: {score: {value, stats}}}}` -> one Metric per score."""
    out: list[Metric] = []
    for metric_name, metric in obj(metrics).items():
        for score_name, score in obj(dig(metric, "scores")).items():
            if not isinstance(score, dict):
                continue
            out.append(
                Metric(
                    name=f"{metric_name}.{score_name}",
                    value=number(score.get("value")),
                    value_type="number",
                    group=group,
                    stats=_score_stats(score.get("stats")),
                )
            )
    return out


def _group_metrics(groups: Any, prefix: str = "", depth: int = 0) -> list[Metric]:
    out: list[Metric] = []
    if depth >= _MAX_GROUP_DEPTH:
        return out
    for name, group in obj(groups).items():
        path = f"{prefix}{name}"
        out.extend(_metric_results(dig(group, "metrics"), path))
        # A group may nest further groups (free-form in the SDK); name them by their path.
        out.extend(_group_metrics(dig(group, "groups"), f"{path}/", depth + 1))
    return out


def result_metrics(payload: Any) -> list[Metric]:
    """Aggregated metrics of an EvaluationResult (v1) or EvaluationResultV2: tasks, then groups.

    Either `tasks` or `groups` may be missing (docs: evaluation-results).
    """
    metrics: list[Metric] = []
    for task_name, task in obj(dig(payload, "tasks")).items():
        metrics.extend(_metric_results(dig(task, "metrics"), str(task_name)))
    metrics.extend(_group_metrics(dig(payload, "groups")))
    return metrics
