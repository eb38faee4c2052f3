"""What the MCP tools return: compact, typed summaries a model can read in one glance.

Full reports stay in the job store (`get_result`); these carry the decision and the
figures that matter, so a tool answer does not flood a model's context.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from models.report import ComparisonReport
from models.topology_metrics import LinkLoad, NodeLoad

__all__ = [
    "AllocationOutcome",
    "BottleneckReport",
    "SolverLine",
    "SwarmStatus",
    "TopologyOutcome",
    "allocation_outcome",
]


class SolverLine(BaseModel):
    """One solver's verified outcome on the request."""

    name: str
    status: str = Field(description="optimal, feasible, infeasible, no_solution, error, skipped")
    stop_reason: str
    objective: float | None = Field(default=None, description="Re-verified score (minimised).")
    bound: float | None = None
    gap: float | None = None
    wall_time_s: float
    error: str | None = None


class AllocationOutcome(BaseModel):
    """A finished allocation or comparison: the chosen plan and each solver's line."""

    job_id: str
    kind: str
    status: str = Field(description="Job lifecycle: succeeded, failed, cancelled.")
    stop_reason: str | None = Field(
        default=None, description="Why it stopped: proven, time_limit, completed, cancelled."
    )
    solution: str | None = Field(
        default=None, description="What it has: optimal, feasible, infeasible, none."
    )
    objective: float | None = None
    best_bound: float | None = None
    chosen_solver: str | None = None
    assignments: dict[str, str] = Field(
        default_factory=dict, description="task id -> agent id of the chosen plan."
    )
    unassigned: list[str] = Field(default_factory=list)
    unassigned_reasons: dict[str, str] = Field(default_factory=dict)
    n_assigned: int = Field(default=0, description="Assigned tasks in the whole plan.")
    plan_truncated: bool = Field(
        default=False, description="The plan was too big to list; read plan_resource."
    )
    plan_resource: str | None = Field(
        default=None, description="Resource URI of the full plan when it is not listed."
    )
    jain_fairness: float | None = None
    utilisation: dict[str, float] = Field(
        default_factory=dict,
        description="Agent -> busiest resource's usage / capacity (the busiest 20 in a summary).",
    )
    solvers: list[SolverLine] = Field(default_factory=list)
    diagnosis: list[str] = Field(
        default_factory=list, description="Why the request is infeasible, when it is."
    )
    error: str | None = None


class TopologyOutcome(BaseModel):
    """A finished topology job: the decision, the link changes and the objective."""

    job_id: str
    status: str
    name: str | None = None
    decision: str | None = Field(default=None, description="optimal, feasible or infeasible")
    applied: bool = False
    reason: str | None = None
    objective_before: float | None = None
    objective_after: float | None = None
    improvement: float | None = None
    links_to_add: list[dict[str, Any]] = Field(default_factory=list)
    links_to_remove: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None


class BottleneckReport(BaseModel):
    """Nodes relaying the most traffic and links at or over their bandwidth."""

    name: str
    traffic_weighted_latency_ms: float | None
    bottleneck_nodes: list[NodeLoad]
    bottleneck_links: list[LinkLoad]
    overloaded_links: list[LinkLoad]


class SwarmStatus(BaseModel):
    """One swarm's coordinator KPIs (load variance, migration rate, latency, fairness...)."""

    name: str
    kpis: dict[str, Any]


def allocation_outcome(
    job_id: str,
    kind: str,
    status: str,
    stop_reason: str | None,
    solution: str | None,
    error: str | None,
    report: ComparisonReport | None,
) -> AllocationOutcome:
    """Reduce a stored comparison report to what a model needs to act on."""
    outcome = AllocationOutcome(
        job_id=job_id,
        kind=kind,
        status=status,
        stop_reason=stop_reason,
        solution=solution,
        error=error,
    )
    if report is None:
        return outcome
    outcome.best_bound = report.best_bound
    outcome.diagnosis = list(report.diagnosis)
    outcome.solvers = [
        SolverLine(
            name=r.name,
            status=r.status,
            stop_reason=r.stop_reason,
            objective=r.objective if r.verified else None,
            bound=r.bound,
            gap=r.gap,
            wall_time_s=r.wall_time_s,
            error=r.error,
        )
        for r in report.solvers
    ]
    chosen = report.chosen
    if chosen is not None:
        outcome.objective = chosen.objective
        outcome.chosen_solver = chosen.solver
        outcome.assignments = dict(chosen.plan.assignments)
        outcome.unassigned = list(chosen.plan.unassigned)
        outcome.unassigned_reasons = dict(chosen.unassigned_reasons)
        outcome.jain_fairness = chosen.jain_fairness
        outcome.utilisation = {a.agent: a.utilisation for a in chosen.agents}
    return outcome
