"""A re-plan as an ordinary job result: a ComparisonReport whose one solver is `replan`,
carrying the diff, freed tasks and moves used in its `replan` block."""

from __future__ import annotations

import numpy as np

from allocator.replanning import ReplanRequest, replan
from models import InputError, Plan, Problem, RunOptions, compile_problem, evaluate_plan
from models.compiled import CompiledProblem
from models.evaluation import Evaluation
from models.plan import plan_to_array
from models.report import AgentLoad, ChosenPlan, ComparisonReport, RunSettings, SolverRun
from solvers.portfolio.report_building import summarise_problem

__all__ = ["check_replan_request", "replan_report"]


def check_replan_request(request: ReplanRequest) -> Plan:
    """The previous plan a job can run from (previous_job is resolved by the service)."""
    if request.previous_plan is None:
        raise InputError(
            "a re-plan needs previous_plan (or previous_job, sent to POST /v1/replans)",
            field="previous_plan",
        )
    if request.dry_run:
        raise InputError(
            "dry_run stores nothing, so it is not a job; send it to POST /v1/replans",
            field="dry_run",
        )
    return request.previous_plan


def replan_report(
    problem: Problem, options: RunOptions, request: ReplanRequest
) -> ComparisonReport:
    """Run the re-plan and describe it like a portfolio run (one solver, `replan`)."""
    previous = check_replan_request(request)
    compiled = compile_problem(problem)
    result = replan(
        problem,
        previous,
        max_moves=request.max_moves,
        pinned=request.pinned,
        time_limit_s=options.time_limit_s,
        compiled=compiled,
    )
    plan = Plan.model_validate(result["plan"])
    assignment = plan_to_array(compiled, plan).astype(np.int64)
    evaluation = evaluate_plan(compiled, assignment)
    run = SolverRun(
        name="replan",
        status="feasible" if result["feasible"] else "no_solution",
        stop_reason="completed" if result["stopped"] != "time limit" else "time_limit",
        objective=result["score"],
        objectives=result["objectives"],
        verified=result["feasible"],
        violations=[v["message"] for v in result["violations"]],
        started_at_s=0.0,
        wall_time_s=result["wall_time_s"],
        time_to_first_s=result["wall_time_s"],
        time_to_best_s=result["wall_time_s"],
        notes=[
            f"{result['moves_used']} kept tasks moved; {len(result['freed'])} freed",
            *result["notes"],
        ],
    )
    chosen = None
    if result["feasible"]:
        chosen = ChosenPlan(
            solver="replan",
            reason="re-planned from the previous plan within the move budget",
            objective=result["score"],
            objectives=result["objectives"],
            plan=plan,
            agents=_loads(compiled, assignment, evaluation),
            jain_fairness=evaluation.jain_fairness,
            load_variance=evaluation.load_variance,
        )
    return ComparisonReport(
        status="solved" if chosen is not None else "no_solution",
        problem=summarise_problem(problem, compiled),
        settings=RunSettings(
            solvers=["replan"],
            time_limit_s=options.time_limit_s,
            seed=options.seed,
            workers=1,
        ),
        solvers=[run],
        chosen=chosen,
        diagnosis=[v["message"] for v in result["violations"]]
        + ([] if result["feasible"] else result["notes"]),
        wall_time_s=result["wall_time_s"],
        replan={k: v for k, v in result.items() if k != "plan"},
    )


def _loads(compiled: CompiledProblem, assignment: np.ndarray, ev: Evaluation) -> list[AgentLoad]:
    counts = np.bincount(assignment[assignment >= 0], minlength=compiled.n_agents)
    dims = compiled.resources
    return [
        AgentLoad(
            agent=agent,
            n_tasks=int(counts[i]),
            load_s=float(ev.agent_load_s[i]),
            utilisation=float(ev.utilisation[i]),
            usage={r: float(ev.agent_usage[i, k]) for k, r in enumerate(dims)},
            capacity={r: float(compiled.capacity[i, k]) for k, r in enumerate(dims)},
        )
        for i, agent in enumerate(compiled.agent_ids)
    ]
