"""Overmind simulator input checks, with Django REST Framework's own messages.

Write bodies are checked like a DRF ModelSerializer would (unknown and read-only fields are
ignored; errors are `{"<field>": ["msg", ...]}`); list queries like django-filter does.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.vendors.overmind.sim.data import ITERATION_STATUSES, JOB_STATUSES, JOB_TYPES

Errors = dict[str, list[str]]
# A field check: the value -> (the value as DRF stores it, error message or None).
Check = Callable[[Any], tuple[Any, str | None]]

NOT_NULL = "This field may not be null."
REQUIRED = "This field is required."


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def uuid_or_null(value: Any) -> tuple[Any, str | None]:
    # agent/project are foreign keys; the simulator has no agents or projects to look up.
    return value, None if value is None or _is_uuid(value) else "Must be a valid UUID."


def text_field(max_length: int | None = None, *, allow_blank: bool = True) -> Check:
    def check(value: Any) -> tuple[Any, str | None]:
        if value is None:
            return value, NOT_NULL
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return value, "Not a valid string."
        value = str(value)  # DRF CharFields take numbers as text
        if not allow_blank and not value.strip():
            return value, "This field may not be blank."
        if max_length is not None and len(value) > max_length:
            return value, f"Ensure this field has no more than {max_length} characters."
        return value, None

    return check


def integer_field(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return value, NOT_NULL
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if math.isfinite(parsed) and parsed.is_integer():
            return int(parsed), None
    return value, "A valid integer is required."


def number_field(value: Any, *, nullable: bool = True) -> tuple[Any, str | None]:
    if value is None:
        return value, None if nullable else NOT_NULL
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if math.isfinite(parsed):
            return parsed, None
    return value, "A valid number is required."


def choice_field(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> tuple[Any, str | None]:
        if value is None:
            return value, NOT_NULL
        if value not in choices:
            return value, f'"{value}" is not a valid choice.'
        return value, None

    return check


def user_pk(value: Any) -> tuple[Any, str | None]:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value, None
    return value, f"Incorrect type. Expected pk value, received {type(value).__name__}."


def any_json(value: Any) -> tuple[Any, str | None]:
    return value, None


def _required_number(value: Any) -> tuple[Any, str | None]:
    return number_field(value, nullable=False)


def _job_reference(value: Any) -> tuple[Any, str | None]:
    # Whether the job exists is checked by the caller, which holds the jobs.
    return value, NOT_NULL if value is None else None


JOB_FIELDS: dict[str, Check] = {
    "agent": uuid_or_null,
    "analyzer_model": text_field(128),
    "backtest_results": any_json,
    "baseline_score": number_field,
    "best_agent_code": text_field(),
    "best_score": number_field,
    "candidates_per_iteration": integer_field,
    "celery_task_id": text_field(255),
    "data_source": text_field(20, allow_blank=False),
    "improvement": number_field,
    "job_type": choice_field(JOB_TYPES),
    "num_iterations": integer_field,
    "project": uuid_or_null,
    "prompt_slug": text_field(255),
    "report_markdown": text_field(),
    "result": any_json,
    "status": choice_field(JOB_STATUSES),
    "triggered_by": user_pk,
}
ITERATION_FIELDS: dict[str, Check] = {
    "iteration_name": text_field(64, allow_blank=False),
    "job": _job_reference,
    "agent_code": text_field(),
    "avg_score": _required_number,
    "description": text_field(),
    "dimension_scores": any_json,
    "order": integer_field,
    "status": choice_field(ITERATION_STATUSES),
}
ITERATION_REQUIRED = ("iteration_name", "job")


def not_a_dict(body: Any) -> Errors:
    """DRF's answer to a body that is JSON but not an object."""
    return {
        "non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]
    }


def check_body(
    body: Mapping[str, Any], fields: Mapping[str, Check], required: tuple[str, ...] = ()
) -> tuple[dict[str, Any], Errors]:
    """The writable fields of `body` (as DRF would store them) and the field errors."""
    errors: Errors = {name: [REQUIRED] for name in required if name not in body}
    clean: dict[str, Any] = {}
    for name, check in fields.items():
        if name not in body:
            continue
        value, message = check(body[name])
        if message is not None:
            errors[name] = [message]
        else:
            clean[name] = value
    return clean, errors


# -- list queries (django-filter) ------------------------------------------------------------


def check_query(
    query: Mapping[str, str], choices: Mapping[str, tuple[str, ...]], uuids: tuple[str, ...]
) -> Errors:
    """django-filter's 400 messages for the list filters that take typed values."""
    errors: Errors = {}
    for name, allowed in choices.items():
        value = query.get(name)
        if value and value not in allowed:
            errors[name] = [f"Select a valid choice. {value} is not one of the available choices."]
    for name in uuids:
        if query.get(name) and not _is_uuid(query[name]):
            errors[name] = ["Enter a valid UUID."]
    for name in ("score_min", "score_max"):
        if query.get(name) and number_field(query[name])[1] is not None:
            errors[name] = ["Enter a number."]
    for name in ("created_after", "created_before"):
        if query.get(name) and parse_time(query[name]) is None:
            errors[name] = ["Enter a valid date/time."]
    return errors


def parse_time(value: str) -> float | None:
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
