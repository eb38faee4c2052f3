"""What a bound proves, checked once: the quantity a bound refers to in each mode, the
relative gap, validation of bounds passed in from elsewhere, and "proven optimal".

A bound is on the *bounded value* of a plan: the weighted score (weighted mode) or
the first objective (lexicographic mode). Pareto mode has no scalar bound; there a
bound is per objective (the ideal point). "Optimal" means: the evaluator accepts the
plan, and its bounded value is within `rel_gap` of a bound that no verified plan
contradicts. The portfolio, the report and the LNS (for `known_bound`) all use this.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from models import CompiledProblem, Evaluation, evaluate_plan

__all__ = [
    "ABSOLUTE_GAP_TOLERANCE",
    "bound_is_plausible",
    "bounded_value",
    "checked_known_bound",
    "is_proven_optimal",
    "relative_gap",
]

#: A difference this small closes the gap whatever the objective's size (as HiGHS's
#: absolute gap does), so an objective of 0 can be proven optimal.
ABSOLUTE_GAP_TOLERANCE = 1e-6
# Relative float noise allowed before a bound counts as exceeding a plan's value.
_PLAUSIBLE_RTOL = 1e-6


def bounded_value(problem: CompiledProblem, evaluation: Evaluation) -> float:
    """The scalar a bound refers to: weighted score, or the first lexicographic objective."""
    spec = problem.objectives
    if spec.mode == "lexicographic":
        return float(evaluation.objectives[spec.order[0]])
    return float(evaluation.score)


def relative_gap(value: float, bound: float | None) -> float | None:
    """(value - bound) / |value|, 0 within ABSOLUTE_GAP_TOLERANCE; None without a bound."""
    if bound is None:
        return None
    diff = max(value - bound, 0.0)
    if diff <= ABSOLUTE_GAP_TOLERANCE:
        return 0.0
    return diff / max(abs(value), 1e-9)


def bound_is_plausible(bound: float, best_value: float | None) -> bool:
    """A finite bound no verified plan beats (beyond float noise)."""
    if not math.isfinite(bound):
        return False
    if best_value is None:
        return True
    return bound <= best_value + _PLAUSIBLE_RTOL * max(1.0, abs(best_value))


def checked_known_bound(
    problem: CompiledProblem, bound: float | None, plans: Iterable[np.ndarray] = ()
) -> float | None:
    """`bound` if it may be used as a proven lower bound on this problem's bounded value.

    Rejected (None): no bound, Pareto mode (no scalar bound there), NaN or infinite,
    or above the bounded value of a feasible plan among `plans` (e.g. the hints).
    """
    if bound is None or problem.objectives.mode == "pareto" or not math.isfinite(bound):
        return None
    values = []
    for plan in plans:
        ev = evaluate_plan(problem, np.asarray(plan))
        if ev.feasible:
            values.append(bounded_value(problem, ev))
    return bound if bound_is_plausible(bound, min(values, default=None)) else None


def is_proven_optimal(value: float, bounds: Iterable[float | None], rel_gap: float) -> bool:
    """Whether a verified plan's bounded `value` is within `rel_gap` of a proven bound.

    `bounds` must already be checked (`bound_is_plausible` against verified plans).
    """
    best = max((b for b in bounds if b is not None and math.isfinite(b)), default=None)
    gap = relative_gap(value, best)
    return gap is not None and gap <= rel_gap
