"""The shared pieces: one non-dominated rule, one hint check, one clock, one proof check."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models import CompiledProblem, RunOptions, compile_problem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.shared.hints import best_hint, check_hints
from solvers.shared.pareto import non_dominated
from solvers.shared.proof import checked_known_bound, is_proven_optimal, relative_gap
from solvers.shared.timing import clock_violations, to_request_clock
from tests.solvers.tiny_instances import brute_force_optimum, tiny_gap


def _feasible_plans(compiled: CompiledProblem) -> list[np.ndarray]:
    plans = itertools.product(range(compiled.n_agents), repeat=compiled.n_tasks)
    arrays = [np.array(p, dtype=np.int32) for p in plans]
    return [a for a in arrays if evaluate_plan(compiled, a).feasible]


def _score(compiled: CompiledProblem, plan: np.ndarray) -> float:
    return evaluate_plan(compiled, plan).score


_points = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda p: (float(p[0]), float(p[1]))),
    min_size=0,
    max_size=12,
)


@given(_points)
def test_non_dominated_keeps_each_undominated_point_once(points: list) -> None:
    keep = non_dominated(points).tolist()
    arr = np.array(points).reshape(len(points), 2)

    def dominated(i: int) -> bool:
        return any(np.all(arr[j] <= arr[i]) and np.any(arr[j] < arr[i]) for j in range(len(arr)))

    expected = [
        i
        for i in range(len(arr))
        if not dominated(i) and not any(np.array_equal(arr[j], arr[i]) for j in range(i))
    ]
    assert keep == expected


@given(
    start=st.floats(0.0, 100.0),
    steps=st.lists(st.floats(0.0, 5.0), max_size=6),
    tail=st.floats(0.0, 5.0),
)
def test_request_clock_keeps_the_invariant(start: float, steps: list, tail: float) -> None:
    times = np.cumsum(steps).tolist()
    trace = [(t, 100.0 - k) for k, t in enumerate(times)]
    result = SolveResult("x", SolveStatus.FEASIBLE, StopReason.TIME_LIMIT, trace=trace)
    if trace:
        result.time_to_first_s, result.time_to_best_s = trace[0][0], trace[-1][0]
    engine_wall = (times[-1] if times else 0.0) + tail
    # The caller may observe less than the engine reported (clock noise across processes).
    to_request_clock(result, start, engine_wall * 0.5)
    assert result.started_at_s == start
    assert (
        clock_violations(
            result.started_at_s, result.time_to_first_s, result.time_to_best_s, result.wall_time_s
        )
        == []
    )


def test_hints_are_checked_once_the_same_way() -> None:
    compiled = compile_problem(tiny_gap(3))
    n, m = compiled.n_tasks, compiled.n_agents
    bad_shape, out_of_range = np.zeros(n + 1), np.full(n, m)
    overloaded = np.zeros(n, dtype=np.int32)  # everything on agent 0 breaks its capacity
    assert check_hints(compiled, [bad_shape, out_of_range]) == []
    assert best_hint(compiled, [overloaded]) is None
    assert best_hint(compiled, [overloaded], or_infeasible=True) is not None
    feasible = _feasible_plans(compiled)
    worse, better = sorted(feasible, key=lambda p: _score(compiled, p), reverse=True)[:2]
    assert np.array_equal(best_hint(compiled, [bad_shape, worse, better]), better)


def test_known_bounds_are_validated_before_use() -> None:
    compiled = compile_problem(tiny_gap(3))
    optimum = brute_force_optimum(compiled)
    assert optimum is not None
    assert checked_known_bound(compiled, None) is None
    assert checked_known_bound(compiled, math.nan) is None
    assert checked_known_bound(compiled, math.inf) is None
    assert checked_known_bound(compiled, optimum - 1.0) == optimum - 1.0
    # A bound above a feasible plan's value is wrong, so it is rejected.
    plan = _feasible_plans(compiled)[0]
    assert checked_known_bound(compiled, _score(compiled, plan) + 1.0, [plan]) is None


def test_gap_and_proof_share_one_definition() -> None:
    assert relative_gap(0.0, -1e-9) == 0.0  # an objective of 0 can be proven
    assert relative_gap(100.0, None) is None
    assert relative_gap(100.0, 99.0) == 0.01
    assert is_proven_optimal(100.0, [99.995, None], 1e-4)
    assert not is_proven_optimal(100.0, [99.0], 1e-4)
    assert not is_proven_optimal(100.0, [], 1e-4)


def test_one_rel_gap_default_everywhere() -> None:
    assert SolveOptions().rel_gap == RunOptions().rel_gap
