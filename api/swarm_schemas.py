"""Request and response bodies of the swarm (coordinator) routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.numeric_ranges import check_numbers

__all__ = [
    "AckIn",
    "AgentIn",
    "AgentRegistration",
    "AgentView",
    "AgentsIn",
    "CompleteIn",
    "FailIn",
    "FailedAck",
    "LeasedTask",
    "PlanIn",
    "PullIn",
    "PullOut",
    "RebalanceOut",
    "SubmitOut",
    "TaskIn",
    "TasksIn",
    "TokenPriceIn",
    "TokenUsageOut",
    "UsageLineOut",
]

Id = Field(min_length=1, max_length=200)


class _In(BaseModel):
    # The job API's number rules (finite, float32-safe, bounded integers) hold here too.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _numbers_in_range(self) -> _In:
        check_numbers(self)
        return self


class AgentIn(_In):
    id: str = Id
    speed: float = Field(default=1.0, gt=0, le=1e6)
    capabilities: list[str] = Field(default_factory=list, max_length=100)
    capacity: dict[str, float] = Field(default_factory=dict)
    node: str | None = None
    slots: int = Field(default=1, ge=1, le=1000)
    max_tasks: int | None = Field(default=None, ge=1)
    token_price_per_1k: float | None = Field(
        default=None, ge=0, le=1e6, description="Price per 1,000 tokens; null: the swarm's."
    )


class AgentsIn(_In):
    agents: list[AgentIn] = Field(min_length=1, max_length=10_000)


class AgentRegistration(BaseModel):
    registered: list[str]
    known: list[str]


class TaskIn(_In):
    id: str = Id
    work: float | None = Field(default=1.0, ge=0, le=1e9, description="None: estimate by kind.")
    kind: str | None = None
    priority: Literal["critical", "high", "normal", "low"] = "normal"
    tenant: str = "default"
    weight: float = Field(default=1.0, gt=0, le=1e6)
    deadline_s: float | None = Field(default=None, gt=0, description="Seconds from now.")
    requires: list[str] = Field(default_factory=list, max_length=100)
    pinned_agent: str | None = None
    demand: dict[str, float] | None = None
    group: str | None = Field(default=None, description="Anti-affinity group.")
    after: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Predecessor task ids (earlier or in this request): this task is queued "
        "once all of them completed, and held if one is dead-lettered.",
    )


class TasksIn(_In):
    tasks: list[TaskIn] = Field(min_length=1, max_length=100_000)


class SubmitOut(BaseModel):
    accepted: dict[str, str | None] = Field(
        description="Task -> agent queue (null: the global queue, or waiting or held)."
    )
    rejected: dict[str, str] = Field(description="Task -> why it was refused.")
    waiting: list[str] = Field(
        default_factory=list, description="Accepted tasks waiting for predecessors."
    )
    held: dict[str, str] = Field(
        default_factory=dict,
        description="Accepted tasks that will not run -> the dead-lettered predecessor.",
    )


TokensField = Field(
    default=None, ge=0, le=10**12, description="Tokens the agent used on the task (optional)."
)


class AckIn(_In):
    task_id: str = Id
    runtime_s: float | None = Field(default=None, ge=0)
    tokens: int | None = TokensField


class FailedAck(_In):
    task_id: str = Id
    error: str = Field(default="failed", max_length=2000)


class PullIn(_In):
    """Acknowledge finished work in the same round trip as the next pull."""

    completed: list[AckIn] = Field(default_factory=list, max_length=1000)
    failed: list[FailedAck] = Field(default_factory=list, max_length=1000)


class LeasedTask(BaseModel):
    id: str
    work: float | None
    kind: str | None
    priority: int
    tenant: str
    deadline: float | None
    lease_expires_at: float


class PullOut(BaseModel):
    tasks: list[LeasedTask]
    rejected: dict[str, str] = Field(default_factory=dict)


class CompleteIn(_In):
    agent_id: str = Id
    runtime_s: float | None = Field(default=None, ge=0)
    tokens: int | None = TokensField


class FailIn(_In):
    agent_id: str = Id
    error: str = Field(default="failed", max_length=2000)


class PlanIn(_In):
    job_id: str = Field(min_length=1, max_length=64)


class RebalanceOut(BaseModel):
    strategy: str
    applied: bool
    migrations: int
    detail: str
    moves: list[dict[str, Any]]
    kpi_before: dict[str, Any]
    kpi_after: dict[str, Any]


class AgentView(BaseModel):
    """One agent: its state, capabilities and current load."""

    id: str
    speed: float
    slots: int
    queued: int
    leased: int
    completed: int
    utilisation: float
    breaker: str
    state: str = Field(description="busy, idle, unavailable (breaker open) or probing.")
    capabilities: list[str] = Field(default_factory=list)
    load_s: float = Field(description="Expected seconds to drain its queued and leased work.")
    node: str | None = None
    token_price_per_1k: float | None = None


class UsageLineOut(BaseModel):
    tokens: int
    cost: float = Field(description="Sum of tokens x price / 1,000 at each completion.")
    completions: int = Field(description="Completions that reported tokens.")


class TokenUsageOut(BaseModel):
    """Tokens agents reported with their completions, and what they cost."""

    swarm: str
    price_per_1k: float = Field(description="The swarm's price (agents may have their own).")
    total: UsageLineOut
    by_agent: dict[str, UsageLineOut]
    by_kind: dict[str, UsageLineOut] = Field(description="Tasks without a kind: '(none)'.")
    by_tenant: dict[str, UsageLineOut]


class TokenPriceIn(_In):
    price_per_1k: float = Field(ge=0, le=1e6, description="Swarm price per 1,000 tokens.")
