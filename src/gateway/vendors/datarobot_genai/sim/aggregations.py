"""The simulator's evaluation-dataset metric aggregations (API.md §2).

`POST /api/v2/genai/evaluationDatasetMetricAggregations/` starts a job (`{"jobId": uuid}`,
polled at the GenAI status endpoint); once it has ended, its rows appear in the list
`GET /api/v2/genai/evaluationDatasetMetricAggregations/` (a failed job's rows are errored:
`aggregationValue` null, hidden by `nonErroredOnly=true`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import jsonbound
from gateway.simulators.engine import SimJob, SimState, Stage
from gateway.vendors.datarobot_genai.sim.data import (
    AGGREGATION_TYPES,
    EXAMPLE_AGGREGATION,
    TENANT_ID,
    USER_ID,
    field_error,
    genai_job_id,
    iso,
    object_id,
    state_of,
    validation_error,
)
from gateway.vendors.datarobot_genai.wire import GENAI

LIFECYCLE: Final = (Stage("INITIALIZED", 2), Stage("RUNNING", 5), Stage("COMPLETED"))
REQUEST_FIELDS: Final = (
    "chatName",
    "llmBlueprintIds",
    "evaluationDatasetConfigurationId",
    "insightsConfiguration",
)
EXAMPLE_DATASET: Final = ("66b0c1d2e3f4a5b6c7d8e9f2", "support-eval.csv")
_TRUE: Final = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE: Final = frozenset({"0", "off", "f", "false", "n", "no"})


def aggregation_rows(state: SimState) -> list[dict[str, Any]]:
    """Rows of every aggregation job that has ended; a failed job's rows are errored."""
    rows: list[dict[str, Any]] = []
    now = state.clock.now()
    for job in state.jobs.values():
        request = job.data.get("aggregation")
        status = job.status_at(now)
        if not isinstance(request, dict) or status not in ("COMPLETED", "ERROR"):
            continue
        done = job.stage_started_at(now, status) or job.created_at
        rows.extend(_rows_of(job, request, errored=status == "ERROR", finished=done))
    return rows


def _rows_of(
    job: SimJob, request: dict[str, Any], *, errored: bool, finished: float
) -> list[dict[str, Any]]:
    # Control-API jobs may carry a partial request: read it leniently.
    config_id = str(request.get("evaluationDatasetConfigurationId") or "")
    example = config_id == EXAMPLE_AGGREGATION["evaluationDatasetConfigurationId"]
    dataset_id, dataset_name = EXAMPLE_DATASET if example else (object_id(config_id), None)
    chat_id = str(job.data.get("chatId") or object_id(job.id))
    rows = []
    for blueprint in request.get("llmBlueprintIds") or []:
        for insight in request.get("insightsConfiguration") or []:
            if not isinstance(insight, dict):
                continue
            for kind in insight.get("aggregationTypes") or ["average"]:
                metric = str(insight.get("insightName") or "")
                rows.append(
                    {
                        "llmBlueprintId": blueprint,
                        "evaluationDatasetConfigurationId": config_id,
                        "ootbDatasetName": None,
                        "metricName": metric,
                        "datasetId": dataset_id,
                        "datasetName": dataset_name,
                        "chatId": chat_id,
                        "chatName": str(request.get("chatName") or ""),
                        "aggregationValue": None if errored else _value(kind, metric, example),
                        "aggregationType": kind,
                        "creationDate": iso(finished),
                        "creationUserId": USER_ID,
                        "tenantId": TENANT_ID,
                        "customModelGuardId": None,
                        "_errored": errored,
                    }
                )
    return rows


def _value(kind: str, metric: str, example: bool) -> float | list[dict[str, Any]]:
    if example and kind == "average":
        return 0.87  # the contract's example row
    score = round(0.5 + (zlib.crc32(f"{metric}/{kind}".encode()) % 500) / 1000, 3)
    if kind == "classPercentCoverage":
        return [{"item": "yes", "value": score}, {"item": "no", "value": round(1 - score, 3)}]
    if kind == "ngramImportance":
        return [{"item": "refund policy", "value": score}, {"item": "order status", "value": 0.1}]
    return score


# -- routes ---------------------------------------------------------------------------------------


