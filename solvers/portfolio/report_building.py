"""Turn the solvers' raw results into the verified comparison report.

Every plan is re-checked by `evaluate_plan`; a plan that fails is reported as
invalid and is never chosen. Gaps are against the best valid bound of any solver.
"""

from __future__ import annotations

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
    ParetoPoint,
    ProblemSummary,
    RunSettings,
    SolverRun,
)
from solvers.base import SolveResult, SolveStatus
from solvers.portfolio.plan_choice import Candidate, choose, knee_index
from solvers.shared.pareto import non_dominated

__all__ = ["build_report", "infeasible_report", "summarise_problem"]

_BOUND_TOLERANCE = 1e-6
_MAX_FRONT_PLANS = 50


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


def _primary_value(compiled: CompiledProblem, ev: Evaluation) -> float:
    """The scalar a bound refers to: weighted score, or the first lexicographic objective."""
    if compiled.objectives.mode == "lexicographic":
        return ev.objectives[compiled.objectives.order[0]]
    return ev.score


def build_report(
    problem: Problem,
    compiled: CompiledProblem,
    options: RunOptions,
    results: dict[str, SolveResult],
    skipped: dict[str, str],
    *,
    extra_bound: float | None,
    wall_time_s: float,
    requested: list[str],
) -> ComparisonReport:
    """Verify every plan, compute gaps against the best bound, choose, and summarise."""
    candidates: list[Candidate] = []
    front_candidates: list[Candidate] = []
    runs: list[SolverRun] = []
    evaluations: dict[str, Evaluation] = {}
    for name, result in results.items():
        if result.assignment is None:
            continue
        ev = evaluate_plan(compiled, result.assignment)
        evaluations[name] = ev
        if ev.feasible:
            found = result.time_to_best_s if result.time_to_best_s is not None else float("inf")
            cand = Candidate(name, np.asarray(result.assignment), ev, found)
            candidates.append(cand)
            front_candidates.append(cand)
        for member in result.front[:200]:
            mev = evaluate_plan(compiled, member)
            if mev.feasible:
                front_candidates.append(Candidate(name, np.asarray(member), mev))

    best_verified = min((_primary_value(compiled, c.evaluation) for c in candidates), default=None)
    bound, bound_notes = _best_bound(compiled, results, extra_bound, best_verified)
    for name, result in results.items():
        runs.append(_solver_run(compiled, name, result, evaluations.get(name), bound, bound_notes))
    for name, why in skipped.items():
        runs.append(SolverRun(name=name, status="skipped", stop_reason="not_started", notes=[why]))

    chosen = None
    front: list[ParetoPoint] = []
    if candidates:
        pick, reason = choose(compiled, candidates)
        chosen = _chosen_plan(compiled, pick, reason)
        if compiled.objectives.mode == "pareto":
            front = _merged_front(compiled, front_candidates)
    status: Literal["solved", "infeasible", "no_solution"] = (
        "solved" if chosen is not None else _unsolved_status(results)
    )
    diagnosis: list[str] = []
    if status == "infeasible":
        diagnosis = _solver_diagnosis(results)
    return ComparisonReport(
        status=status,
        problem=summarise_problem(problem, compiled),
        settings=_settings(options, requested),
        solvers=runs,
        chosen=chosen,
        best_bound=bound,
        pareto_front=front,
        diagnosis=diagnosis,
        wall_time_s=wall_time_s,
    )


def _best_bound(
    compiled: CompiledProblem,
    results: dict[str, SolveResult],
    extra: float | None,
    best_verified: float | None,
) -> tuple[float | None, dict[str, str]]:
    """The largest bound that no verified plan contradicts."""
    notes: dict[str, str] = {}
    if compiled.objectives.mode == "pareto":
        return None, notes
    bounds: list[tuple[str, float]] = [
        (n, r.bound) for n, r in results.items() if r.bound is not None and np.isfinite(r.bound)
    ]
    if extra is not None and np.isfinite(extra):
        bounds.append(("lagrangian", extra))
    valid = []
    for name, b in bounds:
        slack = _BOUND_TOLERANCE * max(1.0, abs(best_verified or 0.0))
        if best_verified is not None and b > best_verified + slack:
            notes[name] = (
                f"its bound {b:.6g} exceeds a verified plan's value {best_verified:.6g}; "
                "the bound was ignored"
            )
        else:
            valid.append(b)
    return (max(valid) if valid else None), notes


def _gap(value: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return max(0.0, (value - bound) / max(abs(value), 1e-9))


def _solver_run(
    compiled: CompiledProblem,
    name: str,
    result: SolveResult,
    ev: Evaluation | None,
    bound: float | None,
    bound_notes: dict[str, str],
) -> SolverRun:
    notes = list(result.notes)
    if name in bound_notes:
        notes.append(bound_notes[name])
    run = SolverRun(
        name=name,
        status=result.status.value,
        stop_reason=result.stop_reason.value,
        bound=result.bound,
        wall_time_s=round(result.wall_time_s, 4),
        time_to_first_s=result.time_to_first_s,
        time_to_best_s=result.time_to_best_s,
        error=result.error,
        notes=[n for n in notes if len(n) < 2000],
        trace=result.trace[-500:],
        front_size=len(result.front),
        hypervolume=result.hypervolume,
    )
    if ev is not None:
        run.objective = _primary_value(compiled, ev)
        run.objectives = ev.objectives
        run.verified = ev.feasible
        run.violations = [v.message for v in ev.violations[:20]]
        if ev.feasible:
            run.gap = _gap(run.objective, bound)
        else:
            run.notes.append("plan failed verification: reported as invalid, never chosen")
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
        objective=_primary_value(compiled, ev),
        objectives=ev.objectives,
        plan=plan_from_array(compiled, pick.assignment),
        agents=agents,
        jain_fairness=ev.jain_fairness,
        load_variance=ev.load_variance,
        unassigned_reasons={
            compiled.task_ids[j]: unassigned_reason(compiled, int(j)) for j in unassigned[:1000]
        },
    )


def _merged_front(compiled: CompiledProblem, cands: list[Candidate]) -> list[ParetoPoint]:
    order = compiled.objectives.order
    points = np.array([[c.evaluation.objectives[n] for n in order] for c in cands])
    keep = non_dominated(points)
    keep = keep[np.argsort(points[keep, 0])]
    knee = keep[knee_index(points[keep])]
    return [
        ParetoPoint(
            solver=cands[k].solver,
            objectives={n: float(points[k, i]) for i, n in enumerate(order)},
            knee=bool(k == knee),
            plan=plan_from_array(compiled, cands[k].assignment)
            if len(keep) <= _MAX_FRONT_PLANS
            else None,
        )
        for k in keep
    ]


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
