"""The exact search shared by two threads (`solvers/workflow/exact_pool.py`) and run beside
the engine (`exact_beside.py`): split into subtrees handed over in small node budgets, it
walks exactly the serial search's tree (no subtree dropped, none walked twice), ends at
the brute-force optimum on tiny workflows, and no search thread outlives a solve."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from models import compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.workflow import exact_pool, exact_search
from solvers.workflow.cpsat_schedule import solve_schedule
from solvers.workflow.decode import decode
from solvers.workflow.exact_kernel import BUDGET_SPENT, ENDED, NODES
from solvers.workflow.exact_search import _Search, bisect_makespan, branch_and_bound
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


def _joined_now() -> threading.Event:
    """A helper event already set: the second thread joins at once."""
    helper = threading.Event()
    helper.set()
    return helper


def _refuted_tree(ccr: float, seed: int) -> tuple[_Search, float, int]:
    """A 12 x 3 workflow's search, a target just below its optimum, and the serial count
    of the nodes of that target's (whole) tree."""
    problem = compile_problem(generate_workflow_problem(12, 3, ccr, seed))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    heft = heft_schedule(problem)
    assert heft is not None
    optimum = bisect_makespan(graph, allowed, 0.0, heft.makespan, 1e-6, time.monotonic() + _FAR)
    assert optimum is not None and optimum.complete
    target = optimum.lower_bound * (1 - 1e-5)
    ended, found, nodes = _Search(graph, allowed).run(target, 0.0, time.monotonic() + _FAR, True)
    assert ended and found is None and nodes > 1000
    return _Search(graph, allowed), target, nodes


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 0), (1.0, 0), (5.0, 1)])
def test_subtrees_split_off_every_few_nodes_add_up_to_the_serial_tree(
    ccr: float, seed: int
) -> None:
    """Deterministic hand-over: after every 7 nodes a walker gives away what `split`
    offers, and the paths queued are walked in turn; the nodes add up to the serial
    count (a dropped or doubled subtree changes it)."""
    search, target, serial = _refuted_tree(ccr, seed)
    search.run(target, 0.0, time.monotonic() + _FAR, True)  # builds the walkers
    walker = search.walkers[0]
    walker.reset(target, 0.0)
    queue: list[exact_pool.Path] = [()]
    handed = 0
    while queue:
        walker.load(queue.pop())
        while (status := walker.step(7, True)) == BUDGET_SPENT:
            given = walker.split()
            handed += len(given)
            queue.extend(reversed(given))
        assert status == ENDED
    assert handed > 10
    assert int(walker.counters[NODES]) == serial


@pytest.mark.parametrize(("ccr", "seed", "threads"), [(0.5, 0, 2), (1.0, 0, 2), (5.0, 1, 3)])
def test_threads_walk_exactly_the_serial_tree(
    ccr: float, seed: int, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refuted target (the whole tree walked) by two or three threads handing subtrees
    over every 7 nodes: their nodes add up to the serial count."""
    search, target, serial = _refuted_tree(ccr, seed)
    search.threads = threads
    monkeypatch.setattr(exact_search, "_NODES_PER_CALL", 7)
    shared = search.run(target, 0.0, time.monotonic() + _FAR, True, None, _joined_now())
    assert shared[0] and shared[1] is None and shared[2] == serial


@pytest.mark.parametrize(("n", "m", "ccr", "seed", "restricted"), TINY_CASES)
def test_two_threads_end_at_the_brute_force_optimum(
    n: int, m: int, ccr: float, seed: int, restricted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exact_search, "_NODES_PER_CALL", 3)
    problem, graph, allowed, optimum = tiny_case(n, m, ccr, seed, restricted)
    heft = heft_schedule(problem)
    assert heft is not None
    gap, deadline = 1e-6, time.monotonic() + _FAR
    out = bisect_makespan(graph, allowed, 0.0, heft.makespan, gap, deadline, None, _joined_now())
    assert out is not None and out.complete and out.lower_bound <= optimum + 1e-9
    assert min(out.makespan, heft.makespan) == pytest.approx(optimum, rel=2 * gap)
    one_pass = branch_and_bound(graph, allowed, 2 * optimum, gap, deadline, _joined_now())
    assert one_pass is not None and one_pass.complete
    assert one_pass.makespan == pytest.approx(optimum, rel=1e-9)
    assert one_pass.agent is not None and one_pass.start is not None
    start = one_pass.start
    order = sorted(range(n), key=lambda j: start[j])
    assert decode(graph, order, one_pass.agent).makespan <= one_pass.makespan + 1e-9


def test_a_target_below_the_optimum_is_refuted_by_two_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exact_search, "_NODES_PER_CALL", 5)
    problem = workflow_problem(7, 2, 0.5, 3, False)
    graph, allowed = build_graph(problem), allowed_agents(problem)
    optimum = min(s.makespan for s in every_schedule(graph, allowed))
    deadline = time.monotonic() + _FAR
    below = branch_and_bound(graph, allowed, optimum * 0.999, 0.0, deadline, _joined_now())
    assert below is not None and below.complete and below.agent is None
    at = branch_and_bound(graph, allowed, optimum * 1.000001, 0.0, deadline, _joined_now())
    assert at is not None and at.makespan == pytest.approx(optimum, rel=1e-9)


def test_a_late_helper_joins_and_a_passed_deadline_stops_both() -> None:
    problem = compile_problem(generate_workflow_problem(30, 4, 0.5, 3))
    graph, allowed = build_graph(problem), allowed_agents(problem)
    helper = threading.Event()
    timer = threading.Timer(0.2, helper.set)
    timer.start()
    began = time.monotonic()
    # Just above the load bound (113.6517), below the optimum: a long refutation.
    out = branch_and_bound(graph, allowed, 113.655, 0.0, began + 0.6, helper)
    timer.join()
    assert out is not None and not out.complete and out.lower_bound == 0.0
    assert time.monotonic() - began < 5.0
    assert not [t for t in threading.enumerate() if t.name.startswith("workflow-exact")]


def test_the_engine_proves_with_the_exact_search_beside_and_joins_its_threads() -> None:
    """12 x 3 at CCR 0.5 with two workers: proven, verified, bound below the makespan,
    and no search thread left running once `solve` returned."""
    problem = compile_problem(generate_workflow_problem(12, 3, 0.5, 3))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=20.0, workers=2))
    assert not [t for t in threading.enumerate() if t.name.startswith("workflow-exact")]
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible and result.status == SolveStatus.OPTIMAL
    makespan = ev.objectives["makespan"]
    assert result.bound is not None and result.bound <= makespan + 1e-9
    assert makespan - result.bound <= 1e-4 * makespan
    assert np.asarray(result.assignment).shape == (12,)


def test_cp_sat_called_alone_runs_and_joins_its_own_exact_search() -> None:
    """`solve_schedule` without an exact search passed in (the NSGA-II seeds call it so)
    starts one for CP-SAT's time and joins it before returning."""
    problem = compile_problem(generate_workflow_problem(12, 3, 1.0, 0))
    graph = build_graph(problem)
    warm = heft_schedule(problem)
    assert warm is not None
    outcome = solve_schedule(problem, graph, warm, 20.0, 2, 0)
    assert not [t for t in threading.enumerate() if t.name.startswith("workflow-exact")]
    assert outcome.proven and outcome.agent is not None and outcome.order is not None
    makespan = decode(graph, outcome.order, outcome.agent).makespan
    assert outcome.lower_bound <= makespan + 1e-9
    assert makespan - outcome.lower_bound <= 1e-4 * makespan
