"""Workflow NSGA-II on a topology with tight links: front members that overload a link
are repaired (tasks moved, re-timed on the routed paths), not dropped, and every member
returned passes `evaluate_plan` with the network (issue 15)."""

from __future__ import annotations

import re

import numpy as np

from models import Problem, RunOptions, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.portfolio.run import run_portfolio
from solvers.registry import get_solver
from solvers.shared.pareto import non_dominated


def _networked_workflow(seed: int, bandwidth: float) -> Problem:
    """20 tasks on 4 agents, one per node of a path n0-n1-n2-n3; every dependency also
    talks at 1 unit, so a plan spreading a chain over the path loads its links."""
    doc = generate_workflow_problem(20, 4, 1.0, seed).model_dump(mode="json", exclude_none=True)
    for i, agent in enumerate(doc["agents"]):
        agent["node"] = f"n{i}"
        agent["cost_rate"] = agent["speed"] ** 2
    doc["topology"] = {
        "nodes": [{"id": f"n{i}"} for i in range(4)],
        "links": [
            {"a": f"n{i}", "b": f"n{i + 1}", "latency_ms": 1.0, "bandwidth": bandwidth}
            for i in range(3)
        ],
    }
    doc["communication"] = [
        {"a": p["task"], "b": t["id"], "volume": 1.0}
        for t in doc["tasks"]
        for p in t.get("after", [])
    ]
    doc["objectives"] = {"mode": "pareto", "pareto": ["makespan", "cost"]}
    return Problem.model_validate(doc)


def test_front_members_over_bandwidth_are_repaired_and_verified() -> None:
    compiled = compile_problem(_networked_workflow(0, 8.0))
    options = SolveOptions(time_limit_s=4.0, seed=0, population=24, generations=15)
    result = get_solver("nsga2").solve(compiled, options)
    assert result.status == SolveStatus.FEASIBLE, result.notes
    [note] = [n for n in result.notes if "overloaded a link and were repaired" in n]
    match = re.match(r"(\d+) front member", note)
    assert match is not None and int(match.group(1)) >= 1
    rows = []
    for plan, start in zip(result.front, result.front_start, strict=True):
        ev = evaluate_plan(compiled, plan, start)
        assert ev.feasible, [v.message for v in ev.violations[:3]]
        # No link use at all when every task runs on one node.
        assert ev.link_use is None or ev.link_use.max_utilisation <= 1 + 1e-6
        rows.append([ev.objectives["makespan"], ev.objectives["cost"]])
    assert len(non_dominated(np.array(rows))) == len(rows) >= 2
    assert result.assignment is not None
    chosen = evaluate_plan(compiled, result.assignment, result.start)
    assert chosen.feasible


def test_the_portfolio_gives_the_workflow_nsga2_the_network_and_reports_its_front() -> None:
    # Deterministic: the search's work is counted, not timed, and the portfolio lets it
    # finish; on the clock, a CI run once had a stall near the end stop it at the
    # request's limit, and a stopped search leaves no front to look at.
    problem = _networked_workflow(0, 8.0)
    options = RunOptions(time_limit_s=5.0, solvers=["nsga2"], deterministic=True)
    report = run_portfolio(problem, options)
    assert report.status == "solved" and report.chosen is not None
    [run] = [r for r in report.solvers if r.name == "nsga2"]
    assert any("overloaded a link and were repaired" in note for note in run.notes), run.notes
    assert len(report.pareto_front) >= 2
    assert all(link.utilisation <= 1 + 1e-6 for link in report.chosen.links)
