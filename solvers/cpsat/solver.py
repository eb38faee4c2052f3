"""OR-Tools CP-SAT solver: weighted, lexicographic and two-objective Pareto modes.

Formulation lives in `model`, one run in `run`, the epsilon-constraint sweep in
`pareto_sweep`; this module maps modes and statuses onto the contract.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.cpsat.diagnosis import diagnose_infeasibility
from solvers.cpsat.model import formulate
from solvers.cpsat.pareto_sweep import pareto_sweep
from solvers.cpsat.run import RunOutcome, run_model, scale_objective
from solvers.shared.hints import best_hint
from solvers.shared.proof import bounded_value, is_proven_optimal, relative_gap
from solvers.shared.timing import timed_solve

__all__ = ["CpSatSolver", "diagnose_infeasibility", "map_status"]


def map_status(status: cp_model.CpSolverStatus) -> tuple[SolveStatus, StopReason]:
    """CP-SAT's status -> (what we have, why it stopped)."""
    if status == cp_model.OPTIMAL:
        return SolveStatus.OPTIMAL, StopReason.OPTIMAL_PROVEN
    if status == cp_model.FEASIBLE:
        return SolveStatus.FEASIBLE, StopReason.TIME_LIMIT
    if status == cp_model.INFEASIBLE:
        return SolveStatus.INFEASIBLE, StopReason.INFEASIBLE_PROVEN
    if status == cp_model.MODEL_INVALID:
        return SolveStatus.ERROR, StopReason.ERROR
    return SolveStatus.NO_SOLUTION, StopReason.TIME_LIMIT


class CpSatSolver:
    """Exact CP-SAT model of the whole request (x[agent, task] for eligible pairs)."""

    name = "cpsat"
    exact = True
    multi_objective = True  # two-objective Pareto fronts by epsilon-constraint
    anytime = True

    def available(self) -> bool:
        return True  # ortools is a core dependency

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        return timed_solve(self.name, lambda recorder: self._solve(problem, options, recorder))

    def _solve(
        self, problem: CompiledProblem, options: SolveOptions, recorder: TraceRecorder
    ) -> SolveResult:
        spec = problem.objectives
        hint = best_hint(problem, options.hints, or_infeasible=True)
        if spec.mode == "pareto" and len(spec.order) == 2:
            return pareto_sweep(problem, options, recorder, hint, self.name)
        notes = []
        if spec.mode == "pareto":
            notes.append(
                f"Pareto over {len(spec.order)} objectives: CP-SAT returns the unit-weight "
                "sum's optimum (NSGA-II gives the front)"
            )
        model = formulate(problem, spec.order if spec.mode != "weighted" else spec.active)
        notes.extend(model.notes)
        if spec.mode == "lexicographic":
            return self._lexicographic(problem, options, recorder, hint, model, notes)
        weights = {n: spec.weight(n) for n in spec.active}
        objective = scale_objective(model, weights)
        outcome = run_model(
            model, objective, problem, options, options.time_limit_s, recorder, hint
        )
        result = self._result(problem, outcome, hint, recorder, notes, outcome.bound)
        unmodelled = [n for n in weights if n not in model.terms]
        if unmodelled and result.status == SolveStatus.OPTIMAL:
            # Optimal for the modelled part only; the evaluator's score includes the rest.
            result.status, result.stop_reason = SolveStatus.FEASIBLE, StopReason.ITERATIONS_DONE
            notes.append(f"optimal without {', '.join(unmodelled)}; not proven for the score")
        return _checked_proof(problem, result, options.rel_gap)

    def _lexicographic(self, problem, options, recorder, hint, model, notes) -> SolveResult:
        order = problem.objectives.order
        best: RunOutcome | None = None
        proven = True
        first_bound: float | None = None  # proven bound on order[0], the bounded quantity
        stages = [name for name in order if name in model.terms]
        for pos, name in enumerate(stages):
            remaining = options.time_limit_s - recorder.elapsed()
            if remaining <= 0.05:
                notes.append(f"no time left for lexicographic stage {name}")
                proven = False
                break
            objective = scale_objective(model, {name: 1.0})
            start = best.assignment if best is not None else hint
            share = remaining / (len(stages) - pos)
            if options.deterministic:  # a share of the limit, not of what the clock left
                share = options.time_limit_s / len(stages)
            outcome = run_model(model, objective, problem, options, share, recorder, start)
            if outcome.values is None or objective is None:
                if best is None:
                    return self._result(problem, outcome, hint, recorder, notes, None)
                proven = False
                notes.append(f"lexicographic stage {name}: no plan in its time share")
                break
            proven &= outcome.status == cp_model.OPTIMAL
            if pos == 0 and name == order[0]:
                first_bound = outcome.bound
            best = outcome
            # Fix this objective at its optimum (or best found) before the next one.
            model.model.add(objective.expr(model) <= objective.scaled_value(outcome.values))
        if best is None:
            outcome = run_model(model, None, problem, options, options.time_limit_s, recorder, hint)
            return self._result(problem, outcome, hint, recorder, notes, None)
        if not proven and best.status == cp_model.OPTIMAL:
            best.status = cp_model.FEASIBLE
        notes.append(f"lexicographic mode: the bound is on {order[0]} alone")
        result = self._result(problem, best, hint, recorder, notes, first_bound)
        return _checked_proof(problem, result, options.rel_gap)

    def _result(self, problem, outcome: RunOutcome, hint, recorder, notes, bound) -> SolveResult:
        status, stop = map_status(outcome.status)
        plan = outcome.assignment
        if plan is None and hint is not None and evaluate_plan(problem, hint).feasible:
            # CP-SAT did not even reproduce its hint in time; the hint is still a plan.
            plan = hint
            status = SolveStatus.FEASIBLE
            notes.append("CP-SAT found no plan in time; returning the (feasible) hint")
        objective = None
        if plan is not None:
            objective = evaluate_plan(problem, plan).score
            recorder.record(objective)
        return SolveResult(
            solver=self.name,
            status=status,
            stop_reason=stop,
            assignment=plan,
            bound=bound,
            objective=objective,
            notes=notes,
            error=f"CP-SAT: {outcome.status_name}" if status == SolveStatus.ERROR else None,
        )


def _checked_proof(problem: CompiledProblem, result: SolveResult, rel_gap: float) -> SolveResult:
    """Keep OPTIMAL only when the evaluated plan is within rel_gap of the unscaled bound.

    CP-SAT proves optimality for the integer-scaled objective; the bound it gives back
    is widened by the tracked rounding error, so a proof that does not survive the
    rounding is demoted here rather than reported as optimal.
    """
    if result.status != SolveStatus.OPTIMAL or result.assignment is None:
        return result
    value = bounded_value(problem, evaluate_plan(problem, result.assignment))
    if is_proven_optimal(value, [result.bound], rel_gap):
        return result
    result.status, result.stop_reason = SolveStatus.FEASIBLE, StopReason.ITERATIONS_DONE
    gap = relative_gap(value, result.bound)
    result.notes.append(
        "optimal for the integer-scaled model, but with the rounding error the gap to the "
        f"bound is {gap if gap is not None else 'unknown'}: not proven for the score"
    )
    return result
