"""The exact branch and bound (`solvers/workflow/exact_search.py`): on tiny workflows its
optimum equals brute force over every assignment and topological order, its bound never
exceeds that optimum; on larger ones it agrees with CP-SAT's proven model optimum. The kernel
resumed in small node budgets walks the same tree as in one call."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from ortools.sat.python import cp_model

from models import Problem, compile_problem
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from solvers.workflow import exact_search
from solvers.workflow.cpsat_model import build_model
from solvers.workflow.decode import decode
from solvers.workflow.exact_search import bisect_makespan, branch_and_bound
from solvers.workflow.graph import build_graph
from solvers.workflow.solver import heft_schedule
from tests.solvers.workflow_checks import (
    TINY_CASES,
    allowed_agents,
    every_schedule,
    tiny_case,
    workflow_problem,
)

_FAR = 120.0  # seconds: the searches below end long before this


@pytest.mark.parametrize(("n", "m", "ccr", "seed", "restricted"), TINY_CASES)
def test_bisection_finds_and_proves_the_brute_force_optimum(
    n: int, m: int, ccr: float, seed: int, restricted: bool
) -> None:
    problem, graph, allowed, optimum = tiny_case(n, m, ccr, seed, restricted)
    heft = heft_schedule(problem)
    assert heft is not None
    gap = 1e-6
    out = bisect_makespan(graph, allowed, 0.0, heft.makespan, gap, time.monotonic() + _FAR)
    assert out is not None and out.complete
    assert out.lower_bound <= optimum + 1e-9
    best = min(out.makespan, heft.makespan)
    assert best == pytest.approx(optimum, rel=2 * gap)
    assert best - out.lower_bound <= gap * best + 1e-9
    if out.agent is not None and out.start is not None:  # the schedule it reports is real
        order = sorted(range(n), key=lambda j: out.start[j])  # type: ignore[index]
        assert decode(graph, order, out.agent).makespan <= out.makespan + 1e-9


@pytest.mark.parametrize(("n", "m", "ccr", "seed", "restricted"), TINY_CASES)
def test_one_pass_search_ends_at_the_brute_force_optimum(
    n: int, m: int, ccr: float, seed: int, restricted: bool
) -> None:
    _problem, graph, allowed, optimum = tiny_case(n, m, ccr, seed, restricted)
    out = branch_and_bound(graph, allowed, 2 * optimum, 1e-6, time.monotonic() + _FAR)
    assert out is not None and out.complete
    assert out.makespan == pytest.approx(optimum, rel=1e-9)
    assert out.lower_bound <= optimum + 1e-9


def test_an_unreachable_target_is_refuted_and_a_reachable_one_found() -> None:
    problem = workflow_problem(7, 2, 0.5, 3, False)
    graph, allowed = build_graph(problem), allowed_agents(problem)
    optimum = min(s.makespan for s in every_schedule(graph, allowed))
    below = branch_and_bound(graph, allowed, optimum * 0.999, 0.0, time.monotonic() + _FAR)
    assert below is not None and below.complete and below.agent is None
    at = branch_and_bound(graph, allowed, optimum * 1.000001, 0.0, time.monotonic() + _FAR)
    assert at is not None and at.makespan == pytest.approx(optimum, rel=1e-9)


def _fork(works: list[float], speeds: list[float]) -> CompiledProblem:
    """Task 0, then every other task after it with no data: a partition of the works over
    agents waiting for task 0, packed perfectly by the works below."""
    doc = generate_workflow_problem(len(works), len(speeds), 1.0, 0).model_dump()
    for agent, speed in zip(doc["agents"], speeds, strict=True):
        agent["speed"] = speed
    for j, (task, work) in enumerate(zip(doc["tasks"], works, strict=True)):
        task["work"] = work
        task["after"] = [{"task": "t0", "data": 0.0}] if j else []
    return compile_problem(Problem.model_validate(doc))


@pytest.mark.parametrize(
    ("works", "speeds"),
    [
        ([2.0, 3.0, 5.0, 4.0, 4.0, 6.0], [1.0, 1.0]),  # 13: {0, 1, 3, 4} and {2, 5} after 2
        ([2.0, 3.0, 5.0, 4.0, 4.0, 6.0, 7.0], [1.0, 2.0]),
        ([1.5, 2.5, 3.5, 1.25, 2.75, 4.0, 0.5], [1.0, 0.5, 2.0]),
        ([0.7, 1.1, 2.9, 1.3, 2.3, 3.1, 1.7], [0.9, 1.3]),
    ],
)
def test_tight_packings_are_found_at_their_optimum_and_refuted_just_below(
    works: list[float], speeds: list[float]
) -> None:
    """Agents' loads that fill the makespan exactly: the load-window cut, whose idle budget
    is then zero, still lets the optimal schedule through and cuts just below it."""
    problem = _fork(works, speeds)
    graph, allowed = build_graph(problem), allowed_agents(problem)
    optimum = min(s.makespan for s in every_schedule(graph, allowed))
    at = branch_and_bound(graph, allowed, optimum, 0.0, time.monotonic() + _FAR)
    assert at is not None and at.makespan == pytest.approx(optimum, rel=1e-12)
    below = branch_and_bound(graph, allowed, optimum * (1 - 1e-7), 0.0, time.monotonic() + _FAR)
    assert below is not None and below.complete and below.agent is None


def test_the_largest_subset_sum_under_a_cap_matches_brute_force() -> None:
    from solvers.workflow.exact_kernel import _largest_sum  # numba: loaded here only

    rng = np.random.default_rng(3)
    for k in range(13):
        items = rng.uniform(0.5, 9.0, k)
        sums = sorted(sum(c) for r in range(k + 1) for c in itertools.combinations(items, r))
        # Caps at a subset sum exactly, between two, below every item, above them all.
        for cap in {0.1, sums[len(sums) // 2], (sums[len(sums) // 3] + sums[-1]) / 2, 1e3}:
            scratch = [np.empty(64) for _ in range(3)]
            best = _largest_sum(items, k, cap, *scratch)
            assert best == pytest.approx(max(s for s in sums if s <= cap), abs=1e-12)


def _cp_sat_optimum(problem: CompiledProblem) -> tuple[float, float]:
    """(CP-SAT's proven bound in seconds, its schedule re-timed in seconds), no exact search."""
    graph, allowed = build_graph(problem), allowed_agents(problem)
    heft = heft_schedule(problem)
    assert heft is not None
    built = build_model(problem, graph, heft, 1_000_000, allowed)
    built.model.minimize(built.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60.0
    assert solver.solve(built.model) == cp_model.OPTIMAL
    agent = [i for j in range(graph.n) for i in allowed[j] if solver.boolean_value(built.use[j, i])]
    order = sorted(range(graph.n), key=lambda j: (solver.value(built.start[j]), j))
    retimed = decode(graph, order, agent).makespan
    return solver.best_objective_bound / built.scale, min(retimed, heft.makespan)


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 0), (1.0, 1), (0.5, 3)])
def test_bisection_agrees_with_cp_sat_on_12_tasks(ccr: float, seed: int) -> None:
    problem = compile_problem(generate_workflow_problem(12, 3, ccr, seed))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    cp_bound, cp_makespan = _cp_sat_optimum(problem)
    gap = 1e-6
    out = bisect_makespan(graph, allowed, 0.0, cp_makespan, gap, time.monotonic() + _FAR)
    assert out is not None and out.complete
    # CP-SAT's model is a rounded-down relaxation: its bound is below every schedule.
    best = min(out.makespan, cp_makespan)
    assert cp_bound <= best + 1e-9
    assert out.lower_bound <= cp_makespan + 1e-9
    assert best <= cp_makespan + 1e-9 and best == pytest.approx(cp_makespan, rel=1e-4)


