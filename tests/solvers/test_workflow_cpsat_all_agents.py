"""The workflow CP-SAT model's all-agents resource (a redundant cumulative): demands in
proportion to speed, and the model's optimum the same with it and without it, within
the brute-force optimum, on small workflows with agents of different speeds."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from ortools.sat.python import cp_model

from models import Problem, compile_problem
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from solvers.workflow.cpsat_model import ScheduleModel, build_model
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.rules import PlacementRules


def _brute_force_makespan(problem: CompiledProblem) -> float:
    """Every eligible assignment re-timed in every topological order: the optimum."""
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


def _built(problem_doc: Problem) -> tuple[ScheduleModel, float]:
    problem = compile_problem(problem_doc)
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    warm = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert warm is not None
    allowed = [[i for i in range(graph.m) if problem.eligible[i, j]] for j in range(graph.n)]
    return build_model(problem, graph, warm, 1_000, allowed), _brute_force_makespan(problem)


def _optimum(built: ScheduleModel) -> int:
    built.model.minimize(built.makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30.0
    assert solver.solve(built.model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def _cumulatives(built: ScheduleModel) -> list[int]:
    return [k for k, c in enumerate(built.model.proto.constraints) if c.has_cumulative()]


def _gpu_only(doc: Problem) -> Problem:
    """Agent 2 alone may run task 1: eligibility differs by agent."""
    raw = doc.model_dump()
    raw["agents"][2]["capabilities"] = ["gpu"]
    raw["tasks"][1]["requires"] = ["gpu"]
    return Problem.model_validate(raw)


def test_demands_follow_speed() -> None:
    doc = generate_workflow_problem(6, 3, 1.0, 4)
    built, _ = _built(doc)
    (k,) = _cumulatives(built)
    cumulative = built.model.proto.constraints[k].cumulative
    speeds = [agent.speed for agent in doc.agents]
    fastest = max(speeds)
    demands = {v.offset for v in cumulative.demands}
    assert demands == {round(1000 * s / fastest) for s in speeds}
    assert cumulative.capacity.offset == sum(round(1000 * s / fastest) for s in speeds)


@pytest.mark.parametrize(
    "doc",
    [
        generate_workflow_problem(6, 3, 0.5, 1),
        generate_workflow_problem(7, 3, 1.0, 6),
        _gpu_only(generate_workflow_problem(6, 3, 0.5, 3)),
    ],
)
def test_all_agents_resource_keeps_the_optimum(doc: Problem) -> None:
    with_it, optimum = _built(doc)
    without, _ = _built(doc)
    (k,) = _cumulatives(without)
    without.model.proto.constraints[k].clear_cumulative()
    assert not _cumulatives(without)
    value = _optimum(with_it)
    assert value == _optimum(without)
    # A bound on the real optimum, and within the rounding of every task and edge of it.
    assert value / with_it.scale <= optimum + 1e-9
    assert optimum * with_it.scale <= value + len(doc.tasks) + sum(len(t.after) for t in doc.tasks)
