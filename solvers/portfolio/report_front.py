"""The merged Pareto front of a report and its hypervolume: one normalisation for all.

Every solver's verified plans (its chosen plan and its front, CP-SAT's epsilon points
included) are merged; ideal and nadir of the merged non-dominated front normalise
both the merged hypervolume and each solver's, so the figures compare.

A front member without a schedule whose only fault is a link loaded past its bandwidth
(the allocation NSGA-II is given the problem without its network) gets the same repair
as a solver's chosen plan before it is judged (workflow members are the workflow
NSGA-II's to repair and re-time); it joins the front when the repaired plan passes
`evaluate_plan`, so the front and its hypervolume count only plans that fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, Evaluation, evaluate_plan, plan_from_array
from models.report import ParetoPoint
from solvers.base import SolveResult
from solvers.portfolio.bandwidth_checks import only_bandwidth
from solvers.portfolio.plan_choice import Candidate, knee_index
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.shared.pareto import non_dominated, normalised_hypervolume

__all__ = ["FrontSummary", "merged_front", "verified_front"]

_MAX_FRONT_PLANS = 50
_MAX_FRONT_MEMBERS = 200  # of one solver's front, re-checked by the report
#: Seconds the bandwidth repairs of one solver's front members may take together after
#: the solvers stop, and one member's at most, never past the request's own deadline;
#: members left at the deadline are dropped.
FRONT_REPAIR_S = 1.0
MEMBER_REPAIR_S = 0.2


def verified_front(
    compiled: CompiledProblem, name: str, result: SolveResult, until: float = float("inf")
) -> list[Candidate]:
    """`result`'s front members that pass `evaluate_plan`, those that only overloaded a
    link repaired first (until `until`, perf_counter, at the latest: the request's time
    limit is a promise); a note on `result` says how many needed it and how many fit."""
    out: list[Candidate] = []
    deadline = min(until, time.perf_counter() + FRONT_REPAIR_S)
    over = repaired = 0
    for k, member in enumerate(result.front[:_MAX_FRONT_MEMBERS]):
        start = result.front_start[k] if k < len(result.front_start) else None
        plan, ev = np.asarray(member), evaluate_plan(compiled, member, start)
        if only_bandwidth(ev) and start is None:
            over += 1
            fixed = _repaired(compiled, plan, deadline)
            if fixed is not None:
                plan, ev = fixed
                repaired += 1
        if ev.feasible:
            out.append(Candidate(name, plan, ev, start=start))
    if over:
        result.notes.append(
            f"{over} front member(s) overloaded a link: {repaired} repaired to fit, "
            f"{over - repaired} dropped"
        )
    return out


def _repaired(
    compiled: CompiledProblem, plan: np.ndarray, deadline: float
) -> tuple[np.ndarray, Evaluation] | None:
    """The member moved within every link's bandwidth and its evaluation, or None."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    repair = repair_bandwidth(compiled, plan, time_limit_s=min(MEMBER_REPAIR_S, left))
    if not repair.fits:
        return None
    assignment = repair.assignment.astype(np.int32)
    ev = evaluate_plan(compiled, assignment)
    return (assignment, ev) if ev.feasible else None


@dataclass
class FrontSummary:
    """The merged front, its hypervolume, and each solver's under the same normalisation."""

    points: list[ParetoPoint]
    hypervolume: float | None
    per_solver: dict[str, float]


def merged_front(compiled: CompiledProblem, cands: list[Candidate]) -> FrontSummary:
    """Merge, keep the non-dominated points, mark the knee, and compute hypervolumes."""
    if not cands:
        return FrontSummary([], None, {})
    order = compiled.objectives.order
    points = np.array([[c.evaluation.objectives[n] for n in order] for c in cands])
    keep = non_dominated(points)
    keep = keep[np.argsort(points[keep, 0], kind="stable")]
    knee = keep[knee_index(points[keep])]
    ideal, nadir = points[keep].min(axis=0), points[keep].max(axis=0)
    per_solver = {}
    for name in dict.fromkeys(c.solver for c in cands):
        mine = points[[k for k, c in enumerate(cands) if c.solver == name]]
        per_solver[name] = normalised_hypervolume(mine, ideal, nadir)
    front = [
        ParetoPoint(
            solver=cands[k].solver,
            objectives={n: float(points[k, i]) for i, n in enumerate(order)},
            knee=bool(k == knee),
            plan=plan_from_array(compiled, cands[k].assignment, cands[k].start)
            if len(keep) <= _MAX_FRONT_PLANS
            else None,
        )
        for k in keep
    ]
    return FrontSummary(front, normalised_hypervolume(points[keep], ideal, nadir), per_solver)
