"""CP-SAT inside the workflow engine: its optimum and bound against brute force on tiny
workflows, and a proof reported only with a bound that holds."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph


def _brute_force_makespan(problem: CompiledProblem) -> float:
    """Every assignment re-timed in every topological order: the exact optimum.

    Sorting an optimal schedule by start gives one of these orders, and re-timing in
    it never starts a task later, so the minimum is the optimum.
    """
    graph = build_graph(problem)
    dag = nx.DiGraph()
    dag.add_nodes_from(range(graph.n))
    dag.add_edges_from((p, s) for s in range(graph.n) for p, _ in graph.preds[s])
    orders = [list(o) for o in nx.all_topological_sorts(dag)]
    best = float("inf")
    for agent in itertools.product(range(graph.m), repeat=graph.n):
        for order in orders:
            best = min(best, decode(graph, order, list(agent)).makespan)
    return best


@pytest.mark.parametrize(
    ("ccr", "seed", "workers"),
    # One worker searches without the LP; two run a search without and one with it.
    [(0.5, 1, 1), (5.0, 2, 1), (10.0, 3, 1), (1.0, 5, 2), (0.5, 6, 2)],
)
def test_cpsat_proof_matches_brute_force(ccr: float, seed: int, workers: int) -> None:
    problem = compile_problem(generate_workflow_problem(6, 2, ccr, seed))
    optimum = _brute_force_makespan(problem)
    options = SolveOptions(time_limit_s=20.0, workers=workers)
    result = get_solver("heft").solve(problem, options)
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible
    assert ev.objectives["makespan"] >= optimum - 1e-6
    assert result.bound is not None and result.bound <= optimum + 1e-9
    # Six tasks on two agents: CP-SAT closes the gap well within the time limit.
    assert result.status == SolveStatus.OPTIMAL
    assert ev.objectives["makespan"] == pytest.approx(optimum, rel=1e-4)


def test_no_proof_or_bound_when_the_score_is_not_the_makespan() -> None:
    doc = generate_workflow_problem(6, 2, 1.0, 4).model_dump()
    doc["objectives"] = {"weights": {"makespan": 1.0, "cost": 1.0}}
    problem = compile_problem(Problem.model_validate(doc))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=1.0, workers=1))
    assert result.status == SolveStatus.FEASIBLE and result.bound is None
    assert result.assignment is not None
    assert evaluate_plan(problem, result.assignment, result.start).feasible


def test_cpsat_keeps_allocation_rules() -> None:
    doc = generate_workflow_problem(8, 3, 5.0, 6).model_dump()
    doc["resources"] = ["cpu"]
    for agent in doc["agents"]:
        agent["capacity"] = {"cpu": 3.0}
    for task in doc["tasks"]:
        task["demand"] = {"cpu": 1.0}
    doc["groups"] = [{"kind": "anti_affinity", "tasks": ["t0", "t1", "t2"]}]
    problem = compile_problem(Problem.model_validate(doc))
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=2.0, workers=1))
    assert result.assignment is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible, [v.message for v in ev.violations]
    assert len(set(np.asarray(result.assignment)[:3].tolist())) == 3
