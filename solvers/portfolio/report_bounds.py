"""Bounds and proofs in the report: the best bound per mode, who proved it, and which
"optimal" claims survive the check against it.

A bound is compared only with the quantity it bounds (`solvers.shared.proof`): the
weighted score, the first lexicographic objective, or one objective in Pareto mode
(the ideal point). A bound above a verified plan's value is a solver bug: it is left
out and named in that solver's notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from models import CompiledProblem
from models.report import SolverRun
from solvers.base import SolveResult
from solvers.shared.proof import bound_is_plausible, relative_gap

__all__ = ["BoundSummary", "check_optimal_claim", "summarise_bounds"]

BOUND_BUG = "exceeds a verified plan's value"


@dataclass
class BoundSummary:
    """The best bound (scalar modes) or ideal point (Pareto), with provenance."""

    best: float | None = None
    best_by: str | None = None
    ideal: dict[str, float] = field(default_factory=dict)
    ideal_by: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, solver: str, text: str) -> None:
        self.notes.setdefault(solver, []).append(text)


def summarise_bounds(
    compiled: CompiledProblem,
    results: dict[str, SolveResult],
    extra: float | None,
    best_value: float | None,
    best_per_objective: dict[str, float],
) -> BoundSummary:
    """Keep the bounds no verified plan contradicts; the best one per quantity wins."""
    summary = BoundSummary()
    if compiled.objectives.mode == "pareto":
        _ideal_point(results, best_per_objective, summary)
        return summary
    bounds = [(n, r.bound) for n, r in results.items() if r.bound is not None]
    if extra is not None:
        bounds.append(("lagrangian", extra))
    for name, bound in bounds:
        if not math.isfinite(bound):
            continue
        if not bound_is_plausible(bound, best_value):
            summary.note(name, f"its bound {bound:.6g} {BOUND_BUG} {best_value:.6g}; ignored")
        elif summary.best is None or bound > summary.best:
            summary.best, summary.best_by = bound, name
    return summary


def _ideal_point(
    results: dict[str, SolveResult], best: dict[str, float], summary: BoundSummary
) -> None:
    for name, result in results.items():
        for objective, bound in (result.ideal or {}).items():
            if not bound_is_plausible(bound, best.get(objective)):
                summary.note(
                    name,
                    f"its bound {bound:.6g} on {objective} {BOUND_BUG} "
                    f"{best.get(objective, float('nan')):.6g}; ignored",
                )
            elif objective not in summary.ideal or bound > summary.ideal[objective]:
                summary.ideal[objective] = bound
                summary.ideal_by[objective] = name


def check_optimal_claim(
    compiled: CompiledProblem,
    run: SolverRun,
    summary: BoundSummary,
    own_best: dict[str, float],
    rel_gap: float,
) -> None:
    """Demote `run` from optimal unless its verified plan is within rel_gap of the bound.

    `own_best`: in Pareto mode, the best value per objective among the solver's verified
    plans; each must be within rel_gap of the proven ideal coordinate.
    """
    if run.status != "optimal":
        return
    if not run.verified:
        _demote(run, "error", "its plan failed verification, so it cannot be optimal")
        return
    if compiled.objectives.mode == "pareto":
        why = _pareto_gap(compiled, summary, own_best, rel_gap)
    else:
        why = _scalar_gap(run, summary, rel_gap)
    if why is not None:
        _demote(run, "feasible", f"reported optimal, but {why}")


def _scalar_gap(run: SolverRun, summary: BoundSummary, rel_gap: float) -> str | None:
    assert run.objective is not None
    gap = relative_gap(run.objective, summary.best)
    if gap is None:
        return "no proven bound on its objective"
    if gap > rel_gap:
        return f"its gap {gap:.3g} to the best bound {summary.best:.6g} exceeds {rel_gap:g}"
    return None


def _pareto_gap(
    compiled: CompiledProblem, summary: BoundSummary, own: dict[str, float], rel_gap: float
) -> str | None:
    for objective in compiled.objectives.order:
        gap = relative_gap(own[objective], summary.ideal.get(objective))
        if gap is None:
            return f"no proven bound on {objective} (ideal point)"
        if gap > rel_gap:
            return f"its best {objective} is {gap:.3g} above the proven ideal"
    return None


def _demote(run: SolverRun, status: str, note: str) -> None:
    run.status = status
    if run.stop_reason == "optimal_proven":
        run.stop_reason = "iterations_done"
    run.notes.append(note)
