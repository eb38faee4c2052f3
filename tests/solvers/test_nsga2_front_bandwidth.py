"""Allocation NSGA-II on a network with tight links: it searches without the network, so
front members may load a link past its bandwidth; the report repairs them before it
verifies them, so the reported front keeps points and none overloads a link (issue 15)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models import Problem, RunOptions, compile_problem, evaluate_plan
from models.generators.networked import generate_networked_problem, with_bandwidth
from models.schema import Objectives
from solvers.base import SolveOptions
from solvers.portfolio.report_building import build_report
from solvers.registry import get_solver
from solvers.shared.pareto import non_dominated, normalised_hypervolume


def _tight_pareto_problem(seed: int, bandwidth: float) -> Problem:
    """40 tasks on 8 agents over 5 nodes, links of `bandwidth` (generated ones carry 1000)."""
    problem = generate_networked_problem(40, 8, 5, seed)
    pareto = Objectives(mode="pareto", pareto=["cost", "communication"])
    return with_bandwidth(problem.model_copy(update={"objectives": pareto}), bandwidth)


def test_front_members_over_bandwidth_are_repaired_not_dropped() -> None:
    # Chosen so that each repair takes a few hundredths of a second (under a fifth of a
    # member's budget), so a loaded machine still repairs them all.
    problem = _tight_pareto_problem(3, 10.0)
    compiled = compile_problem(problem)
    # The engine's view, as the portfolio gives it: no network. A fixed generation count.
    options = SolveOptions(time_limit_s=30.0, seed=0, generations=60, population=40)
    result = get_solver("nsga2").solve(replace(compiled, network=None), options)
    raw = [evaluate_plan(compiled, member) for member in result.front]
    overloading = [ev for ev in raw if not ev.feasible]
    assert overloading and all(
        v.kind == "bandwidth" for ev in overloading for v in ev.violations
    ), "the case needs front members that only overload a link"
    fitting = np.array([[ev.objectives[n] for n in ("cost", "communication")] for ev in raw])
    fitting = fitting[[ev.feasible for ev in raw]]
    # What the report kept before members were repaired: those, and the chosen plan
    # (repaired on its own) at most.
    front_as_is = len(non_dominated(fitting)) + 1

    report = build_report(
        problem,
        compiled,
        RunOptions(time_limit_s=30.0, solvers=["nsga2"]),
        {"nsga2": result},
        {},
        extra_bound=None,
        wall_time_s=0.0,
        requested=["nsga2"],
    )
    assert report.status == "solved"
    assert len(report.pareto_front) > front_as_is
    rows = []
    for point in report.pareto_front:
        assert point.plan is not None
        plan = np.array(
            [compiled.agent_ids.index(point.plan.assignments[t]) for t in compiled.task_ids]
        )
        ev = evaluate_plan(compiled, plan)
        assert ev.feasible, [v.message for v in ev.violations[:3]]
        assert ev.link_use is None or ev.link_use.max_utilisation <= 1 + 1e-6
        assert {n: ev.objectives[n] for n in point.objectives} == point.objectives
        rows.append([point.objectives["cost"], point.objectives["communication"]])
    # The hypervolume printed is the reported (verified, repaired) front's own.
    points = np.array(rows)
    hv = normalised_hypervolume(points, points.min(axis=0), points.max(axis=0))
    assert report.hypervolume == hv
    [note] = [n for n in report.solvers[0].notes if "front member(s) overloaded a link" in n]
    assert note.startswith(f"{len(overloading)} front member(s)")