def test_a_zero_duration_declines() -> None:
    doc = generate_workflow_problem(5, 2, 1.0, 0).model_dump()
    doc["tasks"][2]["work"] = 0.0
    problem = compile_problem(Problem.model_validate(doc))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    assert bisect_makespan(graph, allowed, 0.0, 100.0, 1e-4, time.monotonic() + 1) is None
    assert branch_and_bound(graph, allowed, 100.0, 1e-4, time.monotonic() + 1) is None


def test_the_kernel_resumes_where_each_node_budget_left_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets of a few nodes (the clock read between calls) walk the same tree as one call."""
    problem = compile_problem(generate_workflow_problem(12, 3, 1.0, 2))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    heft = heft_schedule(problem)
    assert heft is not None
    whole = bisect_makespan(graph, allowed, 0.0, heft.makespan, 1e-6, time.monotonic() + _FAR)
    monkeypatch.setattr(exact_search, "_NODES_PER_CALL", 7)
    pieces = bisect_makespan(graph, allowed, 0.0, heft.makespan, 1e-6, time.monotonic() + _FAR)
    assert whole is not None and pieces is not None and whole.complete and pieces.complete
    assert whole.nodes > 7 * 10  # many calls of 7 nodes
    assert (pieces.nodes, pieces.makespan, pieces.lower_bound) == (
        whole.nodes,
        whole.makespan,
        whole.lower_bound,
    )
    assert pieces.agent == whole.agent and pieces.start == whole.start


def test_a_passed_deadline_stops_the_search_without_a_bound() -> None:
    problem = compile_problem(generate_workflow_problem(30, 4, 0.5, 1))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    out = branch_and_bound(graph, allowed, 1e6, 0.0, time.monotonic() - 1.0)
    assert out is not None and not out.complete and out.lower_bound == 0.0
    assert 0 < out.nodes <= exact_search._NODES_PER_CALL + 1  # one call, then the clock
