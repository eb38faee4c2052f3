"""LP relaxation bound: never above the optimum, status says "bound only"."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models import Agent, Objectives, Problem, Task, compile_problem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus, StopReason
from solvers.bounds.solver import LpBoundSolver, lp_relaxation
from solvers.cpsat.solver import CpSatSolver


def brute_force_best(compiled) -> float:
    best = np.inf
    choices = list(range(compiled.n_agents)) + ([-1] if compiled.allow_unassigned else [])
    for combo in itertools.product(choices, repeat=compiled.n_tasks):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            best = min(best, ev.score)
    return best


def random_problem(seed: int, weights: dict[str, float], allow_unassigned: bool = False):
    rng = np.random.default_rng(seed)
    agents = [
        Agent(
            id=f"a{i}",
            capacity={"cpu": float(rng.uniform(2, 4))},
            cost_rate=float(rng.uniform(0.5, 3)),
            speed=float(rng.uniform(0.5, 2)),
        )
        for i in range(3)
    ]
    tasks = [
        Task(
            id=f"t{j}",
            demand={"cpu": float(rng.uniform(0.3, 1.5))},
            work=float(rng.uniform(0.5, 3)),
            current_agent=f"a{j % 3}" if j % 2 else None,
        )
        for j in range(5)
    ]
    return compile_problem(
        Problem(
            agents=agents,
            tasks=tasks,
            allow_unassigned=allow_unassigned,
            objectives=Objectives(weights=weights),
        )
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "weights",
    [
        {"cost": 1.0},
        {"cost": 1.0, "migrations": 2.0, "consolidation": 1.0},
        {"makespan": 1.0, "imbalance": 0.5},
    ],
)
def test_bound_never_exceeds_brute_force_optimum(seed: int, weights) -> None:
    compiled = random_problem(seed, weights, allow_unassigned=seed == 2)
    best = brute_force_best(compiled)
    bound, x = lp_relaxation(compiled, 5.0)
    if not np.isfinite(best):
        return
    assert bound is not None and bound <= best + 1e-9
    assert x is not None and x.shape == (compiled.n_agents, compiled.n_tasks)


def test_solver_reports_bound_only() -> None:
    compiled = compile_gap(generate_gap("D", 5, 40, seed=4))
    result = LpBoundSolver().solve(compiled, SolveOptions(time_limit_s=2.0))
    assert result.status == SolveStatus.NO_SOLUTION
    assert result.stop_reason == StopReason.ITERATIONS_DONE
    assert result.assignment is None and result.bound is not None
    assert any("bound only" in note for note in result.notes)
    exact = CpSatSolver().solve(compiled, SolveOptions(time_limit_s=2.0, workers=2))
    assert result.bound <= evaluate_plan(compiled, exact.assignment).score + 1e-9
    if exact.bound is not None:  # LP is weaker than CP-SAT's proof, but close on GAP
        assert result.bound <= exact.bound + 1e-6


def test_infeasible_relaxation_is_reported() -> None:
    problem = Problem(
        agents=[Agent(id="a", capacity={"cpu": 1})],
        tasks=[Task(id="t0", demand={"cpu": 0.8}), Task(id="t1", demand={"cpu": 0.8})],
    )
    result = LpBoundSolver().solve(compile_problem(problem), SolveOptions(time_limit_s=2.0))
    assert result.status == SolveStatus.INFEASIBLE


def test_lp_relaxation_survives_a_change_of_thread_count() -> None:
    """HiGHS sizes one thread scheduler per process at its first run; an LP asking for
    another count used to fail silently (None, read as a time-out). Fresh process, so the
    order of this suite's other HiGHS runs does not matter."""
    import subprocess
    import sys

    script = (
        "from models.generators.gap import generate_gap\n"
        "from models import compile_problem, gap_to_problem\n"
        "from solvers.bounds.solver import lp_relaxation\n"
        "c = compile_problem(gap_to_problem(generate_gap('D', 10, 200, seed=7)))\n"
        "print(lp_relaxation(c, 10.0, threads=2)[0], lp_relaxation(c, 10.0, threads=1)[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert out[0] != "None" and out[0] == out[1], out
