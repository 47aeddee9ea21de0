"""NeMo Evaluator: the canonical submission -> a job create body, for v1 and v2 (API.md §3, §4).

v1 `POST /v1/evaluation/jobs` takes JobCreateParams `{config, target, namespace?, description?,
project?, custom_fields?, output_files_url?, ownership?, ...}`; v2 `POST /v2/evaluation/jobs`
wraps config and target in `spec` and adds `name`. Field mapping (both versions):

    canonical                  vendor body
    -------------------------  ---------------------------------------------------------------
    evaluation                 config = "<namespace>/<name>" (a stored EvaluationConfig, by
                               reference; v2: spec.config)
    targets[0] (type=model)    target = {type: "model", model: {api_endpoint: {url: endpoint,
      with endpoint              model_id: model}}}  (inline EvaluationTarget; v2: spec.target)
    targets[0] (type=model)    target = {type: "model", model: "<model>"}  (the SDK's
      without endpoint           `model: str | ModelEv`, as the Llama Stack provider sends it)
    targets[i] (type=agent)    refused: EvaluationTarget types are model, cached_outputs,
                               retriever, rag, rows, dataset; no agent
    targets[1:]                refused: one job evaluates one target
    name                       v2: name;  v1: refused (EvaluationJob has no name, and
                               `description` is free text, not a name)
    temperature, top_p,        refused: they live in the config's `params` (EvaluationParams:
      max_tokens, num_samples    temperature, top_p, max_tokens, limit_samples), and a config
                               given by reference carries no params in the job body
    vendor_options             merged into the body, only the documented optional fields:
                               v1 namespace, description, project, custom_fields,
                               output_files_url, ownership; v2 namespace, description, project,
                               custom_fields, ownership. Any other key is refused.

Refusals are one `invalid-request` naming every refused field (the same problem as
`Adapter.cannot_express`), never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.adapters.base import BackendContext, refusal
from gateway.schemas import SubmitRequest

Kind = Literal["string", "object"]
Refused = list[tuple[str, str]]

# The documented optional fields of each version's create body, and their JSON type.
_SHARED_OPTIONS: dict[str, Kind] = {
    "namespace": "string",
    "description": "string",
    "project": "string",
    "custom_fields": "object",
}
V1_OPTIONS: dict[str, Kind] = {
    **_SHARED_OPTIONS,
    "output_files_url": "string",
    "ownership": "object",
}
V2_OPTIONS: dict[str, Kind] = {**_SHARED_OPTIONS, "ownership": "object"}
# Body fields that are not options: the canonical request sets them, or the server does.
V1_NOT_OPTIONS: dict[str, str] = {
    "config": "set it with 'evaluation'",
    "target": "set it with 'targets'",
    "result": "the result is set by the service, not at submission",
    "status": "the status is set by the service, not at submission",
    "status_details": "the status details are set by the service, not at submission",
}
V2_NOT_OPTIONS: dict[str, str] = {
    "spec": "set it with 'evaluation' and 'targets'",
    "config": "set it with 'evaluation'",
    "target": "set it with 'targets'",
    "name": "set it with 'name'",
}

_SAMPLING_WHY = (
    "NeMo takes it from the evaluation config's params (EvaluationParams.{vendor}), and a "
    "config given by reference ('namespace/name') carries no params in the job"
)
# canonical field -> its EvaluationParams field.
# Not mapped to target.model.prompt.inference_params: that ModelEv field is in the SDK, but
# whether the Evaluator applies it during an evaluation is not documented.
_SAMPLING: dict[str, str] = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max_tokens",
    "num_samples": "limit_samples",
}


def config_reference(request: SubmitRequest, refused: Refused) -> str:
    """`evaluation` as the config reference `<namespace>/<name>` the contract names."""
    namespace, slash, name = request.evaluation.partition("/")
    if not slash or not namespace.strip() or not name.strip() or "/" in name:
        refused.append(
            (
                "evaluation",
                "a NeMo evaluation config is referenced as '<namespace>/<name>';"
                " send an existing config's, e.g. 'my-organization/my-config'",
            )
        )
    return request.evaluation


def model_target(request: SubmitRequest, refused: Refused) -> dict[str, Any]:
    """The inline EvaluationTarget for the one model target."""
    for index, target in enumerate(request.targets):
        if target.type == "agent":
            refused.append(
                (
                    f"targets.{index}.agent",
                    "NeMo evaluation targets are models, cached outputs, retrievers, RAG "
                    "pipelines, rows or datasets, not agents",
                )
            )
    if len(request.targets) > 1:
        refused.append(("targets", "a NeMo evaluation job has exactly one target"))
    first = request.targets[0]
    if first.type != "model" or first.model is None:
        return {}
    if first.endpoint is None:
        return {"type": "model", "model": first.model}
    return {
        "type": "model",
        "model": {"api_endpoint": {"url": first.endpoint, "model_id": first.model}},
    }


def refuse_sampling(request: SubmitRequest, refused: Refused) -> None:
    for field, vendor_field in _SAMPLING.items():
        if getattr(request, field) is not None:
            refused.append((field, _SAMPLING_WHY.format(vendor=vendor_field)))


def vendor_options(
    request: SubmitRequest,
    allowed: Mapping[str, Kind],
    not_options: Mapping[str, str],
    refused: Refused,
) -> dict[str, Any]:
    """The documented optional body fields in `vendor_options`; every other key is refused."""
    merged: dict[str, Any] = {}
    for key, value in request.vendor_options.items():
        field = f"vendor_options.{key}"
        kind = allowed.get(key)
        if kind is None:
            why = not_options.get(key) or (
                "not an optional field of the job create body (accepted: "
                + ", ".join(sorted(allowed))
                + ")"
            )
            refused.append((field, why))
        elif kind == "string" and not (isinstance(value, str) and value.strip()):
            refused.append((field, "must be a non-empty string"))
        elif kind == "object" and not isinstance(value, dict):
            refused.append((field, "must be a JSON object"))
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class CreateForm:
    """What one version's create body accepts beyond config and target."""

    options: Mapping[str, Kind]  # the documented optional fields
    not_options: Mapping[str, str]  # body fields that are not options, and why
    refuse_name: str | None = None  # why `name` is refused (None: the body takes it)


V1_FORM = CreateForm(
    V1_OPTIONS,
    V1_NOT_OPTIONS,
    refuse_name=(
        "v1 evaluation jobs have no name (the job id names them); use the v2 API, or "
        "vendor_options.description for free text"
    ),
)
V2_FORM = CreateForm(V2_OPTIONS, V2_NOT_OPTIONS)


def create_parts(
    ctx: BackendContext, request: SubmitRequest, form: CreateForm
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(config, target, options) of the create body, or one `invalid-request` naming every
    field that cannot be expressed."""
    refused: Refused = []
    config = config_reference(request, refused)
    target = model_target(request, refused)
    if form.refuse_name is not None and request.name is not None:
        refused.append(("name", form.refuse_name))
    refuse_sampling(request, refused)
    options = vendor_options(request, form.options, form.not_options, refused)
    if refused:
        raise refusal(ctx, refused)
    return config, target, options
