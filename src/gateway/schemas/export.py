"""Publish the canonical schema as JSON Schema files for non-Python services.

    python -m gateway.schemas.export docs/schemas

A test keeps the checked-in files current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gateway.schemas.job import Job
from gateway.schemas.page import Page
from gateway.schemas.problem import Problem
from gateway.schemas.result import Result
from gateway.schemas.status import JobStatus

MODELS: dict[str, type[BaseModel]] = {
    "job": Job,
    "result": Result,
    "page": Page,
    "problem": Problem,
}
SCHEMA_ID_BASE = "urn:eval-gateway:schema:"  # identifiers only, never fetched


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of what the gateway sends."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schemas[f"{name}.schema.json"] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{SCHEMA_ID_BASE}{name}.schema.json",
            **schema,
        }
    schemas["job-status.schema.json"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID_BASE}job-status.schema.json",
        "title": "JobStatus",
        "description": "Canonical job status; terminal: "
        + ", ".join(s.value for s in JobStatus if s.terminal),
        "type": "string",
        "enum": [s.value for s in JobStatus],
    }
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in json_schemas().items():
        path = directory / filename
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
