"""MILP backends: HiGHS through highspy's API (incumbent stream, quiet stdout), the
status table, and the array model read back the same by HiGHS and CBC."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus, StopReason
from solvers.milp.solver import MilpSolver
from solvers.milp.verdict import verdict


def test_highs_streams_improving_incumbents_without_a_hint() -> None:
    problem = compile_gap(generate_gap("D", 8, 80, seed=3))
    seen: list[float] = []
    options = SolveOptions(
        time_limit_s=5.0, workers=1, on_incumbent=lambda _plan, score: seen.append(score)
    )
    result = MilpSolver().solve(problem, options)
    assert result.assignment is not None and seen
    assert all(later < earlier for earlier, later in itertools.pairwise(seen))
    assert seen[-1] == pytest.approx(result.objective)
    assert [v for _, v in result.trace] == pytest.approx(seen)


def test_highs_solve_writes_nothing_to_stdout() -> None:
    # HiGHS prints its banner once per process, so this runs in a fresh one.
    code = (
        "from models.generators.gap import compile_gap, generate_gap\n"
        "from solvers.base import SolveOptions\n"
        "from solvers.milp.solver import MilpSolver\n"
        "p = compile_gap(generate_gap('C', 3, 12, seed=1))\n"
        "r = MilpSolver().solve(p, SolveOptions(time_limit_s=5.0, workers=1))\n"
        "assert r.assignment is not None\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("proven", "finished_early", "gap", "expected"),
    [
        (True, True, 0.0, (SolveStatus.OPTIMAL, StopReason.OPTIMAL_PROVEN)),
        (True, True, 0.004, (SolveStatus.OPTIMAL, StopReason.GAP_REACHED)),
        (False, True, 0.2, (SolveStatus.FEASIBLE, StopReason.GAP_REACHED)),
        (False, False, 0.2, (SolveStatus.FEASIBLE, StopReason.TIME_LIMIT)),
        (False, False, None, (SolveStatus.FEASIBLE, StopReason.TIME_LIMIT)),
    ],
)
def test_status_table(
    proven: bool, finished_early: bool, gap: float | None, expected: tuple[object, object]
) -> None:
    assert verdict(proven, finished_early, gap) == expected


def test_highs_and_cbc_reach_the_same_optimum_from_the_same_arrays() -> None:
    problem = compile_gap(generate_gap("C", 4, 20, seed=11))
    results = [
        MilpSolver().solve(problem, SolveOptions(time_limit_s=10.0, workers=1, backend=b))
        for b in ("highs", "cbc")
    ]
    assert all(r.status is SolveStatus.OPTIMAL for r in results)
    assert results[0].objective == pytest.approx(results[1].objective)
    assert all(np.all(r.assignment >= 0) for r in results)
