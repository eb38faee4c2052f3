"""The merged Pareto front of a report and its hypervolume: one normalisation for all.

Every solver's verified plans (its chosen plan and its front, CP-SAT's epsilon points
included) are merged; ideal and nadir of the merged non-dominated front normalise
both the merged hypervolume and each solver's, so the figures compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, plan_from_array
from models.report import ParetoPoint
from solvers.portfolio.plan_choice import Candidate, knee_index
from solvers.shared.pareto import non_dominated, normalised_hypervolume

__all__ = ["FrontSummary", "merged_front"]

_MAX_FRONT_PLANS = 50


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
