"""The canonical submission: one request that runs an evaluation on whatever vendor a backend
(or alias) points at today."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from gateway.schemas.job import Job, VendorName


def _whole_number(value: Any) -> Any:
    # JSON Schema's `integer` includes 2.0; strict mode still refuses true/false and "2".
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The bound inside the Annotated, so the JSON Schema says `minimum: 1` on the integer branch.
PositiveWholeNumber = Annotated[int, Field(ge=1), BeforeValidator(_whole_number)]

# What _names_what_it_targets checks, said in the JSON Schema too, so the published schema
# accepts exactly what the gateway accepts (no `{}` that the schema allows and we refuse).
_TARGET_SHAPES: dict[str, Any] = {
    "anyOf": [
        {
            "description": "A model target (type omitted or 'model')",
            "properties": {
                "type": {"const": "model"},
                "model": {"type": "string"},
                "agent": {"type": "null"},
            },
            "required": ["model"],
        },
        {
            "description": "An agent target",
            "properties": {"type": {"const": "agent"}, "agent": {"type": "string"}},
            "required": ["type", "agent"],
        },
    ]
}


class Target(BaseModel):
    """What is evaluated: a model (by id, optionally at an endpoint) or an agent."""

    # strict: a number or true/false is not a name, and true is not a number.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, json_schema_extra=_TARGET_SHAPES
    )

    type: Literal["model", "agent"] = "model"
    model: str | None = Field(default=None, min_length=1, description="The model id (type=model)")
    agent: str | None = Field(
        default=None, min_length=1, description="The agent id or deployment name (type=agent)"
    )
    endpoint: str | None = Field(
        default=None, min_length=1, description="URL the vendor calls to reach the model/agent"
    )

    @model_validator(mode="after")
    def _names_what_it_targets(self) -> Target:
        if self.type == "model" and not self.model:
            raise ValueError("a model target needs 'model'")
        if self.type == "agent" and not self.agent:
            raise ValueError("an agent target needs 'agent'")
        if self.type == "model" and self.agent:
            raise ValueError("'agent' is for type=agent targets")
        return self


class SubmitRequest(BaseModel):
    """Run `evaluation` against `targets`. Adapters map every field or refuse it by name."""

    # strict: `max_tokens: true` or `temperature: "0.5"` is refused, not read as 1 or 0.5.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    evaluation: str = Field(
        min_length=1,
        description="What to evaluate, in the vendor's terms: Llama Stack benchmark id, NeMo "
        "evaluation config ('namespace/name'), DigitalOcean test case uuid, Overmind job type, "
        "DataRobot evaluation dataset configuration id",
    )
    targets: list[Target] = Field(
        min_length=1, max_length=100, description="Usually one; DigitalOcean runs one job per agent"
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    max_tokens: PositiveWholeNumber | None = None
    num_samples: PositiveWholeNumber | None = Field(
        default=None, description="How many examples to evaluate (the vendor's limit)"
    )
    vendor_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed to the vendor as is, for what only that vendor has (see each "
        "adapter's documentation for the keys it accepts)",
    )


class Submission(BaseModel):
    """What a submission started: one or more jobs on one backend."""

    backend: str = Field(description="The backend that runs the jobs")
    requested: str = Field(description="The backend or alias name the caller used")
    vendor: VendorName
    jobs: list[Job] = Field(min_length=1)
    idempotency_key: str | None = None
    replayed: bool = Field(
        default=False, description="True when an earlier submission with this key is returned"
    )
