"""The comparison report: one document per request, shared by CLI, API, MCP and HTML.

One clock for every time in it: seconds on the portfolio's monotonic clock, counted
from the request's start. A solver entry's `started_at_s` is when it was started;
`time_to_first_s` and `time_to_best_s` are when its first and best plan arrived;
`wall_time_s` is a duration, from `started_at_s` until the portfolio had its result
(or stopped it); trace times are on the request's clock too. Always
`started_at_s <= time_to_first_s <= time_to_best_s <= started_at_s + wall_time_s`.

Bounds are on the quantity the mode ranks by: the weighted score (weighted), the first
objective (lexicographic), and per objective (the ideal point) in Pareto mode.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from models import Plan
from models.plan_why import PlanWhy
from models.topology_metrics import LinkLoad

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
    rel_gap: float = 1e-4  # "optimal" means a gap to a proven bound of at most this


class SolverRun(BaseModel):
    """One solver's outcome, re-checked by the evaluator."""

    name: str
    status: str  # what we have: optimal, feasible, infeasible, no_solution, error, skipped
    stop_reason: str  # why it stopped
    # The bounded value from evaluate_plan (never the solver's own): weighted score, or
    # the first objective in lexicographic mode.
    objective: float | None = None
    objectives: dict[str, float] | None = None
    bound: float | None = None  # this solver's proven bound on `objective`'s quantity
    ideal: dict[str, float] | None = None  # Pareto mode: its proven bound per objective
    gap: float | None = None  # (objective - best bound) / |objective|, 0 within 1e-6
    verified: bool = False
    violations: list[str] = Field(default_factory=list)
    started_at_s: float | None = None  # None: never started
    wall_time_s: float = 0.0
    time_to_first_s: float | None = None
    time_to_best_s: float | None = None
    error: str | None = None
    notes: list[str] = Field(default_factory=list)
    trace: list[tuple[float, float]] = Field(default_factory=list)
    front_size: int = 0
    # Pareto mode: hypervolume of this solver's verified plans, normalised by the ideal
    # and nadir of the merged front (comparable across solvers of one report).
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
    links: list[LinkLoad] = Field(
        default_factory=list,
        description="Topology links the plan's communication crosses (traffic routed within "
        "bandwidth where it can be) with their utilisation, busiest first; empty without any.",
    )


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
    best_bound: float | None = None  # the largest bound no verified plan contradicts
    best_bound_by: str | None = None  # the solver (or "lagrangian") that proved it
    # How the best bound was obtained when no solver's own result says it (the
    # Lagrangian bound's method, steps and time); None otherwise.
    best_bound_method: str | None = None
    ideal_point: dict[str, float] | None = None  # Pareto: proven bound per objective
    ideal_point_by: dict[str, str] | None = None  # which solver proved each coordinate
    pareto_front: list[ParetoPoint] = Field(default_factory=list)
    # Pareto mode: the merged front's hypervolume under its own ideal and nadir.
    hypervolume: float | None = None
    diagnosis: list[str] = Field(default_factory=list)
    # From the request's start until every solver's result was in (or it was stopped),
    # before the report itself is built; the whole call is timed by bench.time_limit.
    wall_time_s: float = 0.0
    # A re-plan's diff, freed tasks and moves used (None for ordinary solves).
    replan: dict[str, Any] | None = None
    # Why the chosen plan is as it is: binding resources, unassigned tasks' reasons.
    why: PlanWhy | None = None
