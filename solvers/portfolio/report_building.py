"""Turn the solvers' raw results into the verified comparison report.

Every plan is re-checked by `evaluate_plan`; a plan that fails is reported as
invalid and is never chosen. Gaps are against the best valid bound of any solver,
on the quantity the mode ranks by; an "optimal" claim that the bound does not back
is demoted (`report_bounds`). Pareto fronts are merged and measured once
(`report_front`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from models import (
    CompiledProblem,
    Evaluation,
    Problem,
    RunOptions,
    evaluate_plan,
    plan_from_array,
)
from models.diagnosis import unassigned_reason
from models.report import (
    AgentLoad,
    ChosenPlan,
    ComparisonReport,
    ProblemSummary,
    RunSettings,
    SolverRun,
)
from solvers.base import SolveResult, SolveStatus
from solvers.portfolio.bandwidth_checks import bandwidth_diagnosis, link_loads, repair_overload
from solvers.portfolio.plan_choice import Candidate, choose
from solvers.portfolio.report_bounds import BoundSummary, check_optimal_claim, summarise_bounds
from solvers.portfolio.report_front import FrontSummary, merged_front, verified_front
from solvers.shared.proof import bounded_value, relative_gap

__all__ = ["build_report", "infeasible_report", "summarise_problem"]


def summarise_problem(problem: Problem, compiled: CompiledProblem) -> ProblemSummary:
    return ProblemSummary(
        name=problem.name,
        n_agents=compiled.n_agents,
        n_tasks=compiled.n_tasks,
        n_resources=compiled.n_dims,
        resources=compiled.resources,
        mode=compiled.objectives.mode,
        objectives=list(compiled.objectives.active),
        allow_unassigned=compiled.allow_unassigned,
        n_groups=len(problem.groups),
        n_communication_pairs=len(problem.communication),
    )


def _settings(options: RunOptions, names: list[str]) -> RunSettings:
    return RunSettings(
        solvers=names,
        time_limit_s=options.time_limit_s,
        seed=options.seed,
        workers=options.workers,
        rel_gap=options.rel_gap,
    )


def infeasible_report(
    problem: Problem,
    compiled: CompiledProblem,
    options: RunOptions,
    reasons: list[str],
    wall_time_s: float,
) -> ComparisonReport:
    """No solver is started when a structural check already proves infeasibility."""
    return ComparisonReport(
        status="infeasible",
        problem=summarise_problem(problem, compiled),
        settings=_settings(options, options.solvers or []),
        solvers=[],
        diagnosis=reasons,
        wall_time_s=wall_time_s,
    )


@dataclass
class _Verified:
    """Every solver's plans as the evaluator sees them."""

    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)  # verified chosen plans
    front: list[Candidate] = field(default_factory=list)  # ... plus verified front members

    def best_value(self, compiled: CompiledProblem) -> float | None:
        return min((bounded_value(compiled, c.evaluation) for c in self.front), default=None)

    def best_per_objective(self, compiled: CompiledProblem, solver: str | None = None):
        out: dict[str, float] = {}
        for c in self.front:
            if solver is None or c.solver == solver:
                for name in compiled.objectives.order:
                    out[name] = min(out.get(name, np.inf), c.evaluation.objectives[name])
        return out


def _verify(
    compiled: CompiledProblem, results: dict[str, SolveResult], repairs_until: float
) -> _Verified:
    out = _Verified()
    for name, result in results.items():
        if result.assignment is None:
            continue
        # A workflow engine's own schedule is scored, not one re-derived from the assignment.
        ev = evaluate_plan(compiled, result.assignment, result.start)
        ev = repair_overload(compiled, result, ev)  # a plan that only overloads a link
        out.evaluations[name] = ev
        if ev.feasible:
            found = result.time_to_best_s if result.time_to_best_s is not None else float("inf")
            cand = Candidate(name, np.asarray(result.assignment), ev, found, result.start)
            out.candidates.append(cand)
            out.front.append(cand)
        # Front members that only overloaded a link are repaired (within the time limit).
        out.front.extend(verified_front(compiled, name, result, repairs_until))
    return out


