"""The one check of warm starts: which of the caller's hints are well-formed plans, and
which of those the evaluator accepts.

Every engine that takes `SolveOptions.hints` goes through here, so a malformed hint
(wrong length, agent index out of range) is dropped the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, evaluate_plan

__all__ = ["CheckedHint", "best_hint", "check_hints", "well_formed_hint"]


@dataclass(frozen=True)
class CheckedHint:
    """A well-formed hint (int32[n], -1 = unassigned) and the evaluator's verdict on it."""

    plan: np.ndarray
    feasible: bool
    score: float
    position: int  # index in the caller's list (ties go to the earlier hint)


def well_formed_hint(problem: CompiledProblem, hint: np.ndarray) -> np.ndarray | None:
    """`hint` as int32[n] when it has one entry per task and every entry is -1..m-1."""
    h = np.asarray(hint)
    if h.shape != (problem.n_tasks,):
        return None
    if h.min(initial=0) < -1 or h.max(initial=-1) >= problem.n_agents:
        return None
    return h.astype(np.int32)


def check_hints(problem: CompiledProblem, hints: Sequence[np.ndarray]) -> list[CheckedHint]:
    """Every well-formed hint with its evaluation, in the caller's order."""
    out = []
    for position, hint in enumerate(hints):
        plan = well_formed_hint(problem, hint)
        if plan is None:
            continue
        ev = evaluate_plan(problem, plan)
        out.append(CheckedHint(plan, ev.feasible, float(ev.score), position))
    return out


def best_hint(
    problem: CompiledProblem, hints: Sequence[np.ndarray], *, or_infeasible: bool = False
) -> np.ndarray | None:
    """The feasible hint with the lowest score (earliest on ties).

    With `or_infeasible`, the first well-formed hint when none is feasible (CP-SAT can
    still use a partly wrong hint to steer its search).
    """
    checked = check_hints(problem, hints)
    feasible = [c for c in checked if c.feasible]
    if feasible:
        return min(feasible, key=lambda c: (c.score, c.position)).plan
    if or_infeasible and checked:
        return checked[0].plan
    return None
