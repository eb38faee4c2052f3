"""Two-objective Pareto fronts with CP-SAT by the epsilon-constraint method.

Each point is a lexicographic pair of solves (min f1 under f2 <= eps, then min f2
under f1 at that value), so points solved to optimality are exact Pareto points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.cpsat.model import CpSatModel, formulate
from solvers.cpsat.run import ScaledObjective, run_model, scale_objective
from solvers.shared.pareto import non_dominated

__all__ = ["EPSILON_LEVELS", "pareto_sweep"]

#: Interior epsilon levels between the two extreme points.
EPSILON_LEVELS = 6


@dataclass
class _Sweep:
    """The epsilon sweep's shared model and clock: each `lexmin` is one front point."""

    model: CpSatModel
    problem: CompiledProblem
    options: SolveOptions
    recorder: TraceRecorder
    hint: np.ndarray | None
    planned: int  # solves planned in all: each takes a share of what the clock has left
    solves: int = 0
    exact: bool = True
    # Proven minimum per objective (unconstrained first solves), the front's ideal point.
    ideal: dict[str, float] = field(default_factory=dict)

    def lexmin(
        self,
        first: tuple[ScaledObjective, _Cap],
        second: tuple[ScaledObjective, _Cap],
        eps: int | None,
        first_name: str | None = None,
    ) -> np.ndarray | None:
        """min first subject to second <= eps, then min second at that first value.

        Unconstrained (eps None), the first solve's bound is `first_name`'s proven minimum.
        """
        (first_objective, cap_first), (second_objective, cap_second) = first, second
        cap_first.set(None)
        cap_second.set(eps)
        values = None
        for objective, cap in ((first_objective, cap_first), (second_objective, None)):
            left = self.options.time_limit_s - self.recorder.elapsed()
            share = left / max(1, self.planned - self.solves)
            if self.options.deterministic:  # a share of the limit, not of what the clock left
                share = self.options.time_limit_s / max(1, self.planned)
            self.solves += 1
            if left <= 0.05:
                self.exact = False
                return values
            out = run_model(
                self.model, objective, self.problem, self.options, share, self.recorder, self.hint
            )
            if eps is None and cap is not None and first_name and out.bound is not None:
                self.ideal[first_name] = out.bound
            if out.values is None:
                if out.status != cp_model.INFEASIBLE:
                    self.exact = False
                return values
            self.exact &= out.status == cp_model.OPTIMAL
            values, self.hint = out.values, out.assignment
            if cap is not None:
                cap.set(objective.scaled_value(values))
        return values


class _Cap:
    """`expr <= variable`, with the variable's domain rewritten between solves."""

    def __init__(self, model: CpSatModel, objective: ScaledObjective):
        big = min(_magnitude(model, objective), 2**50)
        self.model, self.big = model, big
        self.var = model.model.new_int_var(-big, big, "cap")
        model.model.add(objective.expr(model) <= self.var)

    def set(self, limit: int | None) -> None:
        domain = self.model.model.proto.variables[self.var.index].domain
        domain[0] = -self.big
        domain[1] = self.big if limit is None else int(limit)


def _magnitude(model: CpSatModel, objective: ScaledObjective) -> int:
    upper = np.abs(model.upper(objective.index))
    return int((np.abs(objective.coef) * upper).sum()) + 1


def pareto_sweep(
    problem: CompiledProblem,
    options: SolveOptions,
    recorder: TraceRecorder,
    hint: np.ndarray | None,
    solver_name: str,
) -> SolveResult:
    """Extreme points first, then evenly spaced epsilon levels between them."""
    f1, f2 = problem.objectives.order
    model = formulate(problem, (f1, f2))
    notes = list(model.notes)
    o1, o2 = scale_objective(model, {f1: 1.0}), scale_objective(model, {f2: 1.0})
    if o1 is None or o2 is None:
        notes.append(f"{f1} or {f2} is not modelled in CP-SAT: no exact front")
        outcome = run_model(model, o1 or o2, problem, options, options.time_limit_s, recorder, hint)
        plan = outcome.assignment
        status = SolveStatus.FEASIBLE if plan is not None else SolveStatus.NO_SOLUTION
        return SolveResult(
            solver_name,
            status,
            StopReason.ITERATIONS_DONE,
            assignment=plan,
            front=[plan] if plan is not None else [],
            notes=notes,
        )
    one, two = (o1, _Cap(model, o1)), (o2, _Cap(model, o2))
    sweep = _Sweep(model, problem, options, recorder, hint, planned=2 * (2 + EPSILON_LEVELS))
    plans: list[np.ndarray] = []
    end_a = sweep.lexmin(one, two, None, f1)
    end_b = sweep.lexmin(two, one, None, f2)
    for values in (end_a, end_b):
        if values is not None:
            plans.append(model.assignment(values, problem.n_tasks))
    if end_a is not None and end_b is not None:
        hi, lo = o2.scaled_value(end_a), o2.scaled_value(end_b)
        levels = np.unique(np.floor(np.linspace(hi, lo, EPSILON_LEVELS + 2)[1:-1]).astype(int))
        for eps in levels[::-1]:
            if recorder.elapsed() >= options.time_limit_s:
                sweep.exact = False
                break
            values = sweep.lexmin(one, two, int(eps))
            if values is not None:
                plans.append(model.assignment(values, problem.n_tasks))
    result = _front_result(problem, plans, sweep.exact, notes, recorder, solver_name)
    result.ideal = dict(sweep.ideal) or None
    return result


def _front_result(problem, plans, exact, notes, recorder, solver_name) -> SolveResult:
    if not plans:
        return SolveResult(solver_name, SolveStatus.NO_SOLUTION, StopReason.TIME_LIMIT, notes=notes)
    f1, f2 = problem.objectives.order
    evals = [evaluate_plan(problem, p) for p in plans]
    points = [(e.objectives[f1], e.objectives[f2]) for e in evals]
    keep = sorted(non_dominated(points).tolist(), key=lambda k: points[k])
    front = [plans[k] for k in keep]
    best = min(keep, key=lambda k: evals[k].score)
    recorder.record(evals[best].score)
    if not exact:
        notes.append("some epsilon solves hit their time share: points may not be exact")
    notes.append("Pareto mode: no bound on the unit-weight sum is reported")
    return SolveResult(
        solver=solver_name,
        status=SolveStatus.OPTIMAL if exact else SolveStatus.FEASIBLE,
        stop_reason=StopReason.OPTIMAL_PROVEN if exact else StopReason.TIME_LIMIT,
        assignment=plans[best],
        front=front,
        objective=evals[best].score,
        notes=notes,
    )
