"""Overmind: the canonical submission -> `POST /api/jobs/` (`JobRequest`, API.md "Endpoints";
openapi.reconstructed.yaml `JobFields`). Every field of the create body is optional; the
answer (201) is the full job, status included. Field mapping:

    canonical                  vendor body
    -------------------------  ---------------------------------------------------------------
    evaluation                 job_type. The enum drifts (four values appeared in two weeks of
                               generated clients, O3), so any well-formed choice word is sent
                               and Overmind decides; only what cannot be a Django choice value
                               (a UUID, a label such as "Prompt Tuning") is refused here
    targets[0] (type=agent)    agent (a UUID; anything else is refused here)
    targets[0] (type=model),   refused: no job field names the model under evaluation.
      targets[0].model           `analyzer_model` is the LLM that analyses and scores the
                                 agent's candidates (the optimiser/judge), not the target;
                                 pass it as vendor_options.analyzer_model
    targets[0].endpoint        refused: the job has no endpoint; Overmind runs its own agents
    targets[1:]                refused: a job has one `agent`; submit once per agent (separate
                               creates are not atomic, so one submission never makes several)
    name                       refused: a job has no name (`prompt_slug` names the prompt under
                               work and is shared by many jobs)
    temperature, top_p,        refused: no sampling fields on a job
      max_tokens
    num_samples                refused: no sample count (`num_iterations` counts optimisation
                               rounds, `candidates_per_iteration` candidates per round)
    vendor_options             the job's input fields: project, prompt_slug, analyzer_model,
                               num_iterations, candidates_per_iteration, data_source,
                               triggered_by (types checked per the schema). Refused: job_type
                               and agent (set by the canonical fields), the writable outcome
                               fields (status, scores, report, result, best_agent_code,
                               backtest_results, celery_task_id: writing them records a result
                               instead of starting work), and anything else (read-only or
                               unknown fields)

Refusals are one `invalid-request` naming every refused field (the same problem as
`Adapter.cannot_express`), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from gateway.adapters.base import BackendContext, refusal
from gateway.errors import InvalidRequest
from gateway.schemas import SubmitRequest
from gateway.vendors.overmind.wire import UUID_RE

JOBS_PATH: Final = "/api/jobs/"
SEND_AGENT: Final = (
    "an Overmind agent is a UUID; send {type: agent, agent: <agent uuid>} (the `agent` field"
    " of the agent's jobs: GET /v1/jobs/<an earlier job>?include=raw shows it)"
)
# O1's enum, then the values seen only in the generated clients (O3); for messages only.
KNOWN_JOB_TYPES: Final = (
    "inference",
    "uploaded_outputs_setup",
    "judge_scoring",
    "prompt_tuning",
    "model_backtesting",
    "connector_sync",
    "langfuse_import",
    "optimize",
    "optimize_command",
)
# Django choice values as Overmind spells them: lower-case words joined by underscores.
_CHOICE_WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")

Refused = list[tuple[str, str]]
# A vendor_options value check: None when the value fits the schema, else why not.
Check = Callable[[Any], str | None]


def _text(max_length: int, *, min_length: int = 0) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if len(value.strip()) < min_length:
            return "may not be blank"
        if len(value) > max_length:
            return f"must be at most {max_length} characters"
        return None

    return check


def _integer(*, nullable: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer" + (" or null" if nullable else "")
        return None

    return check


def _uuid_or_null(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and UUID_RE.fullmatch(value)):
        return None
    return "must be a UUID or null"


# The job's input fields (JobFields), accepted as vendor_options, with the schema's types.
OPTIONS: Final[dict[str, Check]] = {
    "project": _uuid_or_null,
    "prompt_slug": _text(255),
    "analyzer_model": _text(128),
    "num_iterations": _integer(),
    "candidates_per_iteration": _integer(),
    "data_source": _text(20, min_length=1),
    # A user id; whether Overmind honours it over the key's own user is unverified.
    "triggered_by": _integer(nullable=True),
}
_OUTCOME = "an outcome Overmind fills in; writing it on create records a result, not a run"
# Writable JobFields that are not options, and why.
NOT_OPTIONS: Final[dict[str, str]] = {
    "job_type": "set it with 'evaluation'",
    "agent": "give the agent as the target",
    "status": "a new job starts pending; its status is Overmind's to move",
    "baseline_score": _OUTCOME,
    "best_score": _OUTCOME,
    "improvement": _OUTCOME,
    "best_agent_code": _OUTCOME,
    "report_markdown": _OUTCOME,
    "result": _OUTCOME,
    "backtest_results": _OUTCOME,
    "celery_task_id": "set by Overmind's worker when it picks the job up",
}


def _target(request: SubmitRequest, refused: Refused) -> str | None:
    """The agent UUID of the one target (None when refused)."""
    for index in range(1, len(request.targets)):
        refused.append((f"targets.{index}", "an Overmind job has one agent; submit once per agent"))
    target = request.targets[0]
    if target.model is not None:
        refused.append(
            (
                "targets.0.model",
                "no Overmind job field names the model under evaluation (analyzer_model is "
                "the analysing model; set it as vendor_options.analyzer_model); give the "
                "agent under evaluation as {type: agent, agent: <agent uuid>}",
            )
        )
    if target.endpoint is not None:
        refused.append(("targets.0.endpoint", "an Overmind job has no endpoint field"))
    if target.type != "agent" or target.agent is None:
        return None
    if not UUID_RE.fullmatch(target.agent):
        refused.append(("targets.0.agent", SEND_AGENT))
        return None
    return target.agent


_UNEXPRESSIBLE: Final = {
    "name": "an Overmind job has no name",
    "temperature": "an Overmind job has no sampling parameters",
    "top_p": "an Overmind job has no sampling parameters",
    "max_tokens": "an Overmind job has no sampling parameters",
    "num_samples": "an Overmind job has no sample count (num_iterations counts optimisation "
    "rounds, not examples)",
}


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The `POST /api/jobs/` body for `request`, or `invalid-request` naming every field
    Overmind cannot express."""
    refused: Refused = []
    if not _CHOICE_WORD.fullmatch(request.evaluation):
        refused.append(
            (
                "evaluation",
                f"an Overmind job_type is a choice word such as {', '.join(KNOWN_JOB_TYPES)}",
            )
        )
    agent = _target(request, refused)
    for field, why in _UNEXPRESSIBLE.items():
        if getattr(request, field) is not None:
            refused.append((field, why))
    options: dict[str, Any] = {}
    for key, value in request.vendor_options.items():
        check = OPTIONS.get(key)
        if check is None:
            why = NOT_OPTIONS.get(key, "not a writable field of an Overmind job")
            refused.append((f"vendor_options.{key}", why))
        elif (problem := check(value)) is not None:
            refused.append((f"vendor_options.{key}", problem))
        else:
            options[key] = value
    if refused:
        raise refusal(ctx, refused)
    return {"job_type": request.evaluation, "agent": agent, **options}


def canonical_field(vendor_loc: Sequence[str | int]) -> list[str | int]:
    """Where a field error of Overmind's 400 (`{"<field>": [...]}`) sits in the canonical
    request: job_type is `evaluation`, agent the target's, the rest came from vendor_options."""
    if not vendor_loc:
        return ["body"]
    head, *rest = vendor_loc
    if head == "job_type":
        return ["body", "evaluation", *rest]
    if head == "agent":
        return ["body", "targets", "0", "agent", *rest]
    return ["body", "vendor_options", head, *rest]


def with_canonical_fields(problem: InvalidRequest) -> InvalidRequest:
    """The vendor's refusal of a create body, its field errors named in canonical terms."""
    if problem.errors:
        problem.errors = [
            error.model_copy(update={"loc": canonical_field(error.loc)}) for error in problem.errors
        ]
    return problem
