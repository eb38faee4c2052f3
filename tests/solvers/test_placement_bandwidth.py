"""Communication-aware placement keeps links within bandwidth: the portfolio never chooses a
plan that overloads a link when one within bandwidth exists, says by how much when none
does, and the workflow engine times transfers on the routed paths."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from models import Problem, RunOptions, compile_problem, evaluate_plan
from models.generators.networked import generate_networked_problem, with_bandwidth
from models.generators.tiny_networked import (
    brute_force_within_bandwidth,
    generate_tiny_networked_problem,
)
from solvers.base import SolveOptions
from solvers.portfolio.run import run_portfolio
from solvers.registry import get_solver
from solvers.shared.bandwidth_repair import repair_bandwidth

_TWO_NODES = {
    "name": "two-nodes",
    "agents": [
        {"id": "A1", "capacity": {"cpu": 10}, "node": "n1"},
        {"id": "A2", "capacity": {"cpu": 10}, "node": "n2"},
        {"id": "A3", "capacity": {"cpu": 10}, "node": "n1"},
    ],
    "tasks": [{"id": "x", "demand": {"cpu": 1}}, {"id": "y", "demand": {"cpu": 1}}],
    "cost": [[1, 5], [5, 1], [9, 9]],
    "communication": [{"a": "x", "b": "y", "volume": 15}],
    "topology": {
        "nodes": [{"id": "n1"}, {"id": "n2"}],
        "links": [{"a": "n1", "b": "n2", "bandwidth": 10}],
    },
}


def _brute_force(problem: Problem) -> tuple[float, float]:
    """(best score of any plan ignoring bandwidth, best score of a plan within it)."""
    compiled = compile_problem(problem)
    free, within = np.inf, np.inf
    for plan in itertools.product(range(compiled.n_agents), repeat=compiled.n_tasks):
        ev = evaluate_plan(compiled, np.array(plan))
        if all(v.kind == "bandwidth" for v in ev.violations):
            free = min(free, ev.score)
        if ev.feasible:
            within = min(within, ev.score)
    return free, within


@pytest.mark.parametrize("solvers", [["greedy"], ["milp"], ["cpsat"]])
def test_cost_best_placement_overloads_a_link_and_the_chosen_plan_does_not(
    solvers: list[str],
) -> None:
    problem = Problem.model_validate(_TWO_NODES)
    free, within = _brute_force(problem)
    assert (free, within) == (2.0, 6.0)  # x on A1 and y on A2 (cost 2) sends 15 over 10
    report = run_portfolio(problem, RunOptions(time_limit_s=2.0, solvers=solvers))
    assert report.status == "solved" and report.chosen is not None
    assert report.chosen.objective == pytest.approx(within)
    assert all(link.utilisation <= 1 + 1e-6 for link in report.chosen.links)


def test_when_no_placement_fits_the_report_says_so_and_by_how_much() -> None:
    doc = dict(_TWO_NODES)
    doc["tasks"] = [
        {"id": "x", "demand": {"cpu": 1}, "pinned_agent": "A1"},
        {"id": "y", "demand": {"cpu": 1}, "pinned_agent": "A2"},
    ]
    report = run_portfolio(Problem.model_validate(doc), RunOptions(time_limit_s=1.0))
    assert report.status != "solved" and report.chosen is None
    [line] = [d for d in report.diagnosis if "bandwidth" in d]
    assert "n1-n2 at 150%" in line and "needs 150.0% of its bandwidth" in line
    assert "carry 66.7% of its traffic" in line


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repair_moves_only_communicating_tasks_and_ends_within_bandwidth(seed: int) -> None:
    problem = generate_networked_problem(120, 10, 6, seed)
    compiled = compile_problem(problem)
    # The heuristic's plan with bandwidth ignored; links then get a third of its peak.
    blind = get_solver("greedy").solve(replace(compiled, network=None), SolveOptions(1.0))
    assert blind.assignment is not None
    peak = evaluate_plan(compiled, blind.assignment).link_use
    assert peak is not None
    tight = compile_problem(with_bandwidth(problem, 1000.0 * peak.max_utilisation / 3))
    before = evaluate_plan(tight, blind.assignment)
    assert [v.kind for v in before.violations] == ["bandwidth"]
    repair = repair_bandwidth(tight, blind.assignment, time_limit_s=10.0)
    after = evaluate_plan(tight, repair.assignment)
    assert repair.fits and after.feasible, [v.message for v in after.violations]
    moved = np.flatnonzero(repair.assignment != blind.assignment)
    talking = set(tight.comm_pairs.ravel().tolist())
    # Communicating tasks move; a swap (when the helpful agents are full) may also move
    # the task that makes room, which need not communicate.
    assert len(moved) == repair.moved > 0 and set(moved.tolist()) & talking
    assert after.link_use is None or after.link_use.max_utilisation <= 1 + 1e-6


def test_the_heuristic_returns_a_plan_within_bandwidth() -> None:
    problem = generate_networked_problem(80, 8, 5, 3)
    compiled = compile_problem(problem)
    blind = get_solver("greedy").solve(replace(compiled, network=None), SolveOptions(1.0))
    assert blind.assignment is not None
    peak = evaluate_plan(compiled, blind.assignment).link_use
    assert peak is not None
    tight = compile_problem(with_bandwidth(problem, 1000.0 * peak.max_utilisation / 2))
    result = get_solver("greedy").solve(tight, SolveOptions(1.0))
    assert result.assignment is not None
    assert evaluate_plan(tight, result.assignment).feasible


def test_workflow_transfers_take_the_routed_path() -> None:
    # y needs 50 data units from x; x and y talk at 15 units/s. Direct link n1-n2 is 5
    # wide, the detour n1-n3-n2 10: routed, 10 of the 15 go round, so the transfer does:
    # 50 / 10 s + 2 ms, not 50 / 5 s + 1 ms on the lowest-latency path.
    doc = {
        "name": "routed-workflow",
        "agents": [
            {"id": "A", "node": "n1"},
            {"id": "B", "node": "n2"},
            {"id": "C", "node": "n3"},
        ],
        "tasks": [
            {"id": "x", "work": 1.0, "pinned_agent": "A"},
            {"id": "y", "work": 1.0, "pinned_agent": "B", "after": [{"task": "x", "data": 50}]},
        ],
        "communication": [{"a": "x", "b": "y", "volume": 15}],
        "topology": {
            "nodes": [{"id": "n1"}, {"id": "n2"}, {"id": "n3"}],
            "links": [
                {"a": "n1", "b": "n2", "latency_ms": 1, "bandwidth": 5},
                {"a": "n1", "b": "n3", "latency_ms": 1, "bandwidth": 10},
                {"a": "n3", "b": "n2", "latency_ms": 1, "bandwidth": 10},
            ],
        },
        "objectives": {"weights": {"makespan": 1.0}},
    }
    report = run_portfolio(
        Problem.model_validate(doc), RunOptions(time_limit_s=2.0, solvers=["heft"])
    )
    assert report.status == "solved" and report.chosen is not None
    assert report.chosen.objectives["makespan"] == pytest.approx(1.0 + 5.0 + 0.002 + 1.0)
    loads = {(link.a, link.b): link.traffic for link in report.chosen.links}
    assert loads[("n1", "n2")] == pytest.approx(5.0)
    assert loads[("n1", "n3")] == pytest.approx(10.0)
    assert all(link.utilisation <= 1 + 1e-6 for link in report.chosen.links)


def test_the_portfolio_chooses_a_plan_within_bandwidth_on_a_generated_network() -> None:
    problem = generate_networked_problem(60, 8, 5, 4)
    compiled = compile_problem(problem)
    blind = get_solver("greedy").solve(replace(compiled, network=None), SolveOptions(1.0))
    assert blind.assignment is not None
    peak = evaluate_plan(compiled, blind.assignment).link_use
    assert peak is not None
    tight = with_bandwidth(problem, 1000.0 * peak.max_utilisation / 4)
    assert not evaluate_plan(compile_problem(tight), blind.assignment).feasible
    report = run_portfolio(tight, RunOptions(time_limit_s=3.0))
    assert report.status == "solved" and report.chosen is not None
    assert report.chosen.links, "the chosen plan's traffic crosses links"
    assert all(link.utilisation <= 1 + 1e-6 for link in report.chosen.links)
    again = evaluate_plan(
        compile_problem(tight),
        np.array(
            [compiled.agent_ids.index(report.chosen.plan.assignments[t]) for t in compiled.task_ids]
        ),
    )
    assert again.feasible


# Tiny cases (`generate_tiny_networked_problem`) whose cheapest plan overloads a link and
# from which the greedy repair alone, without its tabu phase, found no fitting plan.
_GREEDY_REPAIR_STUCK = [0, 74, 122, 123, 175, 178, 200, 216, 289]


@pytest.mark.parametrize("seed", _GREEDY_REPAIR_STUCK)
def test_repair_finds_a_fitting_plan_where_the_greedy_steps_got_stuck(seed: int) -> None:
    compiled = compile_problem(generate_tiny_networked_problem(seed))
    truth = brute_force_within_bandwidth(compiled)
    assert truth.cheapest is not None and not truth.cheapest_fits
    assert truth.best_within is not None  # a fitting plan exists
    repair = repair_bandwidth(compiled, truth.cheapest, time_limit_s=5.0)
    ev = evaluate_plan(compiled, repair.assignment)
    assert repair.fits and ev.feasible, [v.message for v in ev.violations]
    assert ev.score >= truth.best_within - 1e-9
    assert repair.moved == int((repair.assignment != truth.cheapest).sum())
