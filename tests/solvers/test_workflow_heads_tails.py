"""Heads and tails per (task, agent) (`solvers/workflow/heads_tails.py`): never later
than any schedule starts a task there, never longer than any schedule leaves after it,
so the redundant constraints keep the CP-SAT model's optimum."""

from __future__ import annotations

import math

import pytest
from ortools.sat.python import cp_model

from models import Problem, compile_problem
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from solvers.workflow.cpsat_model import build_model
from solvers.workflow.graph import build_graph
from solvers.workflow.heads_tails import add_heads_and_tails, heads_and_tails
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.rules import PlacementRules
from tests.solvers.workflow_checks import (
    allowed_agents,
    assert_engine_proves,
    every_schedule,
    workflow_problem,
)


@pytest.mark.parametrize(
    ("n", "m", "ccr", "seed", "restricted"),
    [(6, 2, 0.5, 1, False), (6, 3, 1.0, 4, True), (7, 2, 5.0, 2, False), (6, 3, 10.0, 3, True)],
)
def test_no_schedule_starts_before_a_head_or_ends_inside_a_tail(
    n: int, m: int, ccr: float, seed: int, restricted: bool
) -> None:
    problem = (
        workflow_problem(n, m, ccr, seed, True)
        if restricted
        else compile_problem(generate_workflow_problem(n, m, ccr, seed))
    )
    graph, allowed = build_graph(problem), allowed_agents(problem)
    head, tail = heads_and_tails(graph, allowed, graph.duration, graph.transfer)
    assert any(head[j][i] > 0 for j in range(n) for i in allowed[j])  # not vacuous
    assert any(tail[j][i] > 0 for j in range(n) for i in allowed[j])
    for schedule in every_schedule(graph, allowed):
        for j, i in enumerate(schedule.agent):
            assert schedule.start[j] >= head[j][i] - 1e-9
            assert schedule.finish[j] + tail[j][i] <= schedule.makespan + 1e-9


def test_a_predecessor_pinned_elsewhere_pays_its_transfer() -> None:
    # a (only on agent 0) -> b (only on agent 1): b starts after a's end plus the
    # transfer, and a leaves at least the transfer and b's duration after it.
    doc = {
        "agents": [
            {"id": "x", "speed": 1.0, "capabilities": ["x"]},
            {"id": "y", "speed": 2.0, "capabilities": ["y"]},
        ],
        "tasks": [
            {"id": "a", "work": 4.0, "requires": ["x"]},
            {"id": "b", "work": 6.0, "requires": ["y"], "after": [{"task": "a", "data": 3.0}]},
        ],
        "objectives": {"weights": {"makespan": 1.0}},
    }
    problem = compile_problem(Problem.model_validate(doc))
    graph = build_graph(problem)
    head, tail = heads_and_tails(graph, allowed_agents(problem), graph.duration, graph.transfer)
    transfer = graph.transfer(0, 0, 1)
    assert transfer > 0
    assert head[1][1] == pytest.approx(4.0 + transfer)
    assert tail[0][0] == pytest.approx(transfer + 3.0)
    assert math.isinf(head[1][0]) and math.isinf(tail[0][1])  # not allowed there


@pytest.mark.parametrize(("ccr", "seed"), [(1.0, 4), (10.0, 3)])
def test_engine_optimum_with_eligibility_matches_brute_force(ccr: float, seed: int) -> None:
    problem = workflow_problem(6, 3, ccr, seed, True)
    graph = build_graph(problem)
    optimum = min(s.makespan for s in every_schedule(graph, allowed_agents(problem)))
    assert_engine_proves(problem, optimum)


def _model_optimum(problem: CompiledProblem, units: int, with_heads: bool) -> int:
    graph, allowed = build_graph(problem), allowed_agents(problem)
    rules = PlacementRules(problem)
    warm = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert warm is not None
    built = build_model(problem, graph, warm, units, allowed)
    if with_heads:
        add_heads_and_tails(built, graph, allowed)
    built.model.minimize(built.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20.0
    assert solver.solve(built.model) == cp_model.OPTIMAL
    return int(solver.objective_value)


@pytest.mark.parametrize("units", [7, 40, 1_000_000])
@pytest.mark.parametrize(("ccr", "seed", "restricted"), [(0.5, 1, False), (10.0, 3, True)])
def test_heads_and_tails_keep_the_model_optimum(
    units: int, ccr: float, seed: int, restricted: bool
) -> None:
    """In the model's own rounded-down units: the redundant constraints cut no model
    schedule, so the optimum (and CP-SAT's bound) is the same with and without them."""
    problem = (
        workflow_problem(6, 3, ccr, seed, True)
        if restricted
        else compile_problem(generate_workflow_problem(6, 2, ccr, seed))
    )
    assert _model_optimum(problem, units, True) == _model_optimum(problem, units, False)
