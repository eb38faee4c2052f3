"""The knapsack climb's trail (near-optimal multipliers met late in the climb) and its
roundings, which the LNS repairs, descends and takes as its incumbent when cheaper."""

from __future__ import annotations

import time

import numpy as np

from models import evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.bounds.knapsack_bound import knapsack_dual, penalties_at
from solvers.lns.knapsack_beside import TRAIL, KnapsackBeside
from solvers.lns.solver import LnsSolver
from solvers.shared.subgradient import TargetFollowing


def _value_at(compiled, u: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    one = knapsack_dual(compiled, time.perf_counter() + 30.0, start=u, iterations=1)
    assert one is not None
    return one.bound


def test_the_trail_holds_new_bests_of_the_climb_oldest_first() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    dual = knapsack_dual(compiled, time.perf_counter() + 30.0, trail=5)
    assert dual is not None and 1 <= len(dual.trail) <= 5
    values = [_value_at(compiled, u) for u in dual.trail]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert values[-1] <= dual.bound + 1e-6 * abs(dual.bound)
    plain = knapsack_dual(compiled, time.perf_counter() + 30.0, iterations=50)
    assert plain is not None and plain.trail == []


def test_penalties_at_the_best_multipliers_are_the_climbs() -> None:
    compiled = compile_gap(generate_gap("E", 8, 60, seed=2))
    dual = knapsack_dual(compiled, time.perf_counter() + 30.0, penalties=True)
    assert dual is not None and dual.penalties is not None
    table = penalties_at(compiled, dual.multipliers)
    assert table is not None and np.array_equal(table, dual.penalties)


def test_a_climb_goes_on_with_the_step_the_last_one_ended_on() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    rule = TargetFollowing()
    first = knapsack_dual(compiled, time.perf_counter() + 30.0, iterations=80, rule=rule)
    assert first is not None and rule.delta is not None
    ended_on = rule.delta
    more = knapsack_dual(
        compiled, time.perf_counter() + 30.0, start=first.multipliers, iterations=80, rule=rule
    )
    assert more is not None and more.bound >= first.bound - 1e-6 * abs(first.bound)
    assert rule.delta != ended_on  # the second climb adapted the first one's rule


def test_the_beside_thread_rounds_its_trail_for_the_lns() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    beside = KnapsackBeside(compiled, 30.0, lambda bound, method: None)
    try:
        assert beside.ranks
        roundings: list[tuple[np.ndarray, np.ndarray]] = []
        began = time.perf_counter()
        while not roundings and time.perf_counter() - began < 20.0:
            time.sleep(0.05)
            roundings += beside.take_roundings()
        time.sleep(0.5)
        roundings += beside.take_roundings()
    finally:
        beside.stop(wait_s=2.0)
    assert beside.result is not None and beside.result.penalties is not None
    assert 1 <= len(roundings) <= TRAIL
    plans = [beside.result.penalties.argmin(axis=0)]
    for plan, table in roundings:
        assert np.array_equal(plan, table.argmin(axis=0))
        assert not any(np.array_equal(plan, other) for other in plans)
        plans.append(plan)
    assert beside.take_roundings() == []  # each handed out once


def test_the_lns_descends_the_roundings_and_keeps_its_best_plan() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=5))
    scores: list[float] = []
    options = SolveOptions(
        time_limit_s=6.0, workers=2, on_incumbent=lambda plan, score: scores.append(score)
    )
    result = LnsSolver().solve(compiled, options)
    assert result.assignment is not None
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible and ev.score == result.objective == scores[-1]
    assert scores == sorted(scores, reverse=True)  # a trail start never makes it worse
    assert any("knapsack climb's trail descended" in n for n in result.notes), result.notes
