"""The workflow engine: HEFT schedules verified by evaluate_plan, the improvement phase never
worse, allocation constraints kept."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Problem, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph
from solvers.workflow.improve import improve
from solvers.workflow.rules import PlacementRules
from solvers.workflow.solver import heft_schedule


@pytest.mark.parametrize(
    ("n", "m", "ccr", "seed"),
    [(20, 2, 0.5, 0), (60, 4, 1.0, 1), (60, 4, 10.0, 2), (150, 8, 5.0, 3), (40, 3, 0.0, 4)],
)
def test_heft_schedules_pass_the_evaluator(n: int, m: int, ccr: float, seed: int) -> None:
    problem = compile_problem(generate_workflow_problem(n, m, ccr, seed))
    schedule = heft_schedule(problem)
    assert schedule is not None
    ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
    assert ev.feasible, [v.message for v in ev.violations[:3]]
    assert ev.objectives["makespan"] == pytest.approx(schedule.makespan)


def test_heft_on_a_chain_with_heavy_data_keeps_it_on_the_fastest_agent() -> None:
    doc = {
        "agents": [{"id": "slow", "speed": 1.0}, {"id": "fast", "speed": 4.0}],
        "tasks": [
            {"id": "t0", "work": 4},
            {"id": "t1", "work": 4, "after": [{"task": "t0", "data": 100}]},
            {"id": "t2", "work": 4, "after": [{"task": "t1", "data": 100}]},
        ],
    }
    schedule = heft_schedule(compile_problem(Problem.model_validate(doc)))
    assert schedule is not None
    assert schedule.agent == [1, 1, 1]
    assert schedule.start == pytest.approx([0.0, 1.0, 2.0])
    assert schedule.makespan == pytest.approx(3.0)


def test_decode_rebuilds_heft_exactly() -> None:
    problem = compile_problem(generate_workflow_problem(80, 5, 5.0, 7))
    schedule = heft_schedule(problem)
    assert schedule is not None
    again = decode(build_graph(problem), schedule.order, schedule.agent)
    assert again.start == schedule.start and again.makespan == schedule.makespan


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100_000), moves=st.integers(1, 4))
def test_re_timing_from_the_first_change_equals_a_full_re_time(seed: int, moves: int) -> None:
    problem = compile_problem(generate_workflow_problem(40, 4, 5.0, seed))
    graph = build_graph(problem)
    base = heft_schedule(problem)
    assert base is not None
    rng = np.random.default_rng(seed)
    agent = list(base.agent)
    changed = rng.choice(40, size=moves, replace=False).tolist()
    for j in changed:
        agent[j] = int(rng.integers(0, 4))
    first = min(base.position()[j] for j in changed)
    partial = decode(graph, base.order, agent, base, first)
    full = decode(graph, base.order, agent)
    assert partial.start == full.start and partial.makespan == full.makespan


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(5, 60),
    m=st.integers(1, 6),
    ccr=st.sampled_from([0.5, 1.0, 5.0, 10.0]),
)
def test_improvement_never_worsens_the_makespan(seed: int, n: int, m: int, ccr: float) -> None:
    problem = compile_problem(generate_workflow_problem(n, m, ccr, seed))
    graph = build_graph(problem)
    start = heft_schedule(problem)
    assert start is not None
    rules = PlacementRules(problem, np.array(start.agent))
    deadline = time.perf_counter() + 0.15
    better = improve(graph, rules, start, deadline, np.random.default_rng(seed))
    assert better.makespan <= start.makespan
    ev = evaluate_plan(problem, np.array(better.agent), np.array(better.start))
    assert ev.feasible, [v.message for v in ev.violations[:3]]
    assert ev.objectives["makespan"] == pytest.approx(better.makespan)


def test_solver_returns_a_verified_schedule_no_worse_than_heft() -> None:
    problem = compile_problem(generate_workflow_problem(100, 6, 10.0, 11))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=1.0, seed=3))
    assert result.status == SolveStatus.FEASIBLE
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible
    heft = heft_schedule(problem)
    assert heft is not None
    assert ev.objectives["makespan"] <= heft.makespan + 1e-9
    assert result.objective == pytest.approx(ev.score)


def _constrained() -> Problem:
    base = generate_workflow_problem(40, 4, 5.0, 5)
    doc = base.model_dump()
    doc["resources"] = ["cpu"]
    for i, agent in enumerate(doc["agents"]):
        agent["capacity"] = {"cpu": 12.0}
        agent["capabilities"] = ["gpu"] if i == 3 else []
        agent["max_tasks"] = 14
    for j, task in enumerate(doc["tasks"]):
        task["demand"] = {"cpu": 1.0}
        if j % 7 == 0:
            task["requires"] = ["gpu"]
        if j == 5:
            task["pinned_agent"] = "a0"
    doc["groups"] = [
        {"kind": "anti_affinity", "tasks": ["t1", "t2", "t3"]},
        {"kind": "co_location", "tasks": ["t10", "t11"]},
    ]
    return Problem.model_validate(doc)


def test_capabilities_pins_capacity_and_groups_are_kept() -> None:
    problem = compile_problem(_constrained())
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=0.5, seed=1))
    assert result.status == SolveStatus.FEASIBLE, result.notes
    assert result.assignment is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible, [v.message for v in ev.violations]
    assert result.assignment[5] == 0
    assert all(result.assignment[j] == 3 for j in range(0, 40, 7))


def test_problems_without_dependencies_are_skipped_with_a_reason() -> None:
    problem = compile_problem(
        Problem.model_validate({"agents": [{"id": "a"}], "tasks": [{"id": "x"}]})
    )
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=0.5))
    assert result.status == SolveStatus.SKIPPED and "after" in result.notes[0]


def test_a_valid_hint_is_a_start_and_a_hint_breaking_capacity_is_ignored() -> None:
    problem = compile_problem(_constrained())
    heft = heft_schedule(problem)
    assert heft is not None
    overloaded = np.full(problem.n_tasks, 3)  # agent a3 cannot hold 40 tasks (max_tasks 14)
    good = np.array(heft.agent)
    options = SolveOptions(time_limit_s=0.3, seed=2, hints=[overloaded, good])
    result = get_solver("heft").solve(problem, options)
    assert result.status == SolveStatus.FEASIBLE and result.assignment is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible and ev.objectives["makespan"] <= heft.makespan + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_engine_heft_equals_the_benchmarks_independent_heft(seed: int) -> None:
    # The engine's result is never worse than its own HEFT start; matching the plainly
    # written HEFT of bench/workflow.py makes "never worse than HEFT" hold there too.
    from bench.workflow import plain_heft

    ccr = (0.5, 1.0, 5.0, 10.0)[seed % 4]
    problem = compile_problem(generate_workflow_problem(60 + 10 * seed, 3 + seed, ccr, seed))
    ours = heft_schedule(problem)
    assert ours is not None
    _, start, makespan = plain_heft(problem)
    assert ours.makespan == pytest.approx(makespan, rel=1e-12)
    assert ours.start == pytest.approx(start.tolist(), rel=1e-12)


def test_unreachable_agents_give_no_solution_with_a_reason_not_a_crash() -> None:
    doc = {
        "agents": [{"id": "a", "node": "p"}, {"id": "b", "node": "q", "capabilities": ["gpu"]}],
        "tasks": [{"id": "x"}, {"id": "y", "requires": ["gpu"], "after": ["x"]}],
        "topology": {"nodes": [{"id": "p"}, {"id": "q"}], "links": []},
    }
    doc["tasks"][0]["pinned_agent"] = "a"
    problem = compile_problem(Problem.model_validate(doc))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=0.5))
    assert result.status == SolveStatus.NO_SOLUTION and result.assignment is None
    assert "network path" in result.notes[0]
