"""Solve a formulated CP-SAT model once: scale the objective, hint, run, read the plan back.

The scaled model's objective is only used to steer the search; plans are scored by
`evaluate_plan`, and bounds are unscaled with the rounding error subtracted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, TraceRecorder
from solvers.cpsat.int_scaling import choose_scale, scale_nearest
from solvers.cpsat.model import CpSatModel

__all__ = [
    "DETERMINISTIC_TIME_PER_S",
    "RunOutcome",
    "ScaledObjective",
    "run_model",
    "scale_objective",
]

#: Deterministic runs: CP-SAT deterministic-time units per second of limit. On the
#: loaded 2-core machine of BENCHMARKS.md 0.43 units took 1.4-1.6 s of wall time (300 x 30
#: attribute request, 1 or 2 workers), so a quarter keeps the wall clock (the safety
#: stop) from being what ends the run.
DETERMINISTIC_TIME_PER_S = 0.25


@dataclass
class ScaledObjective:
    """Integer objective: true value >= (sum(coef * var) / factor + constant - slack)."""

    index: np.ndarray
    coef: np.ndarray  # int64
    factor: float
    constant: float
    slack: float

    def expr(self, model: CpSatModel) -> cp_model.LinearExprT:
        return model.expr(self.index, self.coef)

    def unscale(self, value: float) -> float:
        return value / self.factor + self.constant

    def scaled_value(self, values: np.ndarray) -> int:
        return int((self.coef * values[self.index]).sum())


def scale_objective(model: CpSatModel, weights: dict[str, float]) -> ScaledObjective | None:
    """Combine weighted terms into one integer objective (None when nothing is modelled)."""
    parts = [(model.terms[n], w) for n, w in weights.items() if w > 0 and n in model.terms]
    if not parts:
        return None
    index = np.concatenate([t.index for t, _ in parts]).astype(np.int64)
    coef = np.concatenate([t.coef * w for t, w in parts])
    # Terms may share variables (makespan and imbalance share the max-load variable).
    uniq, inverse = np.unique(index, return_inverse=True)
    merged = np.bincount(inverse, weights=coef, minlength=len(uniq))
    scale = choose_scale(merged)
    ints = scale_nearest(merged, scale)
    keep = ints != 0
    rounding = _rounding_error(model, uniq, np.abs(ints / scale.factor - merged))
    return ScaledObjective(
        index=uniq[keep],
        coef=ints[keep],
        factor=scale.factor,
        constant=float(sum(t.constant * w for t, w in parts)),
        slack=rounding + float(sum(t.slack * w for t, w in parts)),
    )


def _rounding_error(model: CpSatModel, index: np.ndarray, err: np.ndarray) -> float:
    """Most the rounded objective can undercut the true one over every plan.

    Per variable, |coefficient error| x its upper bound, tightened where the structure
    allows: a task takes one agent, so its x variables add at most their largest error;
    all loads together hold each task once, so they add at most the largest load error
    times `load_total_upper`. Coefficients rounded to zero are counted here too.
    """
    upper = np.abs(model.upper(index))
    is_x = index < model.n_pairs
    per_task = np.zeros(len(model.pair_task) and int(model.pair_task.max()) + 1)
    np.maximum.at(per_task, model.pair_task[index[is_x]], err[is_x] * upper[is_x])
    loads = np.isin(index, model.load_vars[0]) if model.load_vars else np.zeros_like(is_x)
    load_err = float((err[loads] * upper[loads]).sum())
    if loads.any():
        load_err = min(load_err, float(err[loads].max()) * model.load_total_upper)
    rest = ~is_x & ~loads
    return float(per_task.sum()) + load_err + float((err[rest] * upper[rest]).sum())


@dataclass
class RunOutcome:
    """One CP-SAT run: native status, the plan (if any) and the unscaled bound."""

    status: cp_model.CpSolverStatus
    assignment: np.ndarray | None
    values: np.ndarray | None  # every model variable's value in the final solution
    bound: float | None
    core: list[int] | None = None  # assumption literals proving infeasibility

    @property
    def status_name(self) -> str:
        return cp_model.CpSolver().status_name(self.status)


class _IncumbentCallback(cp_model.CpSolverSolutionCallback):
    """Records each plan's evaluated score and forwards it to the portfolio."""

    def __init__(self, model: CpSatModel, problem: CompiledProblem, options, recorder):
        super().__init__()
        self._model, self._problem = model, problem
        self._options, self._recorder = options, recorder

    def on_solution_callback(self) -> None:
        values = np.asarray(self.response_proto.solution, dtype=np.int64)
        plan = self._model.assignment(values, self._problem.n_tasks)
        score = evaluate_plan(self._problem, plan).score
        before = len(self._recorder.trace)
        self._recorder.record(score)
        if len(self._recorder.trace) > before:
            self._options.report_incumbent(plan, score)


def run_model(
    model: CpSatModel,
    objective: ScaledObjective | None,
    problem: CompiledProblem,
    options: SolveOptions,
    time_limit_s: float,
    recorder: TraceRecorder,
    hint: np.ndarray | None = None,
    assumptions: list[cp_model.IntVar] | None = None,
    parameters: Mapping[str, object] | None = None,
) -> RunOutcome:
    """Minimise `objective` (or just find a plan) within `time_limit_s`; `parameters`
    (CP-SAT parameter names and values) are set last, over the defaults here."""
    if objective is not None:
        model.model.minimize(objective.expr(model))
    else:
        model.model.clear_objective()
    model.model.clear_hints()
    if hint is not None:
        _add_hint(model, hint)
    model.model.clear_assumptions()
    if assumptions:
        model.model.add_assumptions(assumptions)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, float(time_limit_s))
    params.num_workers = max(1, int(options.workers))
    if options.deterministic:
        # CP-SAT's own work clock decides where it stops; the wall clock stays only as a
        # safety stop. Parallel workers race unless interleaved (deterministic batches).
        work_s = time_limit_s * options.work_s / max(options.time_limit_s, 1e-9)
        params.max_deterministic_time = DETERMINISTIC_TIME_PER_S * max(0.05, work_s)
        params.interleave_search = params.num_workers > 1
    params.random_seed = int(options.seed)
    params.relative_gap_limit = float(options.rel_gap)
    params.log_search_progress = bool(options.log)
    for name, value in (parameters or {}).items():
        setattr(params, name, value)
    callback = _IncumbentCallback(model, problem, options, recorder)
    status = solver.solve(model.model, callback)
    values = None
    plan = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.asarray(solver.response_proto.solution, dtype=np.int64)
        plan = model.assignment(values, problem.n_tasks)
    bound = None
    if objective is not None and status != cp_model.MODEL_INVALID:
        raw = solver.best_objective_bound
        if status == cp_model.OPTIMAL and options.rel_gap <= 1e-9:
            raw = solver.objective_value
        if np.isfinite(raw) and status != cp_model.INFEASIBLE:
            bound = objective.unscale(raw) - objective.slack
    core = None
    if assumptions and status == cp_model.INFEASIBLE:
        core = list(solver.sufficient_assumptions_for_infeasibility())
    return RunOutcome(status=status, assignment=plan, values=values, bound=bound, core=core)


def _add_hint(model: CpSatModel, hint: np.ndarray) -> None:
    chosen = hint[model.pair_task] == model.pair_agent
    for k, on in enumerate(chosen):
        model.model.add_hint(model.variables[k], bool(on))