def build_report(
    problem: Problem,
    compiled: CompiledProblem,
    options: RunOptions,
    results: dict[str, SolveResult],
    skipped: dict[str, str],
    *,
    extra_bound: float | None,
    extra_bound_method: str | None = None,
    wall_time_s: float,
    requested: list[str],
    repairs_until: float = float("inf"),
) -> ComparisonReport:
    """Verify every plan, compute gaps against the best bound, choose, and summarise.

    `repairs_until` (perf_counter): front members' bandwidth repairs stop by then.
    """
    verified = _verify(compiled, results, repairs_until)
    best_value, best_each = verified.best_value(compiled), verified.best_per_objective(compiled)
    bounds = summarise_bounds(compiled, results, extra_bound, best_value, best_each)
    pareto = compiled.objectives.mode == "pareto"
    front = merged_front(compiled, verified.front) if pareto else FrontSummary([], None, {})
    runs = [
        _solver_run(compiled, options, name, result, verified, bounds, front)
        for name, result in results.items()
    ] + [_skipped_run(name, why) for name, why in skipped.items()]
    chosen = None
    if verified.candidates:
        chosen = _chosen_plan(compiled, *choose(compiled, verified.candidates))
    status: Literal["solved", "infeasible", "no_solution"] = (
        "solved" if chosen is not None else _unsolved_status(results)
    )
    return ComparisonReport(
        status=status,
        problem=summarise_problem(problem, compiled),
        settings=_settings(options, requested),
        solvers=runs,
        chosen=chosen,
        best_bound=bounds.best,
        best_bound_by=bounds.best_by,
        best_bound_method=extra_bound_method
        if bounds.best_by == "lagrangian"
        else (results[bounds.best_by].bound_method if bounds.best_by in results else None),
        ideal_point=bounds.ideal or None,
        ideal_point_by=bounds.ideal_by or None,
        pareto_front=front.points if chosen is not None else [],
        hypervolume=front.hypervolume,
        diagnosis=(_solver_diagnosis(results) if status == "infeasible" else [])
        + (bandwidth_diagnosis(verified.evaluations) if chosen is None else []),
        wall_time_s=wall_time_s,
    )


def _skipped_run(name: str, why: str) -> SolverRun:
    return SolverRun(name=name, status="skipped", stop_reason="not_started", notes=[why])


def _solver_run(
    compiled: CompiledProblem,
    options: RunOptions,
    name: str,
    result: SolveResult,
    verified: _Verified,
    bounds: BoundSummary,
    front: FrontSummary,
) -> SolverRun:
    notes = list(result.notes) + bounds.notes.get(name, [])
    run = SolverRun(
        name=name,
        status=result.status.value,
        stop_reason=result.stop_reason.value,
        bound=result.bound,
        ideal=result.ideal,
        started_at_s=result.started_at_s,
        wall_time_s=result.wall_time_s,
        time_to_first_s=result.time_to_first_s,
        time_to_best_s=result.time_to_best_s,
        error=result.error,
        notes=[n for n in notes if len(n) < 2000],
        trace=result.trace[-500:],
        front_size=len(result.front),
        hypervolume=front.per_solver.get(name),
    )
    ev = verified.evaluations.get(name)
    if ev is not None:
        run.objective = bounded_value(compiled, ev)
        run.objectives = ev.objectives
        run.verified = ev.feasible
        run.violations = [v.message for v in ev.violations[:20]]
        if not ev.feasible:
            run.notes.append("plan failed verification: reported as invalid, never chosen")
        elif compiled.objectives.mode != "pareto":
            run.gap = relative_gap(run.objective, bounds.best)
    own = verified.best_per_objective(compiled, name)
    check_optimal_claim(compiled, run, bounds, own, options.rel_gap)
    return run


def _chosen_plan(compiled: CompiledProblem, pick: Candidate, reason: str) -> ChosenPlan:
    ev = pick.evaluation
    counts = np.bincount(pick.assignment[pick.assignment >= 0], minlength=compiled.n_agents)
    agents = [
        AgentLoad(
            agent=compiled.agent_ids[i],
            n_tasks=int(counts[i]),
            load_s=float(ev.agent_load_s[i]),
            utilisation=float(ev.utilisation[i]),
            usage={r: float(ev.agent_usage[i, k]) for k, r in enumerate(compiled.resources)},
            capacity={r: float(compiled.capacity[i, k]) for k, r in enumerate(compiled.resources)},
        )
        for i in range(compiled.n_agents)
    ]
    unassigned = np.flatnonzero(pick.assignment < 0)
    return ChosenPlan(
        solver=pick.solver,
        reason=reason,
        objective=bounded_value(compiled, ev),
        objectives=ev.objectives,
        plan=plan_from_array(compiled, pick.assignment, pick.start),
        agents=agents,
        jain_fairness=ev.jain_fairness,
        load_variance=ev.load_variance,
        links=link_loads(ev),
        unassigned_reasons={
            compiled.task_ids[j]: unassigned_reason(compiled, int(j)) for j in unassigned[:1000]
        },
    )


def _unsolved_status(results: dict[str, SolveResult]) -> Literal["infeasible", "no_solution"]:
    if any(r.status == SolveStatus.INFEASIBLE for r in results.values()):
        return "infeasible"
    return "no_solution"


def _solver_diagnosis(results: dict[str, SolveResult]) -> list[str]:
    out: list[str] = []
    for name, r in results.items():
        if r.status == SolveStatus.INFEASIBLE:
            out.extend(n for n in r.notes if n.startswith("infeasible"))
            if not out:
                out.append(f"{name} proved that no plan satisfies every hard constraint")
    return out
