"""Llama Stack simulator data: request models, seeded benchmarks and jobs (from seeds.yaml),
result bodies.

Shapes follow shared/vendor-apis/llama-stack (openapi.yaml @ v0.7.1 and API.md §3, §6).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from gateway.simulators.engine import Stage
from gateway.simulators.seeds import lifecycle, load_seeds

SEEDS: Final[Mapping[str, Any]] = load_seeds(__package__)
SERVER_VERSION = "0.7.1"
NVIDIA = "nvidia"  # remote::nvidia: async jobs on NeMo Evaluator (API.md §6)
BUILTIN = "meta-reference"  # inline::meta-reference (builtin): synchronous jobs
PROVIDERS = (BUILTIN, NVIDIA)

# A remote::nvidia job's lifecycle, and its lifecycle from a cancel on (seeds.yaml).
NVIDIA_LIFECYCLE: Final = lifecycle(SEEDS["nvidia_lifecycle"])
NVIDIA_CANCEL: Final = lifecycle(SEEDS["nvidia_cancel"])


def benchmark(
    identifier: str,
    provider_id: str,
    *,
    dataset_id: str = "",
    scoring_functions: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    provider_resource_id: str | None = None,
) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "provider_resource_id": provider_resource_id or identifier,
        "provider_id": provider_id,
        "type": "benchmark",
        "dataset_id": dataset_id,
        "scoring_functions": scoring_functions or [],
        "metadata": metadata or {},
    }


def seed_benchmarks() -> dict[str, dict[str, Any]]:
    """The seeded benchmarks (a copy of seeds.yaml's: registering changes them)."""
    return {
        benchmark_id: benchmark(
            benchmark_id,
            entry["provider_id"],
            dataset_id=entry.get("dataset_id", ""),
            scoring_functions=list(entry.get("scoring_functions", [])),
            metadata=copy.deepcopy(entry.get("metadata")),
        )
        for benchmark_id, entry in SEEDS["benchmarks"].items()
    }


# (job_id, benchmark_id, lifecycle): one job per documented status, a moving one, and a
# finished builtin job (the builtin provider numbers its jobs "0", "1", ...).
SEED_JOBS: Final[tuple[tuple[str, str, tuple[Stage, ...]], ...]] = tuple(
    (str(job_id), str(job["benchmark_id"]), lifecycle(job["lifecycle"]))
    for job_id, job in SEEDS["jobs"].items()
)
FIRST_BUILTIN_JOB: Final = int(SEEDS["first_builtin_job"])


# -- request bodies (pydantic, as the real server validates them) ----------------------------


class GreedySamplingStrategy(BaseModel):
    type: Literal["greedy"] = "greedy"


class TopPSamplingStrategy(BaseModel):
    type: Literal["top_p"] = "top_p"
    temperature: float = Field(ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, ge=0.0, le=1.0)


class TopKSamplingStrategy(BaseModel):
    type: Literal["top_k"] = "top_k"
    top_k: int = Field(ge=1)


SamplingStrategy = Annotated[
    GreedySamplingStrategy | TopPSamplingStrategy | TopKSamplingStrategy,
    Field(discriminator="type"),
]
AggregationFunction = Literal[
    "average", "weighted_average", "median", "categorical_count", "accuracy"
]


class SamplingParams(BaseModel):
    strategy: SamplingStrategy = Field(default_factory=GreedySamplingStrategy)
    max_tokens: int | None = Field(default=None, ge=1)
    repetition_penalty: float | None = Field(default=1.0, ge=-2.0, le=2.0)
    stop: list[str] | None = Field(default=None, max_length=4)


class SystemMessage(BaseModel):
    role: Literal["system"] = "system"
    # A string, one content item or a list of them; content items are not checked further.
    content: str | dict[str, Any] | list[dict[str, Any]]


class ModelCandidate(BaseModel):
    type: Literal["model"] = "model"
    model: str = Field(min_length=1)
    sampling_params: SamplingParams
    system_message: SystemMessage | None = None


class LLMAsJudgeScoringFnParams(BaseModel):
    type: Literal["llm_as_judge"] = "llm_as_judge"
    judge_model: str
    prompt_template: str | None = None
    judge_score_regexes: list[str] = Field(default_factory=list)
    aggregation_functions: list[AggregationFunction] = Field(default_factory=list)


class RegexParserScoringFnParams(BaseModel):
    type: Literal["regex_parser"] = "regex_parser"
    parsing_regexes: list[str] = Field(default_factory=list)
    aggregation_functions: list[AggregationFunction] = Field(default_factory=list)


class BasicScoringFnParams(BaseModel):
    type: Literal["basic"] = "basic"
    aggregation_functions: list[AggregationFunction] = Field(default_factory=list)


ScoringFnParams = Annotated[
    LLMAsJudgeScoringFnParams | RegexParserScoringFnParams | BasicScoringFnParams,
    Field(discriminator="type"),
]


class BenchmarkConfig(BaseModel):
    eval_candidate: ModelCandidate
    scoring_params: dict[str, ScoringFnParams] = Field(default_factory=dict)
    num_examples: int | None = Field(default=None, ge=1)


class RunEvalBodyRequest(BaseModel):
    benchmark_config: BenchmarkConfig


class EvaluateRowsBodyRequest(BaseModel):
    input_rows: list[dict[str, Any]] = Field(min_length=1)
    scoring_functions: list[str] = Field(min_length=1)
    benchmark_config: BenchmarkConfig


class RegisterBenchmarkRequest(BaseModel):
    benchmark_id: str
    dataset_id: str
    scoring_functions: list[str]
    provider_benchmark_id: str | None = None
    provider_id: str | None = None
    metadata: dict[str, Any] | None = None


def validation_message(error: ValidationError | None, *, json_error_at: int | None = None) -> str:
    """The v0.6+ message for a request-validation failure: the repr of a dict (API.md §4)."""
    if json_error_at is not None:
        errors = [
            {"loc": ["body", json_error_at], "msg": "JSON decode error", "type": "json_invalid"}
        ]
    elif error is None:  # no body at all
        errors = [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    else:
        errors = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
    return repr({"errors": errors})


# -- result bodies ------------------------------------------------------------------------------


def _score(value: float, count: int, stderr: float | None = None) -> dict[str, Any]:
    stats: dict[str, Any] = {"count": count, "sum": round(value * count, 6), "mean": value}
    if stderr is not None:
        stats["stderr"] = stderr
    return {"value": value, "stats": stats}


def nemo_evaluation_result(
    job_id: str, bench: dict[str, Any], finished_at: float
) -> dict[str, Any]:
    """A NeMo v1 `EvaluationResult` like remote::nvidia passes through (NeMo times are naive)."""
    # Rounded: the sim clock's float arithmetic would otherwise leak into recorded bodies.
    when = datetime.fromtimestamp(round(finished_at, 3), UTC).replace(tzinfo=None).isoformat()
    result: dict[str, Any] = {
        "created_at": when,
        "updated_at": when,
        "id": f"evaluation_result-{job_id.removeprefix('eval-').upper()}",
        "job": job_id,
    }
    tasks = bench["metadata"].get("tasks")
    if isinstance(tasks, dict) and tasks:  # a custom config: its own tasks and metrics
        result["tasks"] = {
            task: {
                "metrics": {
                    metric: {"scores": {"sentence": _score(32.4, 5), "corpus": {"value": 30.8}}}
                    for metric in (task_config.get("metrics") or {"bleu": {}})
                }
            }
            for task, task_config in tasks.items()
        }
        return result
    kind = str(bench["metadata"].get("type") or bench["identifier"])
    result["tasks"] = {
        f"{kind}_abstract_algebra": {
            "metrics": {"acc": {"scores": {"acc": _score(0.41, 100, 0.0494)}}}
        },
        f"{kind}_anatomy": {"metrics": {"acc": {"scores": {"acc": _score(0.6, 135, 0.0423)}}}},
    }
    result["groups"] = {kind: {"metrics": {"acc": {"scores": {"acc": _score(0.5186, 235)}}}}}
    return result


def nvidia_result(job_id: str, bench: dict[str, Any], finished_at: float) -> dict[str, Any]:
    """remote::nvidia's job result: no generations or rows (API.md §6)."""
    return {
        "generations": [],
        "scores": {
            bench["identifier"]: {
                "score_rows": [],
                "aggregated_results": nemo_evaluation_result(job_id, bench, finished_at),
            }
        },
    }


# The builtin benchmark's dataset and the candidate's answers to it (seeds.yaml).
BASIC_QA_ROWS: Final[tuple[Mapping[str, Any], ...]] = tuple(SEEDS["basic_qa"]["rows"])
BASIC_QA_ANSWERS: Final[tuple[str, ...]] = tuple(str(a) for a in SEEDS["basic_qa"]["answers"])


def builtin_result(
    rows: list[dict[str, Any]], answers: list[str], scoring_functions: list[str]
) -> dict[str, Any]:
    """A builtin `EvaluateResponse`: basic::subset_of checks that the expected answer is in the
    generated one; every other function is scored as exact equality."""
    scores: dict[str, Any] = {}
    for fn in scoring_functions:
        subset = fn == "basic::subset_of"
        score_rows = []
        for row, answer in zip(rows, answers, strict=True):
            expected = str(row.get("expected_answer", ""))
            hit = expected in answer if subset else expected == answer
            score_rows.append({"score": 1.0 if hit else 0.0})
        correct = sum(r["score"] for r in score_rows)
        scores[fn] = {
            "score_rows": score_rows,
            "aggregated_results": {
                "accuracy": {
                    "accuracy": correct / len(score_rows) if score_rows else 0.0,
                    "num_correct": correct,
                    "num_total": len(score_rows),
                }
            },
        }
    return {"generations": [{"generated_answer": a} for a in answers], "scores": scores}
