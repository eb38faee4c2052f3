"""Light records the coordinator works on: task and agent specs (input) and live records.

Plain `__slots__` classes, not pydantic: these sit on the hot path. `task_spec_from_model`
and `agent_spec_from_model` convert the validated `models` schema once, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models import Agent, PriorityClass, Task

if TYPE_CHECKING:
    from allocator.coordinator.breaker import CircuitBreaker
    from allocator.coordinator.queues.base import QueueDiscipline

__all__ = [
    "DEAD",
    "DONE",
    "HELD",
    "LEASED",
    "PRIORITY_RANK",
    "QUEUED",
    "STATE_NAMES",
    "WAITING",
    "AgentRecord",
    "AgentSpec",
    "TaskRecord",
    "TaskSpec",
    "agent_spec_from_model",
    "task_spec_from_model",
]

# Task states. Ints, not an Enum: they are compared on every hot-path call.
QUEUED = 1  # in the global queue (agent is None) or an agent's local queue
LEASED = 2  # pulled by an agent: running or prefetched
DONE = 3
DEAD = 4  # dead-lettered after too many failed attempts
WAITING = 5  # accepted, but a predecessor (`after`) has not completed yet
HELD = 6  # a predecessor was dead-lettered: it will not run unless resubmitted
STATE_NAMES = {
    QUEUED: "queued",
    LEASED: "leased",
    DONE: "done",
    DEAD: "dead",
    WAITING: "waiting",
    HELD: "held",
}

#: 0 = critical ... 3 = low, the order the multi-level queue serves.
PRIORITY_RANK: dict[PriorityClass | str, int] = {
    PriorityClass.critical: 0,
    PriorityClass.high: 1,
    PriorityClass.normal: 2,
    PriorityClass.low: 3,
    "critical": 0,
    "high": 1,
    "normal": 2,
    "low": 3,
}


@dataclass(slots=True)
class TaskSpec:
    """What a caller submits. `work` None means "estimate it from `kind`".

    `deadline` is absolute, on the coordinator's clock. `priority` is a rank 0..3.
    """

    id: str
    work: float | None = 1.0
    kind: str | None = None
    priority: int = 2
    tenant: str = "default"
    weight: float = 1.0
    deadline: float | None = None
    requires: frozenset[str] = frozenset()
    pinned_agent: str | None = None
    demand: dict[str, float] | None = None
    group: str | None = None  # anti-affinity group: members go on different agents
    after: tuple[str, ...] = ()  # predecessors: ids that must complete before this runs


@dataclass(slots=True)
class AgentSpec:
    """An agent as registered: speed in work units per second, `slots` run at once."""

    id: str
    speed: float = 1.0
    capabilities: frozenset[str] = frozenset()
    capacity: dict[str, float] = field(default_factory=dict)
    node: str | None = None
    slots: int = 1
    max_tasks: int | None = None  # cap on queued + leased tasks
    token_price: float | None = None  # per 1,000 tokens; None: the swarm's price


class _TaskHot:
    """The fields every submit, release, pull and completion touches, laid out first.

    CPython lays out a class's `__slots__` alphabetically, after its base's; keeping
    these in a base puts them in the record's first cache lines, so releasing a task
    submitted long ago (a dependant) reads two or three lines of it, not five.
    """

    __slots__ = (
        "agent",
        "constrained",
        "enqueued_at",
        "est",
        "group",
        "id",
        "kids",
        "missing",
        "qkey",
        "qtoken",
        "queue",
        "rank",
        "state",
    )


class TaskRecord(_TaskHot):
    """A task the coordinator has accepted; lives in exactly one place at a time."""

    __slots__ = (
        "after",
        "attempts",
        "deadline",
        "demand",
        "density",
        "errors",
        "kind",
        "lease_token",
        "leased_at",
        "moved_at",
        "pinned",
        "prev_agent",
        "priority",
        "requires",
        "submitted_at",
        "tenant",
        "weight",
        "work",
    )

    def __init__(self, spec: TaskSpec, est: float, now: float) -> None:
        self.id = spec.id
        self.work = spec.work
        self.est = est  # expected work units (declared work or the kind's moving average)
        self.kind = spec.kind
        self.priority = spec.priority
        self.tenant = spec.tenant
        self.weight = spec.weight
        self.deadline = spec.deadline
        self.requires = spec.requires
        self.pinned = spec.pinned_agent
        self.demand = spec.demand
        self.group = spec.group
        self.after = spec.after
        self.rank = est  # upward rank: own work plus the longest chain of dependants' work
        self.missing = 0  # predecessors not completed yet (while WAITING)
        # Waiting dependants, released on completion: a tuple while few, then a list.
        self.kids: tuple[TaskRecord, ...] | list[TaskRecord] | None = None
        # Unconstrained tasks may run anywhere, so pull paths skip the eligibility filter.
        self.constrained = bool(spec.requires or spec.pinned_agent or spec.demand or spec.group)
        self.state = QUEUED
        self.agent: AgentRecord | None = None
        self.queue: QueueDiscipline | None = None
        self.qtoken = 0
        self.qkey: Any = None
        self.submitted_at = now
        self.enqueued_at = now
        self.leased_at = 0.0
        self.lease_token = 0
        self.attempts = 0
        self.errors: list[str] | None = None
        self.prev_agent: AgentRecord | None = None
        self.moved_at = -1e300
        self.density = 0.0

    def __repr__(self) -> str:
        return f"TaskRecord({self.id!r}, state={self.state}, est={self.est})"


class _AgentHot:
    """The fields placement's samples and a steal's victims are read for, laid out first.

    Placement looks at two random agents per task and a steal at up to three victims,
    usually records not touched for a while; in a base (CPython lays out a class's
    `__slots__` alphabetically, after its base's) these six share the record's first
    one or two cache lines instead of spreading over four.
    """

    __slots__ = ("bcount", "closed", "leased_load", "load", "max_tasks", "speed")


class AgentRecord(_AgentHot):
    """A registered agent with its local queue, leases, breaker and load figures."""

    __slots__ = (
        "awaiting",
        "bpos",
        "breaker",
        "busy_s",
        "capabilities",
        "capacity",
        "completed",
        "groups",
        "hb_armed",
        "hunting",
        "id",
        "index",
        "last_seen",
        "leases",
        "max_leases",
        "nbpos",
        "node",
        "queue",
        "removed",
        "slots",
        "token_price",
    )

    def __init__(
        self, spec: AgentSpec, queue: QueueDiscipline, breaker: CircuitBreaker, index: int
    ) -> None:
        self.id = spec.id
        self.speed = spec.speed
        self.capabilities = spec.capabilities
        self.capacity = spec.capacity
        self.node = spec.node
        self.slots = spec.slots
        self.max_leases = spec.slots  # plus the coordinator's prefetch, set on registration
        self.max_tasks = spec.max_tasks
        self.token_price = spec.token_price
        self.queue = queue
        self.breaker = breaker
        self.closed = True  # mirrors breaker.state is CLOSED; hot paths read this field only
        self.index = index  # position in the coordinator's agent list (O(1) random pick)
        self.load = 0.0  # expected work units queued locally
        self.leased_load = 0.0  # expected work units leased (running or prefetched)
        self.leases: dict[str, TaskRecord] = {}
        self.bcount = 0  # queued count as last filed in the load index
        self.bpos = -1
        self.nbpos = -1
        self.groups: dict[str, int] = {}
        self.hunting = False
        self.awaiting = False  # in the coordinator's `awaiting` line (pulled, found nothing)
        self.hb_armed = False
        self.last_seen = 0.0
        self.removed = False
        self.busy_s = 0.0
        self.completed = 0

    def backlog_s(self) -> float:
        """Expected seconds until this agent drains what it holds. O(1)."""
        return (self.load + self.leased_load) / self.speed

    def __repr__(self) -> str:
        return f"AgentRecord({self.id!r}, speed={self.speed}, queued={len(self.queue)})"


def task_spec_from_model(task: Task, *, origin: float = 0.0) -> TaskSpec:
    """A `models.Task` as a spec; its relative deadline is shifted by `origin`."""
    return TaskSpec(
        id=task.id,
        work=task.work,
        kind=task.kind,
        priority=PRIORITY_RANK[task.priority],
        tenant=task.tenant,
        weight=task.weight,
        deadline=None if task.deadline is None else origin + task.deadline,
        requires=frozenset(task.requires),
        pinned_agent=task.pinned_agent,
        demand={k: v for k, v in task.demand.items() if v > 0} or None,
        after=tuple(p.task for p in task.after),
    )


def agent_spec_from_model(agent: Agent) -> AgentSpec:
    """A `models.Agent` as a spec."""
    return AgentSpec(
        id=agent.id,
        speed=agent.speed,
        capabilities=frozenset(agent.capabilities),
        capacity=dict(agent.capacity),
        node=agent.node,
        max_tasks=agent.max_tasks,
    )
