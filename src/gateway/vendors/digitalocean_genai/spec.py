"""DigitalOcean GenAI agent evaluation: the facts of its API (vendor-apis/digitalocean-genai)
that the adapter and the simulator both rely on: paths, the page size bound, status words."""

from __future__ import annotations

from typing import Final

BASE_PATH: Final = "/v2/gen-ai"
RUNS_PATH: Final = f"{BASE_PATH}/evaluation_runs"
TEST_CASES_PATH: Final = f"{BASE_PATH}/evaluation_test_cases"
METRICS_PATH: Final = f"{BASE_PATH}/evaluation_metrics"
MAX_PER_PAGE: Final = 200  # the documented maximum `per_page` of a results page

# The run status enum (`apiEvaluationRunStatus`), in the spec's order.
UNSPECIFIED: Final = "EVALUATION_RUN_STATUS_UNSPECIFIED"
QUEUED: Final = "EVALUATION_RUN_QUEUED"
RUNNING_DATASET: Final = "EVALUATION_RUN_RUNNING_DATASET"
EVALUATING: Final = "EVALUATION_RUN_EVALUATING_RESULTS"
CANCELLING: Final = "EVALUATION_RUN_CANCELLING"
CANCELLED: Final = "EVALUATION_RUN_CANCELLED"
SUCCESSFUL: Final = "EVALUATION_RUN_SUCCESSFUL"
PARTIAL: Final = "EVALUATION_RUN_PARTIALLY_SUCCESSFUL"
FAILED: Final = "EVALUATION_RUN_FAILED"
RUN_STATUSES: Final = (
    UNSPECIFIED,
    QUEUED,
    RUNNING_DATASET,
    EVALUATING,
    CANCELLING,
    CANCELLED,
    SUCCESSFUL,
    PARTIAL,
    FAILED,
)
