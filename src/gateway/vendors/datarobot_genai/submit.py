"""DataRobot GenAI: the canonical submission -> an evaluation-dataset metric aggregation job,
`POST /api/v2/genai/evaluationDatasetMetricAggregations/` (vendor-apis/datarobot-genai/API.md
section 2), answered with `{"jobId": uuid}` and polled at `GET /api/v2/genai/status/{jobId}/`.

One create starts one job for all the LLM blueprints it names: a submission always yields
exactly one job, `<backend>~genai~<jobId>`. The "model" DataRobot evaluates is an LLM
blueprint (the LLM plus its settings, prompt and vector database), so a model target's id is
an LLM blueprint id. Field mapping:

    canonical                      vendor body
    -----------------------------  -------------------------------------------------------
    evaluation                     evaluationDatasetConfigurationId
    targets[i] (type=model).model  llmBlueprintIds[i]  (the LLM blueprint id)
    name                           chatName (required: the official client's `create` has
                                   no default for it; we never make one up)
    vendor_options                 only `insightsConfiguration` (required: the list of
    .insightsConfiguration         insights/metrics to compute, e.g. `[{"insightName":
                                   "Faithfulness", "insightType": "Quality metric",
                                   "aggregationTypes": ["average"]}]`), passed as is
    targets[i] (type=agent)        refused: the body takes LLM blueprint ids only
    targets[i].endpoint            refused: DataRobot calls the LLM its blueprint configures
    temperature, top_p, max_tokens refused: sampling is the LLM blueprint's own setting
    num_samples                    refused: the job runs over the whole evaluation dataset
    any other vendor_options key   refused (the body's other fields are set by the
                                   canonical fields above)

Refusals are one `invalid-request` naming every refused or missing field (`targets.0.agent`,
`name`, `vendor_options.insightsConfiguration`, ...), never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from gateway.adapters.base import BackendContext, refusal
from gateway.errors import InvalidRequest, UpstreamInvalidResponse
from gateway.redact import bounded_vendor_error
from gateway.schemas import SubmitRequest
from gateway.vendors.datarobot_genai.wire import AGGREGATIONS, api_path

INSIGHTS: Final = "insightsConfiguration"

# Canonical fields the create body has no place for, and why.
_UNEXPRESSIBLE: Final[dict[str, str]] = {
    "temperature": "sampling is part of the LLM blueprint's own settings",
    "top_p": "sampling is part of the LLM blueprint's own settings",
    "max_tokens": "sampling is part of the LLM blueprint's own settings",
    "num_samples": "the job runs over the whole evaluation dataset",
}
# Body fields the canonical request already sets: not accepted again as vendor_options.
_SET_BY_CANONICAL: Final[dict[str, str]] = {
    "chatName": "set it with 'name'",
    "llmBlueprintIds": "give each LLM blueprint id as a model target",
    "evaluationDatasetConfigurationId": "set it with 'evaluation'",
}


def aggregations_path(ctx: BackendContext) -> str:
    return api_path(ctx, AGGREGATIONS)


def _insights(value: Any) -> str | None:
    """Why `insightsConfiguration` is unusable, or None. Only the shape the official client
    always sends is checked (objects with a string `insightName`); the vendor checks the rest."""
    if not isinstance(value, list):
        return "must be a list of insight configurations"
    for index, insight in enumerate(value):
        if not isinstance(insight, dict) or not isinstance(insight.get("insightName"), str):
            return f"entry {index} must be an object with a string 'insightName'"
    return None


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The create body for `request`, or `invalid-request` naming what cannot be expressed."""
    refused: list[tuple[str, str, str]] = []
    blueprints: list[str] = []
    for index, target in enumerate(request.targets):
        if target.type != "model" or target.model is None:
            why = "DataRobot evaluates LLM blueprints; give the blueprint id as a model target"
            refused.append((f"targets.{index}.agent", why, "unsupported"))
        else:
            blueprints.append(target.model)
        if target.endpoint is not None:
            why = "DataRobot calls the LLM its blueprint configures"
            refused.append((f"targets.{index}.endpoint", why, "unsupported"))
    if request.name is None:
        why = "it is the chatName of the chat the evaluation runs in; send any name for it"
        refused.append(("name", why, "missing"))
    for field, why in _UNEXPRESSIBLE.items():
        if getattr(request, field) is not None:
            refused.append((field, why, "unsupported"))
    options = request.vendor_options
    for key, value in options.items():
        if key == INSIGHTS:
            problem = _insights(value)
            if problem is not None:
                refused.append((f"vendor_options.{key}", problem, "unsupported"))
        elif key in _SET_BY_CANONICAL:
            refused.append((f"vendor_options.{key}", _SET_BY_CANONICAL[key], "unsupported"))
        else:
            why = f"not a field of the create body (only {INSIGHTS})"
            refused.append((f"vendor_options.{key}", why, "unsupported"))
    if INSIGHTS not in options:
        why = (
            "the insights (metrics) to compute and aggregate; send e.g."
            ' [{"insightName": "Faithfulness", "insightType": "Quality metric",'
            ' "aggregationTypes": ["average"]}]'
        )
        refused.append((f"vendor_options.{INSIGHTS}", why, "missing"))
    if refused:
        raise refusal(ctx, refused)
    return {
        "chatName": request.name,
        "llmBlueprintIds": blueprints,
        "evaluationDatasetConfigurationId": request.evaluation,
        INSIGHTS: options[INSIGHTS],
    }


def created_job_id(ctx: BackendContext, payload: Any) -> str:
    """`{"jobId": uuid}` -> the id; an answer without one is invalid."""
    job_id = payload.get("jobId") if isinstance(payload, dict) else None
    if not isinstance(job_id, str) or not job_id.strip() or job_id.strip() in (".", ".."):
        raise UpstreamInvalidResponse(
            f"{ctx.vendor} answered the aggregation start without a jobId",
            backend=ctx.backend,
            vendor=ctx.vendor,
            vendor_error=bounded_vendor_error(payload, ctx.secrets),
        )
    return job_id.strip()


# Where each create-body field came from in the canonical request.
_CANONICAL: Final[dict[str, list[str | int]]] = {
    "chatName": ["name"],
    "evaluationDatasetConfigurationId": ["evaluation"],
    "llmBlueprintIds": ["targets"],
    INSIGHTS: ["vendor_options", INSIGHTS],
}


def canonical_field(vendor_loc: Sequence[str | int]) -> list[str | int]:
    """A FastAPI 422 location (`["body", "llmBlueprintIds", 0]`) in canonical terms
    (`["body", "targets", 0, "model"]`); locations outside the body are kept as they are."""
    if len(vendor_loc) < 2 or vendor_loc[0] != "body" or vendor_loc[1] not in _CANONICAL:
        return list(vendor_loc)
    head, rest = _CANONICAL[str(vendor_loc[1])], list(vendor_loc[2:])
    if head == ["targets"]:
        return ["body", "targets", *rest[:1], "model", *rest[1:]] if rest else ["body", *head]
    return ["body", *head, *rest]


def with_canonical_fields(problem: InvalidRequest) -> InvalidRequest:
    """The vendor's refusal of a create body, its field errors named in canonical terms."""
    if problem.errors:
        problem.errors = [
            error.model_copy(update={"loc": canonical_field(error.loc)}) for error in problem.errors
        ]
    return problem
