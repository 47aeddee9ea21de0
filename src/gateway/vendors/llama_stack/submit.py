"""Llama Stack: the canonical submission -> run-eval, `POST /v1alpha/eval/benchmarks/
{benchmark_id}/jobs` with a `RunEvalBodyRequest` (vendor-apis/llama-stack/API.md §3.1).

One submission is one run-eval of one model: the answer is one `Job {job_id, status}`.
Field mapping:

    canonical            vendor
    -------------------  ------------------------------------------------------------------
    evaluation           the `{benchmark_id}` path parameter (the body has no benchmark field)
    targets[0].model     benchmark_config.eval_candidate {type: "model", model}
    temperature, top_p   eval_candidate.sampling_params.strategy {type: "top_p", temperature,
                         top_p}; with temperature alone `top_p` is omitted, so the vendor's
                         default top_p 0.95 applies; neither set -> {type: "greedy"}
    max_tokens           eval_candidate.sampling_params.max_tokens. Required: the builtin
                         (inline::meta-reference) provider answers 500 without it, and the
                         adapter cannot tell the providers apart, so a submission without
                         it is refused here (400 naming `max_tokens`), never defaulted
    num_samples          benchmark_config.num_examples (omitted: the whole dataset)
    top_p alone          refused: the top_p strategy requires a temperature
    name                 refused: a run-eval job has no name
    targets[i].endpoint  refused: a model candidate names a model the server serves, not a URL
    targets[i] agents    refused: 0.7 has only ModelCandidate (AgentCandidate left after 0.3)
    targets[1:]          refused: one run-eval evaluates one candidate (submit once per model)

    vendor_options       where it goes
    -------------------  ------------------------------------------------------------------
    scoring_params       benchmark_config.scoring_params (else `{}`: 0.3 servers require it)
    system_message       eval_candidate.system_message (a string is sent as
                         {role: "system", content: <string>})
    repetition_penalty   eval_candidate.sampling_params.repetition_penalty
    stop                 eval_candidate.sampling_params.stop
    strategy             eval_candidate.sampling_params.strategy (e.g. {type: top_k, top_k});
                         refused together with temperature/top_p, which set it too
    anything else        refused, naming `vendor_options.<key>`

Values are only checked for their JSON shape here; the server validates ranges (a 400 that
becomes `invalid-request` with its field errors).
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.base import BackendContext, refusal
from gateway.schemas import SubmitRequest

# Body fields the canonical request sets: not accepted again as vendor_options.
_SET_BY_CANONICAL: dict[str, str] = {
    "benchmark_config": "the canonical fields and the documented vendor_options build it",
    "eval_candidate": "give the model as the target",
    "model": "give the model as the target",
    "sampling_params": "use temperature, top_p, max_tokens and the documented vendor_options",
    "max_tokens": "set it with 'max_tokens'",
    "temperature": "set it with 'temperature'",
    "top_p": "set it with 'top_p'",
    "num_examples": "set it with 'num_samples'",
    "benchmark_id": "set it with 'evaluation'",
}


SEND_MAX_TOKENS = (
    "its builtin eval provider generates with it and fails (500) without it; send"
    ' e.g. "max_tokens": 512 (the remote::nvidia provider ignores it)'
)
# What a submission must carry, and where to find it (docs/vendors/llama-stack.md).
REQUIREMENTS: dict[str, str] = {
    "evaluation": "a benchmark id registered on the server (GET /v1alpha/eval/benchmarks)",
    "targets[0].model": "the id of a model the server serves (one model target)",
    "max_tokens": "the generation limit; the builtin eval provider requires it",
}


def _candidate_model(request: SubmitRequest, refused: list[tuple[str, str]]) -> str | None:
    model: str | None = None
    for index, target in enumerate(request.targets):
        if index > 0:
            refused.append(
                (
                    f"targets.{index}",
                    "one run-eval evaluates one model candidate; submit once per model",
                )
            )
            continue
        if target.type != "model" or target.model is None:
            refused.append(
                (
                    f"targets.{index}.agent",
                    "Llama Stack 0.7 evaluates models only (AgentCandidate was removed after"
                    " 0.3); send {type: model, model: <a model id the server serves>}",
                )
            )
        else:
            model = target.model
        if target.endpoint is not None:
            refused.append(
                (
                    f"targets.{index}.endpoint",
                    "the candidate is a model the server serves, named by id, not a URL",
                )
            )
    return model


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _option(key: str, value: Any) -> tuple[Any, str | None]:
    """(the value to send, None) for a documented vendor option, or (None, why refused)."""
    if key == "scoring_params":
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            return value, None
        return None, "must be an object mapping scoring function ids to their params"
    if key == "system_message":
        if isinstance(value, str) and value:
            return {"role": "system", "content": value}, None
        if isinstance(value, dict) and "content" in value:
            return value, None
        return None, "must be a string or a SystemMessage object {role: 'system', content}"
    if key == "repetition_penalty":
        return (value, None) if _is_number(value) else (None, "must be a number")
    if key == "stop":
        if isinstance(value, list) and all(isinstance(s, str) for s in value):
            return value, None
        return None, "must be a list of strings (at most 4)"
    if key == "strategy":
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return value, None
        return None, "must be a sampling strategy object with a 'type' (greedy, top_p, top_k)"
    if key in _SET_BY_CANONICAL:
        return None, _SET_BY_CANONICAL[key]
    return None, (
        "not a field of run-eval (only scoring_params, system_message, repetition_penalty,"
        " stop, strategy)"
    )


def _strategy(request: SubmitRequest, refused: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The sampling strategy the canonical fields ask for (None: none asked for)."""
    if request.temperature is None:
        if request.top_p is not None:
            refused.append(
                ("top_p", "Llama Stack's top_p strategy requires a temperature; give one too")
            )
        return None
    strategy: dict[str, Any] = {"type": "top_p", "temperature": request.temperature}
    if request.top_p is not None:
        strategy["top_p"] = request.top_p
    return strategy


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The run-eval body for `request` (sent to `wire.run_eval_path(request.evaluation)`), or
    `invalid-request` naming every field Llama Stack cannot express."""
    refused: list[tuple[str, str]] = []
    model = _candidate_model(request, refused)
    if request.name is not None:
        refused.append(("name", "a run-eval job has no name"))
    strategy = _strategy(request, refused)
    options: dict[str, Any] = {}
    for key, value in request.vendor_options.items():
        sent, why = _option(key, value)
        sampling_set = request.temperature is not None or request.top_p is not None
        if why is None and key == "strategy" and sampling_set:
            why = "temperature/top_p already set the strategy; give one or the other"
        if why is not None:
            refused.append((f"vendor_options.{key}", why))
        else:
            options[key] = sent
    missing = [("max_tokens", SEND_MAX_TOKENS, "missing")] if request.max_tokens is None else []
    if refused or missing or model is None:
        raise refusal(ctx, [*refused, *missing])

    sampling: dict[str, Any] = {
        "strategy": strategy or options.get("strategy") or {"type": "greedy"}
    }
    if request.max_tokens is not None:
        sampling["max_tokens"] = request.max_tokens
    for key in ("repetition_penalty", "stop"):
        if key in options:
            sampling[key] = options[key]
    candidate: dict[str, Any] = {"type": "model", "model": model, "sampling_params": sampling}
    if "system_message" in options:
        candidate["system_message"] = options["system_message"]
    config: dict[str, Any] = {
        "eval_candidate": candidate,
        "scoring_params": options.get("scoring_params", {}),
    }
    if request.num_samples is not None:
        config["num_examples"] = request.num_samples
    return {"benchmark_config": config}
