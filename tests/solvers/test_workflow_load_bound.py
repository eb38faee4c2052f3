"""The workflow load bound (`load_lower_bound`): total work over total speed when every
agent may take every task, and never above the optimum when some may not."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from models import CompiledProblem, Problem, compile_problem
from models.generators.workflow import generate_workflow_problem
from solvers.workflow.cpsat_schedule import load_lower_bound, makespan_lower_bound
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph


def _optimum_over_eligible(problem: CompiledProblem) -> float:
    """Every eligible assignment re-timed in every topological order: the exact optimum."""
    graph = build_graph(problem)
    dag = nx.DiGraph()
    dag.add_nodes_from(range(graph.n))
    dag.add_edges_from((p, s) for s in range(graph.n) for p, _ in graph.preds[s])
    orders = [list(o) for o in nx.all_topological_sorts(dag)]
    choices = [[i for i in range(graph.m) if problem.eligible[i, j]] for j in range(graph.n)]
    return min(
        decode(graph, order, list(agent)).makespan
        for agent in itertools.product(*choices)
        for order in orders
    )


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 0), (1.0, 3)])
def test_load_bound_is_total_work_over_total_speed(ccr: float, seed: int) -> None:
    doc = generate_workflow_problem(30, 4, ccr, seed)
    problem = compile_problem(doc)
    work = sum(t.work for t in doc.tasks)
    speed = sum(a.speed for a in doc.agents)
    assert load_lower_bound(problem, build_graph(problem)) == pytest.approx(work / speed, rel=1e-6)


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 1), (1.0, 5), (10.0, 3)])
def test_load_bound_with_ineligible_pairs_never_above_the_optimum(ccr: float, seed: int) -> None:
    doc = generate_workflow_problem(6, 3, ccr, seed).model_dump()
    doc["agents"][0]["capabilities"] = ["gpu"]
    for task in doc["tasks"][:3]:
        task["requires"] = ["gpu"]  # only agent 0 may run these
    problem = compile_problem(Problem.model_validate(doc))
    graph = build_graph(problem)
    assert not problem.eligible.all()
    optimum = _optimum_over_eligible(problem)
    assert 0 < load_lower_bound(problem, graph) <= optimum + 1e-9
    assert 0 < makespan_lower_bound(problem, graph) <= optimum + 1e-9
