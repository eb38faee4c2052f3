"""The LNS's sub-solve by the knapsack branch and bound (`solvers/lns/knapsack_sub_solve.py`):
proves the enumerated and CP-SAT optima, proves a hint that is optimal, never hands back
a plan worse than its hint, declines what the relaxation does not serve, and the LNS
counts the sub-solves it made."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from models import CompiledProblem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.bounds.knapsack_bound import knapsack_dual
from solvers.lns.knapsack_sub_solve import knapsack_sub_solve
from solvers.lns.sub_solve import solve_exactly
from solvers.registry import get_solver
from tests.solvers.tiny_instances import brute_force_optimum, compiled, tiny_gap


def _solve(problem: CompiledProblem, hint: np.ndarray | None = None, limit_s: float = 20.0):
    done = knapsack_sub_solve(problem, limit_s, hint)
    assert done is not None, "the relaxation serves a classic GAP with a binding capacity"
    return done


@pytest.mark.parametrize("seed", range(4))
def test_proves_the_enumerated_optimum_without_a_hint(seed: int) -> None:
    problem = compiled(tiny_gap(seed, m=3, n=7))
    out, took = _solve(problem)
    assert out.status_name == "OPTIMAL" and out.assignment is not None
    ev = evaluate_plan(problem, out.assignment)
    assert ev.feasible and ev.score == pytest.approx(brute_force_optimum(problem))
    assert out.bound == pytest.approx(ev.score)
    assert 0.0 <= took <= 20.0


@pytest.mark.parametrize("kind,seed", [("D", 0), ("D", 1), ("E", 2), ("C", 3)])
def test_matches_cp_sats_proven_optimum_from_a_worse_hint(kind: str, seed: int) -> None:
    # A neighbourhood-sized GAP: 5 agents, 30 tasks (the LNS frees 4-9 agents of D).
    problem = compile_gap(generate_gap(kind, 5, 30, seed))
    reference, _ = solve_exactly(problem, {"cost": 1.0}, 60.0, 0, 2, None)
    assert reference.status_name == "OPTIMAL" and reference.assignment is not None
    optimum = evaluate_plan(problem, reference.assignment).score
    start = get_solver("greedy").solve(problem, SolveOptions(time_limit_s=5.0)).assignment
    assert start is not None and evaluate_plan(problem, start).feasible
    out, _ = _solve(problem, start.astype(np.int32))
    assert out.status_name == "OPTIMAL" and out.assignment is not None
    assert evaluate_plan(problem, out.assignment).score == pytest.approx(optimum)


@pytest.mark.parametrize("warm", [False, True])
def test_proves_an_optimal_hint_and_hands_it_back(warm: bool) -> None:
    problem = compile_gap(generate_gap("D", 5, 30, 4))
    reference, _ = solve_exactly(problem, {"cost": 1.0}, 60.0, 0, 2, None)
    assert reference.assignment is not None
    hint = reference.assignment.astype(np.int32)
    start = None
    if warm:  # the whole problem's multipliers, as the LNS hands them over
        dual = knapsack_dual(problem, time.perf_counter() + 10.0)
        assert dual is not None
        start = dual.multipliers
    done = knapsack_sub_solve(problem, 20.0, hint, start)
    assert done is not None
    out = done[0]
    assert out.status_name == "OPTIMAL" and out.assignment is not None
    assert evaluate_plan(problem, out.assignment).score == evaluate_plan(problem, hint).score
    assert out.bound == evaluate_plan(problem, hint).score


def test_out_of_time_it_hands_back_the_hint_unproven() -> None:
    # Large enough that no search ends in a millisecond; the hint comes back as it is.
    problem = compile_gap(generate_gap("D", 20, 200, 5))
    hint = get_solver("greedy").solve(problem, SolveOptions(time_limit_s=5.0)).assignment
    assert hint is not None
    began = time.perf_counter()
    done = knapsack_sub_solve(problem, 0.001, hint.astype(np.int32))
    assert time.perf_counter() - began < 2.0
    if done is not None:  # (None: not one step of the climb ended within the limit)
        out, _ = done
        assert out.status_name in ("FEASIBLE", "OPTIMAL") and out.assignment is not None
        assert evaluate_plan(problem, out.assignment).score <= evaluate_plan(problem, hint).score


def test_declines_unplaced_tasks_and_loose_capacities() -> None:
    problem = compile_gap(generate_gap("D", 4, 20, 6))
    assert knapsack_sub_solve(replace(problem, allow_unassigned=True), 5.0, None) is None
    loose = replace(problem, capacity=problem.capacity * 100)  # no capacity binds
    assert knapsack_sub_solve(loose, 5.0, None) is None


def test_the_lns_counts_the_sub_solves_the_knapsack_search_made() -> None:
    problem = compile_gap(generate_gap("D", 10, 60, 7))
    result = get_solver("lns").solve(problem, SolveOptions(time_limit_s=3.0, seed=0))
    assert result.assignment is not None and evaluate_plan(problem, result.assignment).feasible
    note = next(n for n in result.notes if "LNS steps" in n)
    assert "solved by the knapsack branch and bound" in note, note


def test_leaves_sub_models_with_more_rules_than_its_relaxation_to_cp_sat() -> None:
    problem = compile_gap(generate_gap("D", 4, 20, 8))
    two = replace(
        problem,
        resources=["a", "b"],
        usage=np.concatenate([problem.usage, problem.usage], axis=2),
        capacity=np.concatenate([problem.capacity, problem.capacity], axis=1),
    )
    assert knapsack_sub_solve(two, 5.0, None) is None
    grouped = replace(problem, anti_affinity=[np.array([0, 1], dtype=np.int32)])
    assert knapsack_sub_solve(grouped, 5.0, None) is None
    counted = replace(problem, max_tasks=np.full(problem.n_agents, 3, dtype=np.int32))
    assert knapsack_sub_solve(counted, 5.0, None) is None
