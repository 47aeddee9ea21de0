"""DigitalOcean GenAI: the canonical submission -> `POST /v2/gen-ai/evaluation_runs`
(`apiRunEvaluationTestCaseInputPublic`, vendor-apis/digitalocean-genai/API.md section 1).

DigitalOcean runs a test case against agents only, and creates one run per agent: a
submission with several targets yields several jobs. Field mapping:

    canonical                      vendor body
    -----------------------------  -------------------------------------------------------
    evaluation                     test_case_uuid
    targets[i] (type=agent).agent  agent_uuids[]  (legacy agents; the default)
                                   agent_deployment_names[]  when the same string is listed
                                   in vendor_options.agent_deployment_names (ADK agent
                                   workspaces): an agent id and a deployment name are both
                                   free strings, so we never guess which one a target is
    name                           run_name (omitted when unset: the vendor names the run)
    targets[i] (type=model)        refused: the vendor evaluates agents, not models
    targets[i].endpoint            refused: the vendor calls the agent it hosts
    temperature, top_p, max_tokens refused: sampling is the agent's own configuration
    num_samples                    refused: a run covers the test case's whole dataset
    vendor_options                 only `agent_deployment_names` (a vendor field); any other
                                   key is refused, including the body's other fields, which
                                   the canonical fields above already set

Refusals are `invalid-request` naming every refused field (`targets.0.model`,
`vendor_options.seed`, ...), never dropped.
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.base import BackendContext, refusal
from gateway.errors import UpstreamInvalidResponse
from gateway.schemas import SubmitRequest

SEND_AGENT = (
    "DigitalOcean evaluates agents only, not models; send each agent as"
    " {type: agent, agent: <agent uuid>} (the uuid is on the agent's page in the DigitalOcean"
    " control panel, and is the `agent_uuid` of its earlier evaluation runs)"
)
DEPLOYMENT_NAMES = "agent_deployment_names"

# Canonical fields the create body has no place for, and why.
_UNEXPRESSIBLE: dict[str, str] = {
    "temperature": "sampling parameters belong to the agent's own configuration",
    "top_p": "sampling parameters belong to the agent's own configuration",
    "max_tokens": "sampling parameters belong to the agent's own configuration",
    "num_samples": "a run always covers the whole dataset of the test case",
}
# Body fields the canonical request already sets: not accepted again as vendor_options.
_SET_BY_CANONICAL: dict[str, str] = {
    "test_case_uuid": "set it with 'evaluation'",
    "agent_uuids": "give each agent as a target",
    "run_name": "set it with 'name'",
}


def _deployment_names(value: Any, agents: list[str], refused: list[tuple[str, str]]) -> set[str]:
    field = f"vendor_options.{DEPLOYMENT_NAMES}"
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        refused.append((field, "must be a list of agent deployment names"))
        return set()
    strays = [name for name in value if name not in agents]
    if strays:
        refused.append(
            (field, f"{strays!r} name no agent target; list the deployments as targets too")
        )
    return set(value)


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The create body for `request`, or `invalid-request` naming what cannot be expressed."""
    refused: list[tuple[str, str]] = []
    agents: list[str] = []
    for index, target in enumerate(request.targets):
        if target.type != "agent" or target.agent is None:
            refused.append((f"targets.{index}.model", SEND_AGENT))
        else:
            agents.append(target.agent)
        if target.endpoint is not None:
            refused.append(
                (f"targets.{index}.endpoint", "DigitalOcean calls the agent it hosts itself")
            )
    for field, why in _UNEXPRESSIBLE.items():
        if getattr(request, field) is not None:
            refused.append((field, why))
    deployments: set[str] = set()
    for key, value in request.vendor_options.items():
        if key == DEPLOYMENT_NAMES:
            deployments = _deployment_names(value, agents, refused)
        elif key in _SET_BY_CANONICAL:
            refused.append((f"vendor_options.{key}", _SET_BY_CANONICAL[key]))
        else:
            refused.append(
                (
                    f"vendor_options.{key}",
                    f"not a field of the create body (only {DEPLOYMENT_NAMES})",
                )
            )
    if refused:
        raise refusal(ctx, refused)
    body: dict[str, Any] = {"test_case_uuid": request.evaluation}
    agent_uuids = [a for a in agents if a not in deployments]
    deployment_names = [a for a in agents if a in deployments]
    if agent_uuids:
        body["agent_uuids"] = agent_uuids
    if deployment_names:
        body[DEPLOYMENT_NAMES] = deployment_names
    if request.name is not None:
        body["run_name"] = request.name
    return body


def created_run_uuids(ctx: BackendContext, payload: Any) -> list[str]:
    """`{evaluation_run_uuids: [...]}` -> the uuids; an answer without any is invalid."""
    uuids = payload.get("evaluation_run_uuids") if isinstance(payload, dict) else None
    if (
        not isinstance(uuids, list)
        or not uuids
        or not all(isinstance(u, str) and u.strip() for u in uuids)
    ):
        raise UpstreamInvalidResponse(
            f"{ctx.vendor} answered the create without evaluation run uuids",
            backend=ctx.backend,
            vendor=ctx.vendor,
        )
    return list(uuids)
