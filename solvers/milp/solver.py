"""The MILP solver: build the model as arrays, solve it with HiGHS (default) or CBC,
stage by stage, and read the plan back.

Status comes from the backend's model status, the wall time and the objective-bound
gap (see `verdict`), never from one status flag alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.milp.backends import (
    BackendOutcome,
    BackendSettings,
    MilpBackendError,
    backend_available,
    check_backend,
)
from solvers.milp.cbc import run_cbc
from solvers.milp.export import EXPORT_FORMATS, write_model
from solvers.milp.highs import run_highs
from solvers.milp.model import MilpModel, ModelInfeasibleError, build_model, hint_values
from solvers.milp.stages import (
    fix_stage,
    is_lexicographic,
    objective_names,
    stage_objective,
    stages,
)
from solvers.milp.verdict import StageResult, conclude, result
from solvers.shared.hints import best_hint

__all__ = ["MAX_MILP_VARS", "MilpBackendError", "MilpSolver", "export_model"]

#: Above this many (agent, task) variables the MILP rarely finds a plan in a typical budget.
MAX_MILP_VARS = 500_000


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
        notes = [f"backend {backend}"]
        if problem.objectives.mode == "pareto":
            notes.append("pareto mode: the MILP returns one point, the unit-weighted sum")
        try:
            model = build_model(problem, objective_names(problem))
        except ModelInfeasibleError as exc:
            infeasible = SolveStatus.INFEASIBLE
            return result(
                problem, clock, infeasible, StopReason.INFEASIBLE_PROVEN, [*notes, str(exc)]
            )
        notes += model.notes
        notes.append(f"model built in {clock.elapsed():.2f} s: {model.n_vars} assignment vars")
        incumbents = _Incumbents(problem, options, clock)
        planned = stages(problem, model)
        done = _run_stages(model, problem, backend, options, planned, incumbents)
        for stage in done:
            notes += stage.outcome.notes
        out = conclude(problem, options, clock, incumbents.best, model, done, len(planned), notes)
        if out.status == SolveStatus.INFEASIBLE and model.link_columns is not None:
            out.notes.append(_bandwidth_to_blame(problem, backend, options, clock))
        return out


def _run_stages(
    model: MilpModel,
    problem: CompiledProblem,
    backend: str,
    options: SolveOptions,
    planned: list[tuple[str, ...]],
    incumbents: _Incumbents,
) -> list[StageResult]:
    """Solve each stage in turn, each warm-started from the previous stage's plan."""
    start = best_hint(problem, options.hints)
    done: list[StageResult] = []
    for k, names in enumerate(planned):
        # Time left over by an early stage flows to the later ones.
        share = (options.time_limit_s - incumbents.clock.elapsed()) / (len(planned) - k)
        previous = done[-1].outcome.objective if done else None
        if previous is not None:
            fix_stage(model, planned[k - 1][0], previous)
        stage = _run(model, problem, names, backend, options, share, start, incumbents)
        done.append(stage)
        if stage.assignment is None:
            break
        start = stage.assignment
    return done


def _run(
    model: MilpModel,
    problem: CompiledProblem,
    names: tuple[str, ...],
    backend: str,
    options: SolveOptions,
    time_limit_s: float,
    start: np.ndarray | None,
    incumbents: _Incumbents,
) -> StageResult:
    """Solve the model with one stage's objective and extract the plan."""
    warm = hint_values(model, problem, start) if start is not None else None
    objective, constant = stage_objective(model, problem, names)
    # Deterministic runs: one thread, so HiGHS's parallel tree search cannot race.
    threads = 1 if options.deterministic else options.workers
    settings = BackendSettings(time_limit_s, options.rel_gap, threads, options.seed, options.log)
    if backend == "highs":

        def hook(values: np.ndarray) -> None:
            incumbents.offer(_extract(model, problem, values[: model.n_vars]))

        def peers() -> np.ndarray | None:
            plan = best_hint(problem, options.new_peer_plans())
            return None if plan is None else hint_values(model, problem, plan)

        outcome = run_highs(model, objective, settings, start=warm, hook=hook, peers=peers)
    else:
        began = incumbents.clock.elapsed()
        outcome = run_cbc(model, objective, settings, start=warm)
        if not model.skipped and len(names) == len(model.objectives):
            # Log values equal the evaluator's score only when every objective is modelled.
            for at_s, value in outcome.trace:
                incumbents.logged(began + at_s, value + constant)
    return StageResult(
        names, outcome, _final_assignment(model, problem, outcome, incumbents), constant
    )


def _final_assignment(
    model: MilpModel, problem: CompiledProblem, outcome: BackendOutcome, incumbents: _Incumbents
) -> np.ndarray | None:
    """The backend's final plan, offered as an incumbent; None if it has none or it is
    not a plan (a stopped backend can hand back an LP point, as CBC does)."""
    if not outcome.has_solution or outcome.values is None:
        return None
    values = np.asarray(outcome.values[: model.n_vars], dtype=np.float64)
    assignment = _extract(model, problem, values)
    if not outcome.proven_optimal and not evaluate_plan(problem, assignment).feasible:
        outcome.notes.append("the backend's final point fails the evaluator; dropped")
        outcome.has_solution = False
        return None
    incumbents.offer(assignment)
    return assignment


def _bandwidth_to_blame(
    problem: CompiledProblem, backend: str, options: SolveOptions, clock: TraceRecorder
) -> str:
    """After a proof of infeasibility with link rows, in the time left: does a plan exist
    without them? (Then bandwidth alone rules every placement out.)"""
    blind = replace(problem, network=None)
    left = options.time_limit_s - clock.elapsed()
    if left < 0.2:
        return "the proof includes link bandwidth; no time left to tell if it alone is to blame"
    # No incumbents or peers: a plan of the problem without bandwidth is no answer.
    quiet = replace(options, time_limit_s=left, on_incumbent=None, peer_plans=None, hints=[])
    try:
        model = build_model(blind, objective_names(blind))
    except ModelInfeasibleError:
        return "even without link bandwidth no plan exists: other rules rule every plan out"
    found = _Incumbents(blind, quiet, TraceRecorder())
    done = _run_stages(model, blind, backend, quiet, stages(blind, model)[:1], found)
    if found.best is not None:
        return (
            "without link bandwidth a plan exists: the links' bandwidth is what rules every "
            "placement out (put communicating tasks on fewer nodes or add bandwidth)"
        )
    if done and done[0].outcome.infeasible:
        return "even without link bandwidth no plan exists: other rules rule every plan out"
    return "the proof includes link bandwidth; whether it alone is to blame is not known"


def _extract(model: MilpModel, problem: CompiledProblem, x_values: np.ndarray) -> np.ndarray:
    """Agent index per task from the assignment columns (rounded; -1 where none is on)."""
    on = x_values > 0.5
    assignment = np.full(problem.n_tasks, -1, dtype=np.int32)
    assignment[model.x_task[on]] = model.x_agent[on]
    return assignment


def export_model(problem: CompiledProblem, path: str | Path, fmt: str = "lp") -> Path:
    """Write the MILP (weighted objective, or the first lexicographic one) as LP or MPS.

    Objective constants (unassigned penalty base, migration count) are left out of the
    file, so a solver reading it reports the objective minus that constant.

    Raises:
        ValueError: fmt is not "lp" or "mps".
        ModelInfeasibleError: a task has no eligible agent and may not stay unassigned.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    names = objective_names(problem)
    model = build_model(problem, names)
    objective, _constant = stage_objective(
        model, problem, names[:1] if is_lexicographic(problem) else names
    )
    target = Path(path)
    write_model(model, objective, target, fmt)
    return target
