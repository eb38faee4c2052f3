"""The allocation request schema (pydantic v2): agents, tasks, groups, objectives.

This is the single source of truth shared by the library, the CLI, the HTTP API
and the MCP tools; `Problem.model_json_schema()` is what `allocator schema` prints.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.numeric_ranges import check_numbers
from models.workflow import check_dependencies

__all__ = [
    "OBJECTIVE_NAMES",
    "PRIORITY_WEIGHT",
    "Agent",
    "Communication",
    "ConstraintGroup",
    "Link",
    "ObjectiveName",
    "Objectives",
    "Predecessor",
    "PriorityClass",
    "Problem",
    "Task",
    "Topology",
    "TopologyNode",
]


class PriorityClass(StrEnum):
    """Priority classes of a task; critical is served first."""

    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"


#: Weight of each priority class in priority-weighted objectives.
PRIORITY_WEIGHT: dict[PriorityClass, float] = {
    PriorityClass.critical: 8.0,
    PriorityClass.high: 4.0,
    PriorityClass.normal: 2.0,
    PriorityClass.low: 1.0,
}

ObjectiveName = Literal[
    "cost",
    "makespan",
    "weighted_completion",
    "consolidation",
    "imbalance",
    "unassigned",
    "migrations",
    "tardiness",
    "communication",
]

#: Every objective, in the fixed order used by compiled arrays and reports.
OBJECTIVE_NAMES: tuple[str, ...] = (
    "cost",
    "makespan",
    "weighted_completion",
    "consolidation",
    "imbalance",
    "unassigned",
    "migrations",
    "tardiness",
    "communication",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _numbers_in_range(self) -> _Strict:
        check_numbers(self)  # finite, float32-safe, bounded integers (models/numeric_ranges.py)
        return self


class Agent(_Strict):
    """A worker that can run tasks, with a capacity per resource dimension."""

    id: str = Field(min_length=1)
    capacity: dict[str, float] = Field(
        default_factory=dict,
        description="Capacity per resource dimension; a dimension left out has capacity 0.",
    )
    speed: float = Field(default=1.0, gt=0, description="Work units per second.")
    cost_rate: float = Field(default=1.0, ge=0, description="Cost per second of busy time.")
    capabilities: list[str] = Field(default_factory=list)
    max_tasks: int | None = Field(default=None, ge=0)
    node: str | None = Field(default=None, description="Topology node the agent sits on.")

    @field_validator("capacity")
    @classmethod
    def _capacity_non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for dim, amount in value.items():
            if amount < 0:
                raise ValueError(f"capacity for {dim!r} is {amount}; use a value >= 0")
        return value


class Predecessor(_Strict):
    """A task that must finish first, and the data it sends to its successor."""

    task: str = Field(min_length=1)
    data: float = Field(default=0.0, ge=0, description="Data volume sent to the successor.")


class Task(_Strict):
    """A unit of work to place on exactly one agent."""

    id: str = Field(min_length=1)
    demand: dict[str, float] = Field(default_factory=dict)
    work: float = Field(default=1.0, ge=0, description="Work units; duration = work / speed.")
    priority: PriorityClass = PriorityClass.normal
    deadline: float | None = Field(default=None, ge=0, description="Seconds from plan start.")
    requires: list[str] = Field(default_factory=list, description="Required capabilities.")
    tenant: str = "default"
    weight: float = Field(default=1.0, gt=0)
    kind: str | None = None
    pinned_agent: str | None = None
    current_agent: str | None = None
    after: list[Predecessor] = Field(
        default_factory=list,
        description="Predecessors: a task id, or {task, data} with the data volume it sends.",
    )

    @field_validator("after", mode="before")
    @classmethod
    def _task_ids_are_predecessors(cls, value: object) -> object:
        # A bare id is shorthand for {"task": id}; one shape keeps error paths plain.
        if isinstance(value, list):
            return [{"task": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("demand")
    @classmethod
    def _demand_non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for dim, amount in value.items():
            if amount < 0:
                raise ValueError(f"demand for {dim!r} is {amount}; use a value >= 0")
        return value


class ConstraintGroup(_Strict):
    """Anti-affinity (all on different agents) or co-location (all on one agent)."""

    kind: Literal["anti_affinity", "co_location"]
    tasks: list[str] = Field(min_length=2)
    name: str | None = None


class Communication(_Strict):
    """Traffic volume between two tasks (symmetric)."""

    a: str
    b: str
    volume: float = Field(gt=0)


class TopologyNode(_Strict):
    """A network node agents can sit on; optional coordinates price new links by distance."""

    id: str = Field(min_length=1)
    x: float | None = Field(default=None, description="Optional position (for link latency).")
    y: float | None = Field(default=None, description="Optional position (for link latency).")


class Link(_Strict):
    """An undirected network link."""

    a: str
    b: str
    latency_ms: float = Field(default=1.0, ge=0)
    bandwidth: float = Field(default=1000.0, gt=0)
    cost: float = Field(default=1.0, ge=0)


class Topology(_Strict):
    """Nodes and links; agents name their node in `Agent.node`."""

    nodes: list[TopologyNode] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)

    @model_validator(mode="after")
    def _links_name_known_nodes(self) -> Topology:
        known = {n.id for n in self.nodes}
        for link in self.links:
            for end in (link.a, link.b):
                if end not in known:
                    raise ValueError(
                        f"link {link.a}-{link.b} names unknown node {end!r}; "
                        "add it to topology.nodes"
                    )
        return self


def _cost_only() -> dict[ObjectiveName, float]:
    return {"cost": 1.0}


class Objectives(_Strict):
    """Which objectives count and how they combine (all are minimised)."""

    mode: Literal["weighted", "lexicographic", "pareto"] = "weighted"
    weights: dict[ObjectiveName, float] = Field(
        default_factory=_cost_only,
        description="Weighted mode: score = sum(weight * objective).",
    )
    order: list[ObjectiveName] = Field(
        default_factory=list, description="Lexicographic mode: most important first."
    )
    pareto: list[ObjectiveName] = Field(
        default_factory=list, description="Pareto mode: the objectives traded off (2 or more)."
    )

    @model_validator(mode="after")
    def _mode_has_its_fields(self) -> Objectives:
        for name, w in self.weights.items():
            if w < 0:
                raise ValueError(f"objective weight for {name} is {w}; use a value >= 0")
        if self.mode == "lexicographic" and not self.order:
            raise ValueError("mode 'lexicographic' needs 'order': a list of objective names")
        if self.mode == "pareto" and len(self.pareto) < 2:
            raise ValueError("mode 'pareto' needs 'pareto': at least two objective names")
        return self

    def active(self) -> list[str]:
        """The objectives this mode optimises, in priority order."""
        if self.mode == "lexicographic":
            return list(self.order)
        if self.mode == "pareto":
            return list(self.pareto)
        return [name for name, w in self.weights.items() if w > 0]


class Problem(_Strict):
    """A batch allocation request."""

    name: str = "problem"
    resources: list[str] = Field(default_factory=lambda: ["cpu"], min_length=1)
    agents: list[Agent] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)
    cost: list[list[float]] | None = Field(
        default=None, description="Explicit cost[agent][task]; overrides work/speed*cost_rate."
    )
    usage: list[list[float]] | list[list[list[float]]] | None = Field(
        default=None,
        description="Explicit usage[agent][task] (first resource) or usage[agent][task][dim].",
    )
    groups: list[ConstraintGroup] = Field(default_factory=list)
    communication: list[Communication] = Field(default_factory=list)
    topology: Topology | None = None
    default_bandwidth: float = Field(
        default=1.0, gt=0, description="Data units per second between agents without a topology."
    )
    objectives: Objectives = Field(default_factory=Objectives)
    allow_unassigned: bool = False
    unassigned_penalty: float = Field(
        default=1000.0, ge=0, description="Penalty per unassigned task, times its priority weight."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Problem:
        agent_ids = [a.id for a in self.agents]
        task_ids = [t.id for t in self.tasks]
        _no_duplicates("agent", agent_ids)
        _no_duplicates("task", task_ids)
        dims = set(self.resources)
        known_agents = set(agent_ids)
        known_tasks = set(task_ids)
        for agent in self.agents:
            for dim in agent.capacity:
                if dim not in dims:
                    raise ValueError(
                        f"agent {agent.id} has capacity for unknown resource {dim!r}; "
                        f"add it to 'resources' {sorted(dims)}"
                    )
        for task in self.tasks:
            for dim in task.demand:
                if dim not in dims:
                    raise ValueError(
                        f"task {task.id} demands unknown resource {dim!r}; "
                        f"add it to 'resources' {sorted(dims)}"
                    )
            for ref in (task.pinned_agent, task.current_agent):
                if ref is not None and ref not in known_agents:
                    raise ValueError(f"task {task.id} names unknown agent {ref!r}")
        for group in self.groups:
            for tid in group.tasks:
                if tid not in known_tasks:
                    raise ValueError(f"{group.kind} group names unknown task {tid!r}")
        for comm in self.communication:
            for tid in (comm.a, comm.b):
                if tid not in known_tasks:
                    raise ValueError(f"communication names unknown task {tid!r}")
        self._check_matrix_shapes(len(agent_ids), len(task_ids))
        check_dependencies({t.id: [p.task for p in t.after] for t in self.tasks})
        if self.topology is not None:
            nodes = {n.id for n in self.topology.nodes}
            for agent in self.agents:
                if agent.node is not None and agent.node not in nodes:
                    raise ValueError(
                        f"agent {agent.id} sits on unknown topology node {agent.node!r}"
                    )
        return self

    def _check_matrix_shapes(self, m: int, n: int) -> None:
        for label, matrix in (("cost", self.cost), ("usage", self.usage)):
            if matrix is None:
                continue
            if len(matrix) != m:
                raise ValueError(f"{label} has {len(matrix)} rows; it needs one per agent ({m})")
            for row in matrix:
                if len(row) != n:
                    raise ValueError(
                        f"{label} rows need one entry per task ({n}); found a row of {len(row)}"
                    )


def _no_duplicates(label: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ValueError(f"{label} id {ident!r} appears twice; ids must be unique")
        seen.add(ident)
