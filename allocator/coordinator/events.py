"""Events the coordinator handles and the commands it emits (`handle(event) -> commands`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from allocator.coordinator.records import AgentSpec, TaskSpec
from models import Plan

__all__ = [
    "Accepted",
    "AgentRemoved",
    "ApplyPlan",
    "Assign",
    "BreakerChanged",
    "Command",
    "CompleteTask",
    "Completed",
    "CompletionRejected",
    "DeadLettered",
    "Event",
    "FailTask",
    "Heartbeat",
    "HeartbeatMissed",
    "Migrated",
    "NoWork",
    "PlanApplied",
    "Pull",
    "Rebalance",
    "Rebalanced",
    "RegisterAgent",
    "Rejected",
    "RemoveAgent",
    "Requeued",
    "SubmitTask",
    "Tick",
]

# ---- events (in) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitTask:
    task: TaskSpec


@dataclass(frozen=True, slots=True)
class RegisterAgent:
    agent: AgentSpec


@dataclass(frozen=True, slots=True)
class RemoveAgent:
    agent_id: str


@dataclass(frozen=True, slots=True)
class Pull:
    agent_id: str


@dataclass(frozen=True, slots=True)
class CompleteTask:
    task_id: str
    agent_id: str
    runtime_s: float | None = None


@dataclass(frozen=True, slots=True)
class FailTask:
    task_id: str
    agent_id: str
    error: str = "failed"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    agent_id: str


@dataclass(frozen=True, slots=True)
class HeartbeatMissed:
    agent_id: str


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    plan: Plan


@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class Rebalance:
    pass


Event = (
    SubmitTask
    | RegisterAgent
    | RemoveAgent
    | Pull
    | CompleteTask
    | FailTask
    | Heartbeat
    | HeartbeatMissed
    | ApplyPlan
    | Tick
    | Rebalance
)

# ---- commands (out) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    task_id: str
    agent_id: str | None  # None: held in the global queue (late binding)


@dataclass(frozen=True, slots=True)
class Rejected:
    task_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Assign:
    task_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class NoWork:
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Completed:
    task_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CompletionRejected:
    task_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Requeued:
    task_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeadLettered:
    task_id: str
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Migrated:
    task_id: str
    from_agent: str | None
    to_agent: str
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerChanged:
    agent_id: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class AgentRemoved:
    agent_id: str
    requeued: int


@dataclass(frozen=True, slots=True)
class PlanApplied:
    moved: int
    migrations: int
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rebalanced:
    strategy: str
    migrations: int
    detail: str


Command = (
    Accepted
    | Rejected
    | Assign
    | NoWork
    | Completed
    | CompletionRejected
    | Requeued
    | DeadLettered
    | Migrated
    | BreakerChanged
    | AgentRemoved
    | PlanApplied
    | Rebalanced
)
