"""The workflow CP-SAT model's additions: the makespan lower bound, symmetry breaking
for interchangeable agents, and the LNS over the fixed frame of a larger schedule."""

from __future__ import annotations

import time

import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.workflow.cpsat_model import identical_agent_runs
from solvers.workflow.cpsat_schedule import makespan_lower_bound
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import list_schedule, priority_order, upward_ranks
from solvers.workflow.lns import lns_improve
from solvers.workflow.rules import PlacementRules
from tests.solvers.test_workflow_cpsat import _brute_force_makespan
from tests.solvers.workflow_checks import assert_engine_proves


def _same_speed(doc: dict, agents: list[int]) -> Problem:
    for i in agents:
        doc["agents"][i]["speed"] = doc["agents"][agents[0]]["speed"]
    return Problem.model_validate(doc)


@pytest.mark.parametrize(("ccr", "seed"), [(0.5, 1), (1.0, 5), (10.0, 3)])
def test_lower_bound_never_above_the_optimum(ccr: float, seed: int) -> None:
    problem = compile_problem(generate_workflow_problem(6, 2, ccr, seed))
    bound = makespan_lower_bound(problem, build_graph(problem))
    assert 0 < bound <= _brute_force_makespan(problem) + 1e-9


@pytest.mark.parametrize("seed", [2, 7])
def test_symmetry_breaking_keeps_the_optimum(seed: int) -> None:
    doc = generate_workflow_problem(6, 3, 1.0, seed).model_dump()
    problem = compile_problem(_same_speed(doc, [0, 1, 2]))
    assert identical_agent_runs(problem, build_graph(problem)) == [[0, 1, 2]]
    optimum = _brute_force_makespan(problem)
    assert_engine_proves(problem, optimum)


def test_agents_that_differ_are_not_interchangeable() -> None:
    doc = generate_workflow_problem(6, 3, 1.0, 2).model_dump()
    doc = _same_speed(doc, [0, 1]).model_dump()
    doc["agents"][1]["capabilities"] = ["gpu"]
    doc["tasks"][0]["requires"] = ["gpu"]
    problem = compile_problem(Problem.model_validate(doc))
    assert identical_agent_runs(problem, build_graph(problem)) == []


@pytest.mark.parametrize("ccr", [1.0, 10.0])
def test_lns_returns_a_valid_schedule_never_worse(ccr: float) -> None:
    doc = generate_workflow_problem(60, 4, ccr, 3).model_dump()
    doc["groups"] = [{"kind": "anti_affinity", "tasks": ["t5", "t6", "t7"]}]
    problem = compile_problem(Problem.model_validate(doc))
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    first = list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))
    assert first is not None
    seen: list[float] = []
    best = lns_improve(
        problem,
        graph,
        first,
        time.perf_counter() + 1.5,
        np.random.default_rng(0),
        lambda s: seen.append(s.makespan),
    )
    assert best.key() <= first.key()
    assert seen == sorted(seen, reverse=True)
    ev = evaluate_plan(problem, np.array(best.agent), np.array(best.start))
    assert ev.feasible, [v.message for v in ev.violations[:3]]
    assert ev.objectives["makespan"] == pytest.approx(best.makespan)
    assert len({best.agent[j] for j in (5, 6, 7)}) == 3


@pytest.mark.parametrize("seed", [1, 4])
def test_proof_with_transfers_that_differ_by_agent_pair(seed: int) -> None:
    """Two agents share a node, the third is behind a slow link: the edges get a
    same-agent literal for the cheap transfer and enforced constraints for the dear one."""
    doc = generate_workflow_problem(6, 3, 1.0, seed).model_dump()
    doc = _same_speed(doc, [0, 1]).model_dump()
    doc["topology"] = {
        "nodes": [{"id": "p"}, {"id": "q"}],
        "links": [{"a": "p", "b": "q", "latency_ms": 2000.0, "bandwidth": 0.5}],
    }
    for agent, node in zip(doc["agents"], ["p", "p", "q"], strict=True):
        agent["node"] = node
    problem = compile_problem(Problem.model_validate(doc))
    graph = build_graph(problem)
    assert identical_agent_runs(problem, graph) == [[0, 1]]
    assert graph.transfer(0, 0, 2) > graph.transfer(0, 0, 1) > 0
    optimum = _brute_force_makespan(problem)
    assert_engine_proves(problem, optimum)
