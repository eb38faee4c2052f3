"""The comparison report: one document per request, shared by CLI, API, MCP and HTML."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from models import Plan

__all__ = [
    "AgentLoad",
    "ChosenPlan",
    "ComparisonReport",
    "ParetoPoint",
    "ProblemSummary",
    "RunSettings",
    "SolverRun",
]


class ProblemSummary(BaseModel):
    """Sizes and settings of the request."""

    name: str
    n_agents: int
    n_tasks: int
    n_resources: int
    resources: list[str]
    mode: str
    objectives: list[str]
    allow_unassigned: bool
    n_groups: int = 0
    n_communication_pairs: int = 0


class RunSettings(BaseModel):
    """The budget the portfolio ran under."""

    solvers: list[str]
    time_limit_s: float
    seed: int
    workers: int


class SolverRun(BaseModel):
    """One solver's outcome, re-checked by the evaluator."""

    name: str
    status: str  # what we have: optimal, feasible, infeasible, no_solution, error, skipped
    stop_reason: str  # why it stopped
    objective: float | None = None  # scalar score from evaluate_plan (never the solver's own)
    objectives: dict[str, float] | None = None
    bound: float | None = None
    gap: float | None = None  # (objective - best bound) / |objective|
    verified: bool = False
    violations: list[str] = Field(default_factory=list)
    wall_time_s: float = 0.0
    time_to_first_s: float | None = None
    time_to_best_s: float | None = None
    error: str | None = None
    notes: list[str] = Field(default_factory=list)
    trace: list[tuple[float, float]] = Field(default_factory=list)
    front_size: int = 0
    hypervolume: float | None = None


class AgentLoad(BaseModel):
    """Per-agent load of the chosen plan."""

    agent: str
    n_tasks: int
    load_s: float
    utilisation: float
    usage: dict[str, float]
    capacity: dict[str, float]


class ChosenPlan(BaseModel):
    """The plan the portfolio picked, and why."""

    solver: str
    reason: str
    objective: float
    objectives: dict[str, float]
    plan: Plan
    agents: list[AgentLoad] = Field(default_factory=list)
    jain_fairness: float = 1.0
    load_variance: float = 0.0
    unassigned_reasons: dict[str, str] = Field(default_factory=dict)


class ParetoPoint(BaseModel):
    """One non-dominated plan of the merged front."""

    solver: str
    objectives: dict[str, float]
    knee: bool = False
    plan: Plan | None = None


class ComparisonReport(BaseModel):
    """What a request produced: every solver's verified outcome and the chosen plan."""

    status: Literal["solved", "infeasible", "no_solution"]
    problem: ProblemSummary
    settings: RunSettings
    solvers: list[SolverRun]
    chosen: ChosenPlan | None = None
    best_bound: float | None = None
    pareto_front: list[ParetoPoint] = Field(default_factory=list)
    diagnosis: list[str] = Field(default_factory=list)
    wall_time_s: float = 0.0
