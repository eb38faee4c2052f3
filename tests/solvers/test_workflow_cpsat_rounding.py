"""The workflow CP-SAT model's rounding and transfers: its bound holds for the real
(unrounded) durations at any scale, and on a network its transfers are no slower than
any path a plan may be routed on."""

from __future__ import annotations

import numpy as np
import pytest
from ortools.sat.python import cp_model

from models import Problem, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.shared.proof import relative_gap
from solvers.workflow.cpsat_model import build_model
from solvers.workflow.cpsat_schedule import fastest_transfers
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.rules import PlacementRules
from tests.solvers.test_workflow_cpsat import _brute_force_makespan


@pytest.mark.parametrize("units", [7, 40, 1_000_000])
@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 1), (1.0, 5), (10.0, 3)])
def test_model_bound_never_above_the_real_optimum(units: int, ccr: float, seed: int) -> None:
    """At a coarse scale (7 units over the makespan) rounding up would put the model's
    optimum far above the real one; rounded down, its optimum stays a bound."""
    problem = compile_problem(generate_workflow_problem(6, 2, ccr, seed))
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    warm = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert warm is not None
    allowed = [list(range(graph.m)) for _ in range(graph.n)]
    built = build_model(problem, graph, warm, units, allowed)
    built.model.minimize(built.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20.0
    assert solver.solve(built.model) == cp_model.OPTIMAL  # the hint is a model schedule
    optimum = _brute_force_makespan(problem)
    assert solver.objective_value / built.scale <= optimum + 1e-9
    # The model is not loose: its optimum is within the rounding of every task and edge.
    assert solver.objective_value + graph.n + len(graph.data) >= optimum * built.scale


def _two_paths(traffic: float) -> Problem:
    """Agents on p and q: a direct link that is fast but narrow, and a detour over r
    that is slow but wide; `traffic` between two tasks may overload the direct link."""
    doc = generate_workflow_problem(6, 2, 1.0, 2).model_dump()
    doc["communication"] = [{"a": "t0", "b": "t1", "volume": traffic}]
    doc["topology"] = {
        "nodes": [{"id": "p"}, {"id": "q"}, {"id": "r"}],
        "links": [
            {"a": "p", "b": "q", "latency_ms": 1.0, "bandwidth": 0.1},
            {"a": "p", "b": "r", "latency_ms": 50.0, "bandwidth": 10.0},
            {"a": "r", "b": "q", "latency_ms": 50.0, "bandwidth": 20.0},
        ],
    }
    doc["agents"][0]["node"], doc["agents"][1]["node"] = "p", "q"
    return Problem.model_validate(doc)


def test_transfers_no_slower_than_any_path() -> None:
    problem = compile_problem(_two_paths(traffic=5.0))
    assert problem.network is not None and problem.network.may_overload
    graph = build_graph(problem)
    assert graph.per_data[0][1] == pytest.approx(10.0)  # the lowest-latency (narrow) link
    relaxed = fastest_transfers(problem, graph)
    # Widest bottleneck 10 (over r), lowest latency 1 ms (direct): neither path beats it.
    assert relaxed.per_data[0][1] == pytest.approx(0.1)
    assert relaxed.fixed[0][1] == pytest.approx(0.001)
    assert np.all(np.array(relaxed.per_data) <= np.array(graph.per_data))
    assert np.all(np.array(relaxed.fixed) <= np.array(graph.fixed))


def test_transfers_kept_when_no_plan_can_overload() -> None:
    problem = compile_problem(_two_paths(traffic=0.01))
    assert problem.network is not None and not problem.network.may_overload
    graph = build_graph(problem)
    assert fastest_transfers(problem, graph) is graph


@pytest.mark.parametrize(("ccr", "seed"), [(5.0, 0), (1.0, 1)])
def test_a_proof_holds_for_the_evaluators_makespan(ccr: float, seed: int) -> None:
    """OPTIMAL means the evaluator's makespan (not the model's rounded one) is within
    rel_gap of the reported bound."""
    problem = compile_problem(generate_workflow_problem(12, 3, ccr, seed))
    options = SolveOptions(time_limit_s=20.0, workers=1)
    result = get_solver("heft").solve(problem, options)
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible
    assert result.status == SolveStatus.OPTIMAL and result.bound is not None
    gap = relative_gap(ev.objectives["makespan"], result.bound)
    assert gap is not None and gap <= options.rel_gap
