"""Events the coordinator handles and the commands it emits (`handle(event) -> commands`).

Adaptive rebalancing is a round trip: `Rebalance("adaptive")` emits `ResolveRequested`
with the queued work; whoever runs solvers answers later with `ApplyPlan` (naming the
request) or `ResolveDeclined`, so no solve runs inside the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from allocator.coordinator.records import AgentSpec, TaskSpec
from models import Plan, Problem

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
    "Held",
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
    "ResolveDeclined",
    "ResolveRequested",
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
    tokens: int | None = None  # tokens the agent used on this task, for token_usage


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
    """Move queued tasks to the plan's agents; with `request_id`, the answer to a re-solve.

    Tasks leased, finished or gone since the request are skipped, so a stale plan only
    moves tasks that are still queued. `note` says why the plan was accepted.
    """

    plan: Plan
    request_id: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ResolveDeclined:
    """A re-solve ended without a plan worth applying (no gain, infeasible, failed)."""

    request_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class Rebalance:
    """Rebalance now. `threshold` moves tail tasks at once; `adaptive` asks for a re-solve.

    tolerance: threshold acts on agents above mean backlog * (1 + tolerance).
    margin: an adaptive plan is applied only if it lowers the objective by this share.
    migration_weight: cost of moving a task, in mean task runtimes, in the re-solve.
    max_moves: an adaptive plan moves at most this many queued tasks (None: no limit).
    """

    strategy: str = "threshold"
    tolerance: float = 0.2
    margin: float = 0.1
    migration_weight: float = 0.05
    max_moves: int | None = None


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
    | ResolveDeclined
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
class Held:
    """`task_id` will not run: its predecessor `blocked_by` was dead-lettered."""

    task_id: str
    blocked_by: str


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
    applied: bool = False


@dataclass(frozen=True, slots=True)
class ResolveRequested:
    """Re-solve `problem` (the queued work, each task's `current_agent` set) off the core.

    Answer with `ApplyPlan(plan, request_id)` or `ResolveDeclined(request_id, reason)`;
    `rebalancing.answer_request` does both for a resolver. Only one is in flight at a time.
    """

    request_id: int
    problem: Problem
    margin: float
    max_moves: int | None = None


Command = (
    Accepted
    | Rejected
    | Assign
    | NoWork
    | Completed
    | CompletionRejected
    | Requeued
    | DeadLettered
    | Held
    | Migrated
    | BreakerChanged
    | AgentRemoved
    | PlanApplied
    | Rebalanced
    | ResolveRequested
)
