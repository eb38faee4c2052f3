"""From what the backend said in each stage to our status: never trust one status flag.

"Optimal" needs four things at once: every stage's backend says optimal, the gap we
compute ourselves from the evaluated score agrees, there is a proof at all (a bound,
or lexicographic stages), and no objective was left out of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.milp.backends import BackendOutcome
from solvers.milp.model import MilpModel
from solvers.shared.proof import relative_gap
from solvers.shared.timing import fill_timing

__all__ = ["StageResult", "conclude", "result"]


@dataclass
class StageResult:
    """One solve of the model with one objective (lexicographic) or all (weighted)."""

    names: tuple[str, ...]
    outcome: BackendOutcome
    assignment: np.ndarray | None
    constant: float  # objective terms kept outside the solver model


def conclude(
    problem: CompiledProblem,
    options: SolveOptions,
    clock: TraceRecorder,
    best_incumbent: np.ndarray | None,
    model: MilpModel,
    stages: list[StageResult],
    n_stages: int,
    notes: list[str],
) -> SolveResult:
    """The result of the whole solve: `n_stages` were planned, `stages` ran."""
    first = stages[0].outcome
    if first.infeasible:
        return result(problem, clock, SolveStatus.INFEASIBLE, StopReason.INFEASIBLE_PROVEN, notes)
    plan = _final_plan(stages, n_stages, best_incumbent)
    if plan is None:
        if first.stopped_by_limit:
            return result(problem, clock, SolveStatus.NO_SOLUTION, StopReason.TIME_LIMIT, notes)
        error = first.status_text
        return result(problem, clock, SolveStatus.ERROR, StopReason.ERROR, notes, error=error)
    evaluation = evaluate_plan(problem, plan)
    if not evaluation.feasible:
        reasons = "; ".join(v.message for v in evaluation.violations[:3])
        error = f"backend plan fails the evaluator: {reasons}"
        return result(problem, clock, SolveStatus.ERROR, StopReason.ERROR, notes, error=error)
    bound, gap = _bound_and_gap(stages, n_stages, evaluation.score, notes)
    every_stage_optimal = len(stages) == n_stages and all(s.outcome.proven_optimal for s in stages)
    proven = every_stage_optimal and _gap_closed(gap, options.rel_gap)
    proven = proven and (n_stages > 1 or gap is not None)
    if proven and model.skipped:
        notes.append(
            "optimal for the modelled objectives only: " + ", ".join(model.skipped) + " left out"
        )
        proven = False
    out_of_time = clock.elapsed() >= options.time_limit_s * 0.999
    status, stop = verdict(proven, every_stage_optimal and not out_of_time, gap)
    return result(
        problem, clock, status, stop, notes, plan=plan, bound=bound, objective=evaluation.score
    )


def verdict(
    proven: bool, finished_early: bool, gap: float | None
) -> tuple[SolveStatus, StopReason]:
    """The status table.

    proven                  -> OPTIMAL,  OPTIMAL_PROVEN (gap 0) or GAP_REACHED (gap > 0)
    backend finished early  -> FEASIBLE, GAP_REACHED (a left-out objective or our own gap
                               check keeps the plan from being called optimal)
    otherwise               -> FEASIBLE, TIME_LIMIT
    """
    if proven:
        return SolveStatus.OPTIMAL, StopReason.GAP_REACHED if gap else StopReason.OPTIMAL_PROVEN
    if finished_early:
        return SolveStatus.FEASIBLE, StopReason.GAP_REACHED
    return SolveStatus.FEASIBLE, StopReason.TIME_LIMIT


def _final_plan(
    stages: list[StageResult], n_stages: int, best_incumbent: np.ndarray | None
) -> np.ndarray | None:
    if n_stages == 1 and best_incumbent is not None:
        # With a non-linear objective left out, an earlier incumbent can score better.
        return best_incumbent
    return next((s.assignment for s in reversed(stages) if s.assignment is not None), None)


def _bound_and_gap(
    stages: list[StageResult], n_stages: int, score: float, notes: list[str]
) -> tuple[float | None, float | None]:
    """The bound on the score and our gap (one stage); stage bounds as notes (several)."""
    if n_stages > 1:
        # Each stage's bound holds only with the earlier objectives fixed, so no single
        # bound on the unit-weighted score follows.
        per_stage = [
            f"{s.names[0]} >= {s.outcome.bound + s.constant:.6g}"
            for s in stages
            if s.outcome.bound is not None
        ]
        notes.append("lexicographic stage bounds: " + (", ".join(per_stage) or "none"))
        return None, None
    first = stages[0]
    if first.outcome.bound is None:
        return None, None
    bound = first.outcome.bound + first.constant
    return bound, relative_gap(score, bound)


def _gap_closed(gap: float | None, rel_gap: float) -> bool:
    # The backend's word "optimal" must agree with the gap we compute ourselves.
    return gap is None or gap <= max(rel_gap, 1e-6) + 1e-9


def result(
    problem: CompiledProblem,
    clock: TraceRecorder,
    status: SolveStatus,
    stop: StopReason,
    notes: list[str],
    *,
    plan: np.ndarray | None = None,
    bound: float | None = None,
    objective: float | None = None,
    error: str | None = None,
) -> SolveResult:
    solved = SolveResult(
        solver="milp",
        status=status,
        stop_reason=stop,
        assignment=plan,
        bound=bound,
        objective=objective,
        notes=[*problem.notes, *notes],
        error=error,
    )
    return fill_timing(solved, clock)
