"""Knapsack Lagrangian bound: exact knapsacks, never above a proven optimum, above the LP
where the LP is weak, and in the LNS's report with its method."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest

from models import CompiledProblem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus
from solvers.bounds.knapsack_bound import knapsack_dual, skip_reason
from solvers.bounds.knapsack_kernel import knapsacks, task_forced
from solvers.bounds.solver import lp_relaxation
from solvers.lns.knapsack_beside import KnapsackBeside
from solvers.lns.neighbourhoods import NeighbourhoodPicker
from solvers.registry import get_solver


def _brute_knapsack(profit: np.ndarray, weight: np.ndarray, cap: int) -> float:
    best = 0.0
    for pick in itertools.product((0, 1), repeat=len(profit)):
        x = np.array(pick)
        if (weight * x).sum() <= cap:
            best = max(best, float((profit * x).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_each_knapsack_is_solved_exactly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = 3, 10
    cost = rng.integers(0, 30, size=(m, n)).astype(np.float64)
    cost[0, 3] = np.inf  # task 3 may not go to agent 0
    weight = rng.integers(0, 12, size=(m, n)).astype(np.int64)
    cap = np.array([20, 35, -1], dtype=np.int64)  # the third agent has no binding capacity
    u = rng.uniform(0, 40, size=n)
    cover = np.zeros(n, dtype=np.int64)
    keep = np.empty((n, 36), dtype=np.bool_)
    owner = np.zeros(n, dtype=np.int64)
    total = knapsacks(cost, weight, cap, u, cover, owner, keep)
    assert np.all((owner >= 0) == (cover > 0))
    expected = 0.0
    for i in range(m):
        profit = np.where(np.isfinite(cost[i]), u - cost[i], 0.0)
        profit = np.maximum(profit, 0.0)
        limit = int(cap[i]) if cap[i] >= 0 else int(weight[i].sum())
        expected += _brute_knapsack(profit, weight[i], limit)
    assert total == pytest.approx(expected, abs=1e-9)
    # One agent at a time: the packing it reports fits and is worth the value.
    for i in range(m):
        alone = np.zeros(n, dtype=np.int64)
        value = knapsacks(cost[i : i + 1], weight[i : i + 1], cap[i : i + 1], u, alone, owner, keep)
        assert set(np.unique(alone)) <= {0, 1}
        taken = alone.astype(bool)
        assert value == pytest.approx(float((u - cost[i])[taken].sum()), abs=1e-9)
        if cap[i] >= 0:
            assert int(weight[i][taken].sum()) <= cap[i]


@pytest.mark.parametrize("seed", range(4))
def test_one_tasks_forced_packings_are_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n, j = 3, 9, 4
    cost = rng.integers(0, 30, size=(m, n)).astype(np.float64)
    cost[1, j] = np.inf  # task j may not go to agent 1
    weight = rng.integers(1, 12, size=(m, n)).astype(np.int64)
    cap = np.array([25, 30, -1], dtype=np.int64)
    u = rng.uniform(0, 40, size=n)
    without, with_ = np.empty(m), np.empty(m)
    task_forced(cost, weight, cap, u, j, without, with_)
    for i in range(m):
        profit = np.maximum(np.where(np.isfinite(cost[i]), u - cost[i], 0.0), 0.0)
        profit[j] = 0.0  # left out
        limit = int(cap[i]) if cap[i] >= 0 else int(weight[i].sum())
        assert without[i] == pytest.approx(_brute_knapsack(profit, weight[i], limit))
        if not np.isfinite(cost[i, j]):
            assert with_[i] == -np.inf
            continue
        rest = _brute_knapsack(profit, weight[i], limit - int(weight[i, j]))
        assert with_[i] == pytest.approx(u[j] - cost[i, j] + rest)


@pytest.mark.parametrize("kind", ["C", "D", "E"])
def test_bound_never_exceeds_brute_force_optimum(kind: str) -> None:
    _assert_below_brute_force_optimum(compile_gap(generate_gap(kind, 3, 7, seed=5)))


def test_fractional_usage_is_scaled_and_stays_valid() -> None:
    compiled = compile_gap(generate_gap("D", 3, 7, seed=2))
    usage = compiled.usage * 1.37  # no longer integers: the knapsacks count scaled units
    capacity = compiled.capacity * 1.37
    _assert_below_brute_force_optimum(replace(compiled, usage=usage, capacity=capacity))


def _assert_below_brute_force_optimum(compiled: CompiledProblem) -> None:
    """3 agents x 7 tasks: every plan enumerated."""
    best = min(
        ev.score
        for combo in itertools.product(range(3), repeat=7)
        if (ev := evaluate_plan(compiled, np.array(combo))).feasible
    )
    dual = knapsack_dual(compiled, time.perf_counter() + 2.0)
    assert dual is not None
    assert dual.bound <= best + 1e-9


@pytest.mark.parametrize(("kind", "seed"), [("E", 3), ("C", 4)])
def test_closes_most_of_the_lp_gap_and_stays_below_the_proven_optimum(kind: str, seed: int) -> None:
    compiled = compile_gap(generate_gap(kind, 5, 40, seed=seed))
    lp, _ = lp_relaxation(compiled, 10.0)
    optimum = get_solver("milp").solve(compiled, SolveOptions(time_limit_s=60, workers=1))
    assert lp is not None and optimum.status == SolveStatus.OPTIMAL
    assert optimum.objective is not None
    dual = knapsack_dual(compiled, time.perf_counter() + 5.0)
    assert dual is not None
    assert dual.bound <= optimum.objective + 1e-9
    # Measured: E lp 5,073.9, knapsack 5,109.7, optimum 5,120; C 720.6, 739.3, 740.
    assert dual.bound - lp >= 0.6 * (optimum.objective - lp)
    assert "knapsack per agent" in dual.method


def test_skip_reasons_name_what_does_not_fit() -> None:
    compiled = compile_gap(generate_gap("D", 4, 20, seed=1))
    assert skip_reason(compiled) is None
    assert "unassigned" in str(skip_reason(replace(compiled, allow_unassigned=True)))
    # 40,000 units per agent, scaled down to 4,000: 1,000 tasks per packing would each
    # lose up to a unit, far more than the 1 % of capacity the bound tolerates.
    huge = compile_gap(generate_gap("D", 2, 2000, seed=1))
    assert "round too coarsely" in str(skip_reason(huge))
    assert knapsack_dual(huge, time.perf_counter() + 1.0) is None


def test_waits_beside_the_climb_do_not_make_its_steps_look_too_dear() -> None:
    # Each step waits 25 ms on the wall clock (here in `stop`, as it would for the GIL
    # or a core) without using CPU: timed on the wall clock, two such steps (50 ms)
    # times STEPS_TO_PAY / 2 exceed the 2 s budget and the climb would end at 3 steps.
    compiled = compile_gap(generate_gap("D", 10, 100, seed=5))
    knapsack_dual(compiled, time.perf_counter() + 1.0)  # the kernel loaded beforehand

    def waiting() -> bool:
        time.sleep(0.025)
        return False

    dual = knapsack_dual(compiled, time.perf_counter() + 2.0, stop=waiting)
    assert dual is not None and dual.iterations > 10


def test_a_stopped_climb_ends_at_once_with_its_best_bound() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    got: list[float] = []
    beside = KnapsackBeside(compiled, 1000.0, lambda bound, method: got.append(bound))
    time.sleep(0.5)  # within the climb's 3 s budget, or in the search that follows it
    began = time.perf_counter()
    beside.stop(wait_s=2.0)
    assert time.perf_counter() - began < 1.0
    assert beside.result is not None and got[0] == beside.result.bound
    assert got == sorted(got)  # the search's levels only raise it
    assert "knapsack bound" in beside.note()


def test_a_climb_told_what_is_enough_ends_once_its_bound_is_above_it() -> None:
    compiled = compile_gap(generate_gap("D", 10, 60, seed=4))
    full = knapsack_dual(compiled, time.perf_counter() + 30.0)
    assert full is not None
    enough = full.bound - 0.01 * abs(full.bound)  # reached well before convergence
    short = knapsack_dual(compiled, time.perf_counter() + 30.0, enough=enough)
    assert short is not None and enough < short.bound <= full.bound + 1e-6
    assert short.iterations < full.iterations
    # A warm start at the converged multipliers is at the top at once.
    warm = knapsack_dual(compiled, time.perf_counter() + 30.0, start=full.multipliers)
    assert warm is not None and warm.bound >= full.bound - 1e-6 * abs(full.bound)


@pytest.mark.parametrize(
    ("pairs_cap", "independent_cap", "correlation", "ranks"),
    [
        (400, 0, -0.9, True),  # within the general limit: always
        (100, 400, 0.0, True),  # above it, within the limit where costs ignore usage
        (100, 400, -0.9, False),  # ... but not where costs fall as usage grows (D, E)
        (100, 200, 0.0, False),  # above both limits
    ],
)
def test_penalties_are_wanted_by_size_and_by_how_costs_follow_usage(
    monkeypatch: pytest.MonkeyPatch,
    pairs_cap: int,
    independent_cap: int,
    correlation: float,
    ranks: bool,
) -> None:
    import solvers.lns.knapsack_beside as beside_module

    monkeypatch.setattr(beside_module, "PENALTY_MAX_PAIRS", pairs_cap)
    monkeypatch.setattr(beside_module, "PENALTY_MAX_PAIRS_INDEPENDENT", independent_cap)
    compiled = compile_gap(generate_gap("C", 5, 60, seed=2))  # 300 eligible pairs
    beside = KnapsackBeside(compiled, 1.0, lambda bound, method: None, correlation=correlation)
    assert beside.ranks is ranks


def test_the_lns_proves_optimality_with_it_where_the_lp_cannot() -> None:
    # C 5 x 40 (seed 4): LP 720.6 rounds up to 721, the knapsack bound 739.3 to 740,
    # the optimum (HiGHS, above).
    compiled = compile_gap(generate_gap("C", 5, 40, seed=4))
    result = get_solver("lns").solve(compiled, SolveOptions(time_limit_s=8, workers=1))
    assert result.objective == 740
    assert result.status == SolveStatus.OPTIMAL
    assert result.bound == 740
    assert result.bound_method is not None and "knapsack" in result.bound_method
    assert any(n.startswith("knapsack bound 7") for n in result.notes)


@pytest.mark.parametrize("kind", ["C", "D", "E"])
def test_forced_pair_penalties_bound_every_plan_with_that_pair(kind: str) -> None:
    compiled = compile_gap(generate_gap(kind, 3, 7, seed=1))
    dual = knapsack_dual(compiled, time.perf_counter() + 2.0, penalties=True)
    assert dual is not None and dual.penalties is not None
    best = np.full((3, 7), np.inf)  # the cheapest feasible plan with task j on agent i
    for combo in itertools.product(range(3), repeat=7):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            for j, i in enumerate(combo):
                best[i, j] = min(best[i, j], ev.score)
    assert np.all(dual.penalties >= -1e-9)
    assert np.all(dual.bound + dual.penalties <= best + 1e-6)
    # Not trivially zero: some pairs are dearer than others.
    finite = dual.penalties[np.isfinite(dual.penalties)]
    assert (finite > 1e-6).any()


def test_a_repriced_picker_ranks_each_tasks_agents_by_the_penalties() -> None:
    compiled = compile_gap(generate_gap("E", 5, 40, seed=3))
    rng = np.random.default_rng(0)
    picker = NeighbourhoodPicker(compiled, rng, None, None)
    by_cost = picker.candidates.copy()
    dual = knapsack_dual(compiled, time.perf_counter() + 2.0, penalties=True)
    assert dual is not None and dual.penalties is not None
    picker.reprice(dual.penalties)
    assert picker.preferred is not None
    assert np.array_equal(picker.preferred, dual.penalties.argmin(axis=0))
    assert not np.array_equal(picker.candidates, by_cost)


def test_agent_values_add_up_to_the_bound_and_gap_shares_to_plan_minus_bound() -> None:
    compiled = compile_gap(generate_gap("D", 8, 48, seed=9))
    dual = knapsack_dual(compiled, time.perf_counter() + 30.0, penalties=True, agent_values=True)
    assert dual is not None and dual.agent_values is not None
    assert (dual.agent_values >= 0).all()  # the empty packing is always there
    at_u = float(dual.multipliers.sum() - dual.agent_values.sum())
    assert at_u == pytest.approx(dual.bound, abs=1e-6 * abs(dual.bound))
    plan = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=5.0)).assignment
    assert plan is not None and evaluate_plan(compiled, plan).feasible
    picker = NeighbourhoodPicker(compiled, np.random.default_rng(0), None, None)
    picker.use_duals(compiled.cost.astype(np.float64), dual.multipliers, dual.agent_values)
    shares = picker.gap_shares(plan.astype(np.int64))
    # Each agent's share is what its tasks cost above u minus its best packing's value:
    # never negative, and they add up to the plan's score minus the bound at u.
    assert (shares >= -1e-6).all()
    assert shares.sum() == pytest.approx(evaluate_plan(compiled, plan).score - at_u, abs=1e-6)
    drawn = np.concatenate([picker.pick(plan.astype(np.int64), 2, "random") for _ in range(400)])
    counts = np.bincount(drawn, minlength=compiled.n_agents)
    assert counts[np.argmax(shares)] > counts[np.argmin(shares)]
