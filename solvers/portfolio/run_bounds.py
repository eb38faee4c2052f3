"""Plans and bounds while a request runs: the plans found so far, the bounds no such
plan contradicts, the bound handed to a starting solver, and whether a finished
solver's "optimal" is a proof that may stop the others.

(The report's final bound summary is `report_bounds`; this module serves the runner
before the report exists.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from models import evaluate_plan
from models.compiled import CompiledProblem
from solvers.base import SolveResult, SolveStatus
from solvers.shared.proof import bound_is_plausible, bounded_value, is_proven_optimal

__all__ = ["checked_bounds", "known_bound", "plans_so_far", "proves_optimal", "raw_bounds"]


def plans_so_far(
    results: dict[str, SolveResult],
    best: tuple[float, np.ndarray] | None,
    deterministic: bool,
) -> list[tuple[float, np.ndarray]]:
    """(objective, plan) of every finished solver's plan, and the best streamed one."""
    out = [
        (r.objective, r.assignment)
        for r in results.values()
        if r.assignment is not None and r.objective is not None
    ]
    # A streamed plan depends on when the stream was read; deterministic runs skip it.
    if best is not None and not deterministic:
        out.append(best)
    return out


def raw_bounds(results: dict[str, SolveResult], lagrangian: float | None) -> list[float]:
    """Every bound reported so far (finished solvers and the background bound), unchecked."""
    raw = [r.bound for r in results.values() if r.bound is not None]
    if lagrangian is not None:
        raw.append(lagrangian)
    return raw


def checked_bounds(
    compiled: CompiledProblem, plans: list[np.ndarray], bounds: Iterable[float]
) -> list[float]:
    """The `bounds` that no feasible plan among `plans` contradicts."""
    values = []
    for plan in plans:
        ev = evaluate_plan(compiled, plan)
        if ev.feasible:
            values.append(bounded_value(compiled, ev))
    best = min(values, default=None)
    return [b for b in bounds if bound_is_plausible(b, best)]


def known_bound(
    compiled: CompiledProblem, hints: list[np.ndarray], bounds: Iterable[float]
) -> float | None:
    """The best checked bound to hand a starting solver (none in Pareto mode)."""
    if compiled.objectives.mode == "pareto":
        return None
    return max(checked_bounds(compiled, hints, bounds), default=None)


def proves_optimal(
    compiled: CompiledProblem,
    result: SolveResult,
    plans: list[np.ndarray],
    bounds: Iterable[float],
    rel_gap: float,
) -> bool:
    """OPTIMAL, verified by the evaluator, and within rel_gap of a checked bound."""
    if result.status != SolveStatus.OPTIMAL or result.assignment is None:
        return False
    if compiled.objectives.mode == "pareto":
        return False
    ev = evaluate_plan(compiled, result.assignment, result.start)
    if not ev.feasible:
        return False
    checked = checked_bounds(compiled, plans, bounds)
    return is_proven_optimal(bounded_value(compiled, ev), checked, rel_gap)
