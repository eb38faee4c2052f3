"""Shared helpers for workflow tests: small generated workflows (optionally with a
capability rule), the tiny cases and their brute-force optima, each task's allowed
agents, every schedule by brute force, and the
assertion that the engine proves a known optimum."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import networkx as nx
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.workflow.decode import decode
from solvers.workflow.graph import WorkflowGraph, build_graph
from solvers.workflow.heft import Schedule


def workflow_problem(n: int, m: int, ccr: float, seed: int, restricted: bool) -> CompiledProblem:
    """A generated workflow; `restricted`: only agent 0 may run the first three tasks."""
    doc = generate_workflow_problem(n, m, ccr, seed).model_dump()
    if restricted:
        doc["agents"][0]["capabilities"] = ["gpu"]
        for task in doc["tasks"][:3]:
            task["requires"] = ["gpu"]
    return compile_problem(Problem.model_validate(doc))


#: Tiny workflows (n, m, ccr, seed, restricted) whose optimum brute force finds quickly.
TINY_CASES = [
    (6, 2, 0.5, 1, False),
    (6, 3, 0.5, 2, True),
    (6, 3, 1.0, 4, True),
    (7, 2, 5.0, 2, False),
    (6, 3, 10.0, 3, False),
]


def tiny_case(
    n: int, m: int, ccr: float, seed: int, restricted: bool
) -> tuple[CompiledProblem, WorkflowGraph, list[list[int]], float]:
    """A tiny workflow, its graph, allowed agents and brute-force optimum makespan."""
    problem = workflow_problem(n, m, ccr, seed, restricted)
    graph, allowed = build_graph(problem), allowed_agents(problem)
    return problem, graph, allowed, min(s.makespan for s in every_schedule(graph, allowed))


def allowed_agents(problem: CompiledProblem) -> list[list[int]]:
    """Each task's eligible agents."""
    return [
        [i for i in range(problem.n_agents) if problem.eligible[i, j]]
        for j in range(problem.n_tasks)
    ]


def every_schedule(graph: WorkflowGraph, allowed: list[list[int]]) -> Iterator[Schedule]:
    """Every eligible assignment re-timed in every topological order (the optimum is
    among them: an optimal schedule sorted by start is one of these, re-timed no later)."""
    dag = nx.DiGraph()
    dag.add_nodes_from(range(graph.n))
    dag.add_edges_from((p, s) for s in range(graph.n) for p, _ in graph.preds[s])
    orders = [list(o) for o in nx.all_topological_sorts(dag)]
    for agent in itertools.product(*allowed):
        for order in orders:
            yield decode(graph, order, list(agent))


def assert_engine_proves(problem: CompiledProblem, optimum: float) -> None:
    """heft (CP-SAT on small workflows) returns a verified schedule at `optimum`, says
    optimal, and its bound does not exceed it."""
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=20.0, workers=1))
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible
    assert result.bound is not None and result.bound <= optimum + 1e-9
    assert result.status == SolveStatus.OPTIMAL
    assert ev.objectives["makespan"] == pytest.approx(optimum, rel=1e-4)
