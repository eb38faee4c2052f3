"""The MILP solver through PuLP (HiGHS by default, or CBC): formulate, solve, extract.

Status comes from the backend's model status, the wall time and the objective-bound
gap, never from PuLP's status alone (PuLP has said "Optimal" after a time limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.milp.backends import (
    BackendOutcome,
    MilpBackendError,
    backend_available,
    check_backend,
    run_cbc,
    run_highs,
)
from solvers.milp.model import MilpModel, ModelInfeasibleError, build_model, hint_values

__all__ = ["MAX_MILP_VARS", "MilpBackendError", "MilpSolver", "export_model"]

#: Above this many (agent, task) variables the MILP rarely finds a plan in a typical budget.
MAX_MILP_VARS = 500_000
_EXPORT_FORMATS = ("lp", "mps")


@dataclass
class _Stage:
    """One solve of the model with one objective (lexicographic) or all (weighted)."""

    outcome: BackendOutcome
    assignment: np.ndarray | None
    constant: float  # objective terms kept outside the solver model


class _Incumbents:
    """Plans found so far, scored by the one evaluator so traces compare across solvers."""

    def __init__(self, problem: CompiledProblem, options: SolveOptions, clock: TraceRecorder):
        self.problem = problem
        self.options = options
        self.clock = clock
        self.best_score = np.inf
        self.best: np.ndarray | None = None

    def offer(self, assignment: np.ndarray) -> None:
        evaluation = evaluate_plan(self.problem, assignment)
        if evaluation.feasible and evaluation.score < self.best_score - 1e-12:
            self.best_score, self.best = evaluation.score, assignment
            self.clock.record(evaluation.score)
            self.options.report_incumbent(assignment, evaluation.score)

    def logged(self, at_s: float, objective: float) -> None:
        """An incumbent known only by value and time (CBC's log)."""
        trace = self.clock.trace
        if not trace or objective < trace[-1][1] - 1e-12:
            trace.append((at_s, objective))


class MilpSolver:
    """Exact MILP on the compiled arrays; anytime through the backend's incumbents."""

    name = "milp"
    exact = True
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return backend_available("highs") or backend_available("cbc")

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        n_vars = int(problem.eligible.sum())
        if n_vars > MAX_MILP_VARS:
            return (
                f"{n_vars} assignment variables exceed the MILP limit of {MAX_MILP_VARS}; "
                "the heuristic and the LP bound cover requests this large"
            )
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        """Solve within options.time_limit_s (CBC is stopped from outside if it overruns).

        Raises:
            MilpBackendError: options.backend is unknown or not installed here.
        """
        backend = check_backend(options.backend)
        clock = TraceRecorder()
        names = _objective_names(problem)
        notes = [f"backend {backend}"]
        if problem.objectives.mode == "pareto":
            notes.append("pareto mode: the MILP returns one point, the unit-weighted sum")
        try:
            model = build_model(problem, names)
        except ModelInfeasibleError as exc:
            return _result(
                problem,
                clock,
                SolveStatus.INFEASIBLE,
                StopReason.INFEASIBLE_PROVEN,
                notes=[*notes, str(exc)],
            )
        notes += model.notes
        notes.append(f"model built in {clock.elapsed():.2f} s: {model.n_vars} assignment vars")
        incumbents = _Incumbents(problem, options, clock)
        start = _best_hint(problem, options)
        stages = _stages(problem, model, names)
        results: list[_Stage] = []
        for k, stage_names in enumerate(stages):
            # Time left over by an early stage flows to the later ones.
            share = (options.time_limit_s - clock.elapsed()) / (len(stages) - k)
            if k > 0:
                _fix_previous(model, stages[k - 1][0], results[-1])
            _set_objective(model, problem, stage_names)
            stage = _run(model, problem, stage_names, backend, options, share, start, incumbents)
            results.append(stage)
            notes += stage.outcome.notes
            if stage.assignment is None:
                break
            start = stage.assignment
        return _conclude(problem, options, incumbents, model, results, notes, stages)


def _objective_names(problem: CompiledProblem) -> tuple[str, ...]:
    spec = problem.objectives
    return spec.order if spec.mode == "lexicographic" else spec.active


def _is_lex(problem: CompiledProblem) -> bool:
    return problem.objectives.mode == "lexicographic" and len(problem.objectives.order) > 1


def _stages(
    problem: CompiledProblem, model: MilpModel, names: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """One stage per modelled objective (lexicographic), else one stage for them all."""
    if not _is_lex(problem):
        return [names]
    return [(n,) for n in names if n in model.objectives] or [()]


def _set_objective(model: MilpModel, problem: CompiledProblem, names: tuple[str, ...]) -> None:
    spec = problem.objectives
    lex = _is_lex(problem)
    parts = [
        (1.0 if lex else spec.weight(n)) * model.objectives[n].expr
        for n in names
        if n in model.objectives
    ]
    model.prob.setObjective(pulp.lpSum(parts) if parts else pulp.LpAffineExpression())


def _stage_constant(model: MilpModel, problem: CompiledProblem, names: tuple[str, ...]) -> float:
    lex = _is_lex(problem)
    return sum(
        (1.0 if lex else problem.objectives.weight(n)) * model.objectives[n].constant
        for n in names
        if n in model.objectives
    )


def _fix_previous(model: MilpModel, name: str, previous: _Stage) -> None:
    # Lexicographic: keep the earlier objective at the value it reached (a little slack
    # for the backend's feasibility tolerance).
    value = previous.outcome.objective
    if value is None:
        return
    slack = 1e-6 * max(1.0, abs(value))
    expr = model.objectives[name].expr
    model.prob.addConstraint(
        pulp.LpConstraint(expr, sense=pulp.LpConstraintLE, rhs=value + slack), f"lex_{name}"
    )


def _run(
    model: MilpModel,
    problem: CompiledProblem,
    names: tuple[str, ...],
    backend: str,
    options: SolveOptions,
    time_limit_s: float,
    start: np.ndarray | None,
    incumbents: _Incumbents,
) -> _Stage:
    """Solve the model with its current objective and extract the plan."""
    warm = hint_values(model, problem, start) if start is not None else None
    constant = _stage_constant(model, problem, names)
    if backend == "highs":
        columns: list[np.ndarray] = []

        def hook(_objective: float, col_values: np.ndarray) -> None:
            # Column indices exist only once PuLP has built the HiGHS model.
            if not columns:
                columns.append(np.array([v.index for v in model.x], dtype=np.int64))
            incumbents.offer(_extract(model, problem, col_values[columns[0]]))

        outcome = run_highs(
            model.prob,
            time_limit_s,
            options.rel_gap,
            options.workers,
            options.seed,
            start=warm,
            hook=hook,
            log=options.log,
        )
    else:
        began = incumbents.clock.elapsed()
        outcome = run_cbc(
            model.prob,
            time_limit_s,
            options.rel_gap,
            options.workers,
            options.seed,
            start=warm,
            log=options.log,
        )
        if not model.skipped and len(names) == len(model.objectives):
            # Log values equal the evaluator's score only when every objective is modelled.
            for at_s, value in outcome.trace:
                incumbents.logged(began + at_s, value + constant)
    assignment = None
    if outcome.has_solution:
        values = np.array([v.varValue or 0.0 for v in model.x], dtype=np.float64)
        assignment = _extract(model, problem, values)
        if not outcome.proven_optimal and not evaluate_plan(problem, assignment).feasible:
            # A stopped backend can hand back a point that is not a plan (CBC's LP point).
            outcome.notes.append(f"{backend}: its final point fails the evaluator; dropped")
            outcome.has_solution, assignment = False, None
        else:
            incumbents.offer(assignment)
    return _Stage(outcome, assignment, constant)


def _extract(model: MilpModel, problem: CompiledProblem, x_values: np.ndarray) -> np.ndarray:
    """Agent index per task from the x values (rounded; -1 where no x is on)."""
    on = x_values > 0.5
    assignment = np.full(problem.n_tasks, -1, dtype=np.int32)
    assignment[model.x_task[on]] = model.x_agent[on]
    return assignment


def _best_hint(problem: CompiledProblem, options: SolveOptions) -> np.ndarray | None:
    """The best feasible warm start among options.hints, by the evaluator's score."""
    scored = []
    for hint in options.hints:
        evaluation = evaluate_plan(problem, hint)
        if evaluation.feasible:
            scored.append((evaluation.score, np.asarray(hint, dtype=np.int32)))
    return min(scored, key=lambda s: s[0])[1] if scored else None


def _conclude(
    problem: CompiledProblem,
    options: SolveOptions,
    incumbents: _Incumbents,
    model: MilpModel,
    stages: list[_Stage],
    notes: list[str],
    stage_names: list[tuple[str, ...]],
) -> SolveResult:
    """Map the backend outcomes to our status: never trust a single status flag."""
    clock = incumbents.clock
    n_stages = len(stage_names)
    first = stages[0]
    if first.outcome.infeasible:
        return _result(
            problem, clock, SolveStatus.INFEASIBLE, StopReason.INFEASIBLE_PROVEN, notes=notes
        )
    plan = next((s.assignment for s in reversed(stages) if s.assignment is not None), None)
    if n_stages == 1 and incumbents.best is not None:
        # With a non-linear objective left out, an earlier incumbent can score better.
        plan = incumbents.best
    if plan is None:
        stop = StopReason.TIME_LIMIT if first.outcome.stopped_by_limit else StopReason.ERROR
        status = SolveStatus.NO_SOLUTION if stop is StopReason.TIME_LIMIT else SolveStatus.ERROR
        error = None if stop is StopReason.TIME_LIMIT else first.outcome.status_text
        return _result(problem, clock, status, stop, notes=notes, error=error)
    evaluation = evaluate_plan(problem, plan)
    if not evaluation.feasible:
        reasons = "; ".join(v.message for v in evaluation.violations[:3])
        return _result(
            problem,
            clock,
            SolveStatus.ERROR,
            StopReason.ERROR,
            notes=notes,
            error=f"backend plan fails the evaluator: {reasons}",
        )
    bound, gap = None, None
    if n_stages == 1 and first.outcome.bound is not None:
        bound = first.outcome.bound + first.constant
        gap = _rel_gap(evaluation.score, bound)
    elif n_stages > 1:
        # Each stage's bound holds only with the earlier objectives fixed, so no single
        # bound on the unit-weighted score follows; report them as notes.
        per_stage = [
            f"{name} >= {s.outcome.bound + s.constant:.6g}"
            for (name, *_), s in zip(stage_names, stages, strict=False)
            if s.outcome.bound is not None
        ]
        notes.append("lexicographic stage bounds: " + (", ".join(per_stage) or "none"))
    every_stage_done = len(stages) == n_stages and all(s.outcome.proven_optimal for s in stages)
    out_of_time = clock.elapsed() >= options.time_limit_s * 0.999
    # The backend's word "optimal" must agree with the gap we compute ourselves.
    gap_closed = gap is None or gap <= max(options.rel_gap, 1e-6) + 1e-9
    proven = every_stage_done and gap_closed and (n_stages > 1 or gap is not None)
    if proven and model.skipped:
        notes.append(
            "optimal for the modelled objectives only: " + ", ".join(model.skipped) + " left out"
        )
        proven = False
    if proven:
        status, stop = (
            SolveStatus.OPTIMAL,
            (StopReason.OPTIMAL_PROVEN if not gap else StopReason.GAP_REACHED),
        )
    elif every_stage_done and not out_of_time:
        # The backend stopped on its own; either a left-out objective or our gap check
        # keeps us from calling the plan optimal.
        status, stop = SolveStatus.FEASIBLE, StopReason.GAP_REACHED
    else:
        status, stop = SolveStatus.FEASIBLE, StopReason.TIME_LIMIT
    return _result(
        problem,
        clock,
        status,
        stop,
        assignment=plan,
        bound=bound,
        objective=evaluation.score,
        notes=notes,
    )


def _rel_gap(objective: float, bound: float) -> float:
    # HiGHS's definition, with its absolute tolerance so an objective of 0 can be closed.
    diff = max(objective - bound, 0.0)
    return 0.0 if diff <= 1e-6 else diff / max(abs(objective), 1e-9)


def _result(
    problem: CompiledProblem,
    clock: TraceRecorder,
    status: SolveStatus,
    stop: StopReason,
    *,
    assignment: np.ndarray | None = None,
    bound: float | None = None,
    objective: float | None = None,
    notes: list[str] | None = None,
    error: str | None = None,
) -> SolveResult:
    all_notes = [*problem.notes, *(notes or [])]
    return SolveResult(
        solver="milp",
        status=status,
        stop_reason=stop,
        assignment=assignment,
        bound=bound,
        objective=objective,
        trace=list(clock.trace),
        wall_time_s=clock.elapsed(),
        time_to_first_s=clock.time_to_first_s,
        time_to_best_s=clock.time_to_best_s,
        notes=all_notes,
        error=error,
    )


def export_model(problem: CompiledProblem, path: str | Path, fmt: str = "lp") -> Path:
    """Write the MILP (weighted objective, or the first lexicographic one) as LP or MPS.

    Objective constants (unassigned penalty base, migration count) are left out of the
    file, so a solver reading it reports the objective minus that constant.

    Raises:
        ValueError: fmt is not "lp" or "mps".
        ModelInfeasibleError: a task has no eligible agent and may not stay unassigned.
    """
    if fmt not in _EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(_EXPORT_FORMATS)}")
    names = _objective_names(problem)
    model = build_model(problem, names)
    stage = names[:1] if _is_lex(problem) else names
    _set_objective(model, problem, stage)
    target = Path(path)
    if fmt == "lp":
        model.prob.writeLP(str(target))
    else:
        model.prob.writeMPS(str(target))
    return target
