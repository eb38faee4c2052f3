"""LNS: verified plans near the bound on generated GAPs, hints, skip reasons."""

from __future__ import annotations

import numpy as np

from models import Agent, Objectives, Problem, Task, compile_problem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus
from solvers.lns.solver import LnsSolver
from solvers.lns.subproblem import cut_subproblem


def test_gap_plan_is_verified_and_close_to_its_bound() -> None:
    compiled = compile_gap(generate_gap("D", 10, 100, seed=11))
    result = LnsSolver().solve(compiled, SolveOptions(time_limit_s=2.0, workers=2, seed=3))
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible and result.bound is not None
    assert result.bound <= ev.score + 1e-9
    assert ev.score <= 1.02 * result.bound
    assert result.trace and result.trace[-1][1] == ev.score


def test_stops_early_once_the_bound_is_met() -> None:
    compiled = compile_gap(generate_gap("C", 5, 40, seed=2))
    result = LnsSolver().solve(compiled, SolveOptions(time_limit_s=5.0, workers=2))
    assert result.status == SolveStatus.OPTIMAL
    assert result.wall_time_s < 5.0
    assert evaluate_plan(compiled, result.assignment).score == result.bound


def test_hint_is_never_made_worse() -> None:
    compiled = compile_gap(generate_gap("E", 5, 60, seed=4))
    first = LnsSolver().solve(compiled, SolveOptions(time_limit_s=0.5, workers=2))
    hint_score = evaluate_plan(compiled, first.assignment).score
    again = LnsSolver().solve(
        compiled, SolveOptions(time_limit_s=1.0, workers=2, hints=[first.assignment])
    )
    assert evaluate_plan(compiled, again.assignment).score <= hint_score


def test_separable_general_case_with_unassigned_and_migrations() -> None:
    agents = [Agent(id=f"a{i}", capacity={"cpu": 3}, cost_rate=1.0 + i) for i in range(3)]
    tasks = [
        Task(id=f"t{j}", demand={"cpu": 1}, current_agent="a2" if j < 3 else None)
        for j in range(11)
    ]
    problem = Problem(
        agents=agents,
        tasks=tasks,
        allow_unassigned=True,
        objectives=Objectives(weights={"cost": 1.0, "migrations": 0.5}),
    )
    compiled = compile_problem(problem)
    result = LnsSolver().solve(compiled, SolveOptions(time_limit_s=2.0, workers=2))
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible and ev.n_unassigned == 2


def test_skip_reason_for_coupled_objectives() -> None:
    problem = Problem(
        agents=[Agent(id="a", capacity={"cpu": 2})],
        tasks=[Task(id="t")],
        objectives=Objectives(weights={"cost": 1.0, "makespan": 1.0}),
    )
    compiled = compile_problem(problem)
    solver = LnsSolver()
    assert "makespan" in (solver.skip_reason(compiled, SolveOptions()) or "")
    assert solver.solve(compiled, SolveOptions()).status == SolveStatus.SKIPPED


def test_subproblem_plans_merge_into_feasible_plans() -> None:
    compiled = compile_gap(generate_gap("C", 6, 30, seed=9))
    plan = LnsSolver().solve(compiled, SolveOptions(time_limit_s=0.5)).assignment
    agents = np.array([1, 4])
    sub = cut_subproblem(compiled, plan, np.flatnonzero(np.isin(plan, agents)), agents)
    local = sub.restrict(plan)
    assert np.all(local >= 0)
    assert evaluate_plan(sub.problem, local).feasible
    swapped = np.where(local == 0, 1, 0)  # any sub-plan feasible locally is feasible globally
    merged = sub.merge(plan, swapped)
    assert evaluate_plan(sub.problem, swapped).feasible == evaluate_plan(compiled, merged).feasible


def test_without_a_feasible_start_the_whole_model_fallback_is_reported() -> None:
    # Two tasks of 4 on one agent of capacity 5: no plan exists, so no start either.
    problem = Problem(
        agents=[Agent(id="a", capacity={"cpu": 5})],
        tasks=[Task(id=f"t{j}", demand={"cpu": 4}) for j in range(2)],
    )
    result = LnsSolver().solve(compile_problem(problem), SolveOptions(time_limit_s=2.0))
    assert result.solver == "lns"
    assert result.status == SolveStatus.INFEASIBLE
    assert "ran CP-SAT on the whole model" in result.notes[0]
    assert any(note.startswith("starting plan after") for note in result.notes)
