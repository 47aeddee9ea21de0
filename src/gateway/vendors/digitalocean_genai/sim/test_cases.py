"""DigitalOcean GenAI simulator: evaluation test cases and the metric catalog."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.vendors.digitalocean_genai.sim.data import (
    DATASETS,
    METRICS,
    add_test_case,
    new_uuid,
    render_test_case,
    runs_of,
    store_of,
    update_test_case,
)
from gateway.vendors.digitalocean_genai.sim.http import (
    BAD_BODY,
    NOT_FOUND,
    DOResponse,
    case_versions,
    error,
    int_param,
    json_body,
    state_of,
    strings,
)
from gateway.vendors.digitalocean_genai.sim.render import render_run


async def list_test_cases(request: Request) -> Response:
    state = state_of(request)
    workspace = request.path_params.get("workspace_uuid")
    cases = [
        render_test_case(state, versions[-1])
        for versions in store_of(state).test_cases.values()
        if workspace is None or versions[-1]["workspace_uuid"] == workspace
    ]
    return DOResponse({"evaluation_test_cases": cases})


def _test_case_fields(body: dict[str, Any], metrics: Any) -> dict[str, Any] | Response:
    fields: dict[str, Any] = {
        k: body[k] for k in ("name", "description", "dataset_uuid") if k in body
    }
    if any(not isinstance(v, str) for v in fields.values()):
        return error(400, BAD_BODY)
    star = body.get("star_metric")
    if star is not None and not isinstance(star, dict):
        return error(400, BAD_BODY)
    if star is not None:
        fields["star_metric"] = star
    metric_uuids = strings(metrics)
    if metric_uuids is None:
        return error(400, BAD_BODY)
    if unknown := [m for m in metric_uuids if m not in METRICS]:
        return error(400, f"unknown metric uuid {unknown[0]}")
    if metric_uuids:
        fields["metric_uuids"] = metric_uuids
    if "dataset_uuid" in fields and fields["dataset_uuid"] not in DATASETS:
        return error(404, NOT_FOUND)
    return fields


async def create_test_case(request: Request) -> Response:
    state = state_of(request)
    body = await json_body(request)
    if body is None:
        return error(400, BAD_BODY)
    fields = _test_case_fields(body, body.get("metrics"))
    if isinstance(fields, Response):
        return fields
    if not fields.get("name"):
        return error(400, "name is required")
    if "workspace_uuid" in body and isinstance(body["workspace_uuid"], str):
        fields["workspace_uuid"] = body["workspace_uuid"]
    case_uuid = new_uuid(state, "cdb5-6388-bf8f-4e013e2ddde4")
    add_test_case(state, case_uuid, {**fields, "metrics": fields.pop("metric_uuids", None)})
    return DOResponse({"test_case_uuid": case_uuid})


def _versions_asked(
    request: Request, key: str
) -> tuple[list[dict[str, Any]], int | None] | Response:
    """The versions of the test case named by path parameter `key`, and the version asked
    for (`evaluation_test_case_version`), or the error answer."""
    versions = case_versions(request, key)
    if isinstance(versions, Response):
        return versions
    version = int_param(request, "evaluation_test_case_version")
    if isinstance(version, Response):
        return version
    return versions, version


async def get_test_case(request: Request) -> Response:
    asked = _versions_asked(request, "test_case_uuid")
    if isinstance(asked, Response):
        return asked
    versions, version = asked
    chosen = [c for c in versions if version in (None, 0, c["version"])]
    if not chosen:
        return error(404, NOT_FOUND)
    return DOResponse({"evaluation_test_case": render_test_case(state_of(request), chosen[-1])})


async def update_test_case_route(request: Request) -> Response:
    versions = case_versions(request, "test_case_uuid")
    if isinstance(versions, Response):
        return versions
    body = await json_body(request)
    if body is None:
        return error(400, BAD_BODY)
    metrics = body.get("metrics")
    # The schema says {metric_uuids: [...]}; the official curl sample sends a plain array.
    if isinstance(metrics, dict):
        metrics = metrics.get("metric_uuids")
    fields = _test_case_fields(body, metrics)
    if isinstance(fields, Response):
        return fields
    case = update_test_case(state_of(request), versions[-1]["test_case_uuid"], fields)
    return DOResponse({"test_case_uuid": case["test_case_uuid"], "version": case["version"]})


async def list_runs_of_test_case(request: Request) -> Response:
    asked = _versions_asked(request, "evaluation_test_case_uuid")
    if isinstance(asked, Response):
        return asked
    versions, version = asked
    state = state_of(request)
    runs = runs_of(state, versions[-1]["test_case_uuid"], version or None)
    return DOResponse({"evaluation_runs": [render_run(state, job) for job in runs]})


async def list_metrics(request: Request) -> Response:
    return DOResponse({"metrics": list(METRICS.values())})