def _check_aggregation(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return [field_error(["body"], "value is not a valid dict", "type_error.dict")]
    errors = []
    for name in ("chatName", "evaluationDatasetConfigurationId"):
        if name not in body:
            errors.append(field_error(["body", name], "field required", "value_error.missing"))
        elif not isinstance(body[name], str):
            errors.append(field_error(["body", name], "str type expected", "type_error.str"))
    for name in ("llmBlueprintIds", "insightsConfiguration"):
        if name not in body:
            errors.append(field_error(["body", name], "field required", "value_error.missing"))
        elif not isinstance(body[name], list):
            errors.append(
                field_error(["body", name], "value is not a valid list", "type_error.list")
            )
    for i, insight in enumerate(body.get("insightsConfiguration") or []):
        loc: list[str | int] = ["body", "insightsConfiguration", i]
        if not isinstance(insight, dict) or not isinstance(insight.get("insightName"), str):
            errors.append(
                field_error([*loc, "insightName"], "field required", "value_error.missing")
            )
            continue
        for kind in insight.get("aggregationTypes") or []:
            if kind not in AGGREGATION_TYPES:
                errors.append(_enum_error([*loc, "aggregationTypes"]))
    return errors


def _enum_error(loc: list[str | int]) -> dict[str, Any]:
    permitted = ", ".join(f"'{t}'" for t in AGGREGATION_TYPES)
    return field_error(
        loc, f"value is not a valid enumeration member; permitted: {permitted}", "type_error.enum"
    )


async def start_aggregation(request: Request) -> Response:
    try:
        body = jsonbound.loads(await request.body())
    except ValueError as exc:
        return validation_error([field_error(["body"], str(exc), "value_error.jsondecode")])
    errors = _check_aggregation(body)
    if errors:
        return validation_error(errors)
    state = state_of(request)
    job_id = genai_job_id(state)
    request_fields = {k: body[k] for k in REQUEST_FIELDS}
    data = {"kind": GENAI, "aggregation": request_fields, "chatId": object_id(job_id)}
    state.add_job(job_id, list(LIFECYCLE), data)
    # 202: DataRobot's convention for calls that start async work (API.md §3).
    return JSONResponse({"jobId": job_id}, status_code=202)


class _BadQuery(ValueError):
    def __init__(self, msg: str, kind: str) -> None:
        super().__init__(msg)
        self.msg, self.kind = msg, kind


def _query_value(
    request: Request, name: str, default: Any, parse: Callable[[str], Any], errors: list[Any]
) -> Any:
    if name not in request.query_params:
        return default
    try:
        return parse(request.query_params[name])
    except _BadQuery as exc:
        errors.append(field_error(["query", name], exc.msg, exc.kind))
        return default


def _non_negative(raw: str) -> int:
    if not raw.strip().lstrip("-").isdigit():
        raise _BadQuery("value is not a valid integer", "type_error.integer")
    value = int(raw)
    if value < 0:
        raise _BadQuery(
            "ensure this value is greater than or equal to 0", "value_error.number.not_ge"
        )
    return value


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word not in _TRUE | _FALSE:
        raise _BadQuery("value could not be parsed to a boolean", "type_error.bool")
    return word in _TRUE


async def list_aggregations(request: Request) -> Response:
    errors: list[Any] = []
    offset = _query_value(request, "offset", 0, _non_negative, errors)
    limit = _query_value(request, "limit", 100, _non_negative, errors)
    _query_value(request, "currentConfigurationOnly", False, _boolean, errors)
    non_errored = _query_value(request, "nonErroredOnly", False, _boolean, errors)
    for kind in request.query_params.getlist("aggregationTypes"):
        if kind not in AGGREGATION_TYPES:
            errors.append(_enum_error(["query", "aggregationTypes"]))
    if errors:
        return validation_error(errors)
    # Every simulated aggregation belongs to its blueprint's current configuration, so
    # currentConfigurationOnly filters nothing out.
    rows = aggregation_rows(state_of(request))
    for param, field in (
        ("llmBlueprintIds", "llmBlueprintId"),
        ("chatIds", "chatId"),
        ("evaluationDatasetConfigurationIds", "evaluationDatasetConfigurationId"),
        ("metricNames", "metricName"),
        ("aggregationTypes", "aggregationType"),
    ):
        wanted = request.query_params.getlist(param)
        if wanted:
            rows = [r for r in rows if r[field] in wanted]
    if non_errored:
        rows = [r for r in rows if not r["_errored"]]
    if sort := request.query_params.get("sort"):
        name = sort.lstrip("-")
        rows.sort(key=lambda r: str(r.get(name) or ""), reverse=sort.startswith("-"))
    page = rows[offset : offset + limit]
    more = limit > 0 and offset + limit < len(rows)
    body = {
        "count": len(page),
        "totalCount": len(rows),
        "next": str(request.url.include_query_params(offset=offset + limit)) if more else None,
        "previous": (
            str(request.url.include_query_params(offset=max(0, offset - limit)))
            if offset > 0
            else None
        ),
        "data": [{k: v for k, v in r.items() if k != "_errored"} for r in page],
    }
    return JSONResponse(body)
