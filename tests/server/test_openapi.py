"""The OpenAPI document: complete, served, and checked in current."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from gateway.schemas import ProblemType
from gateway.server.openapi import build_openapi, render
from gateway.server.routes import routes

CHECKED_IN = Path("docs/openapi.json")
DOCUMENT = build_openapi()


def test_the_checked_in_file_is_current() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `python -m gateway.server docs/openapi.json`"
    )


def test_the_live_service_serves_the_same_document(api: httpx.Client) -> None:
    assert api.get("/openapi.json").json() == json.loads(render())


def test_every_route_and_method_is_documented() -> None:
    served = {
        (route.path, method.lower())
        for route in routes()
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, ops in DOCUMENT["paths"].items() for method in ops}
    assert served == documented


@pytest.mark.parametrize("path", [p for p in DOCUMENT["paths"] if p.startswith("/v1/")])
def test_api_routes_declare_auth_and_their_problems(path: str) -> None:
    for operation in DOCUMENT["paths"][path].values():
        assert operation["security"], "the /v1 routes need a caller key"
        responses = operation["responses"]
        assert {"401", "500"} <= set(responses)
        problem = responses["401"]["content"]["application/problem+json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}
        assert "WWW-Authenticate" in responses["401"]["headers"]


@pytest.mark.parametrize("path", [p for p in DOCUMENT["paths"] if p.startswith("/v1/jobs/")])
def test_job_routes_declare_every_catalog_status(path: str) -> None:
    # Every status an operation can answer; 405 is for methods the path has not, and 413/415
    # only for operations that read a body.
    body_only = {ProblemType.PAYLOAD_TOO_LARGE, ProblemType.UNSUPPORTED_MEDIA_TYPE}
    for operation in DOCUMENT["paths"][path].values():
        kinds = set(ProblemType) - {ProblemType.METHOD_NOT_ALLOWED}
        if "requestBody" not in operation:
            kinds -= body_only
        assert {str(p.status) for p in kinds} <= set(operation["responses"])


def test_health_routes_are_open() -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert DOCUMENT["paths"][path]["get"]["security"] == []
