"""DigitalOcean GenAI simulator: how a run and its prompt results are rendered
(`apiEvaluationRun`, `apiPrompt`, `apiEvaluationMetricResult` from vendor-apis/digitalocean-genai).
"""

from __future__ import annotations

from typing import Any

from gateway.simulators.engine import SimJob, SimState
from gateway.vendors.digitalocean_genai.sim.data import (
    AGENTS,
    JUDGE_TIMEOUT,
    METRICS,
    USER,
    WITH_RESULTS,
    WORKSPACE,
    case_version,
    dataset_of,
    iso,
)
from gateway.vendors.digitalocean_genai.spec import (
    CANCELLED,
    EVALUATING,
    FAILED,
    PARTIAL,
    RUNNING_DATASET,
    SUCCESSFUL,
)


def _times(job: SimJob, now: float) -> dict[str, str]:
    """queued_at / started_at / finished_at from the job's real (unfaulted) lifecycle."""
    times = {"queued_at": iso(job.created_at)}
    started = [
        t for s in (RUNNING_DATASET, EVALUATING) if (t := job.stage_started_at(now, s)) is not None
    ]
    if started:
        times["started_at"] = iso(min(started))
    current = job.status_at(now)
    if current in (CANCELLED, SUCCESSFUL, PARTIAL, FAILED):
        finished = job.stage_started_at(now, current)
        if finished is not None:
            times["finished_at"] = iso(finished)
    return times


def metric_result(metric_uuid: str, value: float | str | None, **extra: str) -> dict[str, Any]:
    metric = METRICS[metric_uuid]
    result: dict[str, Any] = {
        "metric_uuid": metric_uuid,
        "metric_name": metric["metric_name"],
        "metric_value_type": metric["metric_value_type"],
        "status": "EVALUATION_METRIC_RESULT_STATUS_COMPLETED",
        **extra,
    }
    if isinstance(value, str):
        result["string_value"] = value
    elif value is not None:
        result["number_value"] = value
    else:
        result["status"] = "EVALUATION_METRIC_RESULT_STATUS_FAILED"
    return result


def _judge_failed(job: SimJob, metric_uuid: str, status: str) -> bool:
    """In a partially successful run, the last metric of the test case could not be scored."""
    return status == PARTIAL and metric_uuid == job.data.get("failed_metric_uuid")


def prompts(state: SimState, job: SimJob, status: str) -> list[dict[str, Any]]:
    """The prompt results of a run that has them (empty otherwise)."""
    if status not in WITH_RESULTS:
        return []
    case = case_version(state, job)
    out = []
    for number, row in enumerate(dataset_of(case).rows, start=1):
        results = []
        for metric_uuid in case["metric_uuids"]:
            if metric_uuid not in METRICS:
                continue
            if _judge_failed(job, metric_uuid, status):
                results.append(metric_result(metric_uuid, None, error_description=JUDGE_TIMEOUT))
            else:
                results.append(metric_result(metric_uuid, row.scores[metric_uuid]))
        prompt: dict[str, Any] = {
            "prompt_id": number,
            "input": row.input,
            "output": row.output,
            "ground_truth": row.ground_truth,
            "input_tokens": str(380 + 7 * number),
            "output_tokens": str(15 + 4 * number),
            "trace_id": f"{number:08x}-7f42-4f7e-9b0a-{job.id[:8]:0>12}",
            "prompt_chunks": [
                {
                    "chunk_usage_pct": 70.0 + number,
                    "chunk_used": True,
                    "index_uuid": "7e8f9a0b-b7d6-11ef-bf8f-4e013e2ddde4",
                    "source_name": "support-faq.md",
                    "text": row.ground_truth,
                }
            ],
            "prompt_level_metric_results": results,
        }
        if number == 1:
            prompt["evaluation_trace_spans"] = [
                {
                    "created_at": iso(job.created_at + 10),
                    "name": "agent-completion",
                    "type": "TRACE_SPAN_TYPE_LLM",
                    "input": {"messages": [{"role": "user", "content": row.input}]},
                    "output": {"content": row.output},
                }
            ]
        out.append(prompt)
    return out


def render_run(state: SimState, job: SimJob) -> dict[str, Any]:
    """`apiEvaluationRun` for a job, its status from `state.status_of` (faults apply)."""
    now = state.clock.now()
    status = state.status_of(job)
    case = case_version(state, job)
    data = job.data
    run: dict[str, Any] = {
        "evaluation_run_uuid": job.id,
        "status": status,
        "run_name": data.get("run_name"),
        "test_case_uuid": case["test_case_uuid"],
        "test_case_name": case["name"],
        "test_case_description": case["description"],
        "test_case_version": case["version"],
        "evaluation_test_case_workspace_uuid": case["workspace_uuid"],
        "agent_deleted": False,
        **USER,
        **_times(job, now),
    }
    if data.get("agent_uuid"):
        run["agent_uuid"] = data["agent_uuid"]
        run["agent_name"] = AGENTS.get(data["agent_uuid"], "agent")
        run["agent_version_hash"] = "c0ffee1234abcd"
        run["agent_workspace_uuid"] = WORKSPACE
    if data.get("agent_deployment_name"):
        run["agent_deployment_name"] = data["agent_deployment_name"]
    if status == FAILED:
        run["error_description"] = data.get(
            "error_description", "agent endpoint returned HTTP 503 for all prompts"
        )
    if status in WITH_RESULTS:
        run.update(_run_metrics(state, job, status, case))
    return run


def _run_metrics(state: SimState, job: SimJob, status: str, case: dict[str, Any]) -> dict[str, Any]:
    rows = prompts(state, job, status)
    level: list[dict[str, Any]] = []
    for metric_uuid in case["metric_uuids"]:
        if metric_uuid not in METRICS:
            continue
        values = [
            r["number_value"] if "number_value" in r else r.get("string_value")
            for p in rows
            for r in p["prompt_level_metric_results"]
            if r["metric_uuid"] == metric_uuid
        ]
        scored = [v for v in values if v is not None]
        if _judge_failed(job, metric_uuid, status) or not scored:
            level.append(metric_result(metric_uuid, None, error_description=JUDGE_TIMEOUT))
        elif isinstance(scored[0], str):
            level.append(metric_result(metric_uuid, max(set(scored), key=scored.count)))
        else:
            mean = round(sum(scored) / len(scored), 4)
            level.append(
                metric_result(metric_uuid, mean, reasoning=f"Average over {len(scored)} prompts.")
            )
    out: dict[str, Any] = {"run_level_metric_results": level}
    star_uuid = case["star_metric"].get("metric_uuid")
    star = next((m for m in level if m["metric_uuid"] == star_uuid), None)
    if star is not None:
        out["star_metric_result"] = star
        threshold = case["star_metric"].get("success_threshold_pct")
        if threshold is None:
            threshold = case["star_metric"].get("success_threshold", 80)
        value = star.get("number_value")
        out["pass_status"] = isinstance(value, int | float) and value >= threshold
    return out
