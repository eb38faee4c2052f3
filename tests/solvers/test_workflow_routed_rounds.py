"""The workflow engine's rounds on routed delays (issue 15): the local search honours a
veto on assignments, and the routed phase never returns worse than the plan repaired
and re-timed on its routed paths; the repair gathers a workflow's tasks when links are
tight."""

from __future__ import annotations

import time

import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.generators.networked_workflow import generate_ring_workflow
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.workflow.graph import build_graph
from solvers.workflow.improve import improve
from solvers.workflow.routed_paths import improve_on_routed_paths, on_routed_paths
from solvers.workflow.rules import PlacementRules
from solvers.workflow.solver import HeftSolver, heft_schedule


def _ring_workflow(seed: int, bandwidth: float) -> Problem:
    return generate_ring_workflow(seed, bandwidth)


def test_the_local_search_takes_no_assignment_the_veto_refuses() -> None:
    compiled = compile_problem(generate_workflow_problem(30, 4, 5.0, 0))
    start = heft_schedule(compiled)
    assert start is not None
    pinned = {j: start.agent[j] for j in range(0, 30, 3)}  # a third of the tasks stay

    def admits(agent: list[int]) -> bool:
        return all(agent[j] == i for j, i in pinned.items())

    graph = build_graph(compiled)
    rules = PlacementRules(compiled, np.array(start.agent))
    rng = np.random.default_rng(0)
    best = improve(graph, rules, start, time.perf_counter() + 1.0, rng, admits=admits)
    assert admits(best.agent)
    assert best.makespan <= start.makespan + 1e-9


@pytest.mark.parametrize("seed", [2, 3])
def test_the_routed_phase_is_never_worse_than_the_re_timed_plan(seed: int) -> None:
    compiled = compile_problem(_ring_workflow(seed, 6.0))
    start = heft_schedule(compiled)
    assert start is not None
    plain = on_routed_paths(compiled, start, repair_s=5.0)
    before = evaluate_plan(compiled, np.array(plain.agent), np.array(plain.start))
    assert before.feasible
    rng = np.random.default_rng(0)
    routed = improve_on_routed_paths(compiled, start, time.perf_counter() + 8.0, rng)
    after = evaluate_plan(compiled, np.array(routed.agent), np.array(routed.start))
    assert after.feasible, [v.message for v in after.violations[:3]]
    assert after.score <= before.score + 1e-9
    assert after.link_use is None or after.link_use.max_utilisation <= 1 + 1e-6


def test_the_repair_gathers_a_workflow_whose_links_are_tight() -> None:
    # Links of 3 units against 49 talking dependencies: HEFT's spread plan overloads
    # every link; moving a whole agent's tasks at once gets there.
    compiled = compile_problem(_ring_workflow(0, 3.0))
    start = heft_schedule(compiled)
    assert start is not None
    assert not evaluate_plan(compiled, np.array(start.agent)).feasible
    repair = repair_bandwidth(compiled, np.array(start.agent), time_limit_s=8.0)
    ev = evaluate_plan(compiled, repair.assignment)
    assert repair.fits and not any(v.kind == "bandwidth" for v in ev.violations)


def test_heft_returns_a_plan_within_bandwidth_when_links_are_tight() -> None:
    # Before the routed rounds and the gathering fallback the engine returned no plan
    # here: the repair of its plan did not fit in 0.5 s.
    compiled = compile_problem(_ring_workflow(1, 3.0))
    result = HeftSolver().solve(compiled, SolveOptions(time_limit_s=4.0, seed=0))
    assert result.assignment is not None and result.start is not None, result.notes
    ev = evaluate_plan(compiled, result.assignment, result.start)
    assert ev.feasible, [v.message for v in ev.violations[:3]]
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
