"""The LNS's penalty tabu search: feasible plans, honest costs, better than its start."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import Future
from dataclasses import replace

import numpy as np
import pytest

from models import CompiledProblem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.bounds.lagrangian import pair_costs
from solvers.lns import tabu
from solvers.lns.tabu import PenaltyTabu, TabuBursts, preload, serves
from solvers.registry import get_solver


@pytest.fixture(scope="module", autouse=True)
def _kernel() -> None:
    preload()  # compiled once per install (numba's cache); loaded here, not in a test's clock


@pytest.mark.parametrize("chains", [0, 1])
@pytest.mark.parametrize(("kind", "seed"), [("C", 1), ("D", 2), ("E", 3), ("D", 4)])
def test_plans_are_feasible_and_their_cost_is_the_evaluators(
    kind: str, seed: int, chains: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabu, "CHAINS", chains)  # with and without ejection chains
    compiled = compile_gap(generate_gap(kind, 8, 80, seed=seed))
    cost = pair_costs(compiled)[0]
    # From every task on its cheapest agent: far over capacity, so the walk must
    # cross infeasible plans to reach a feasible one.
    start = cost.argmin(axis=0)
    assert not evaluate_plan(compiled, start).feasible
    plan, found = PenaltyTabu(compiled, cost, seed=seed).run(start, 0.5)
    assert plan is not None
    ev = evaluate_plan(compiled, plan)
    assert ev.feasible
    assert found == pytest.approx(ev.score, abs=1e-6)


@pytest.mark.parametrize("kind", ["D", "E"])
def test_improves_a_deliberately_bad_start(kind: str) -> None:
    compiled = compile_gap(generate_gap(kind, 6, 60, seed=7))
    cost = pair_costs(compiled)[0]
    # The greedy on the reversed costs: a feasible plan that is bad on purpose.
    worst = compiled.cost.max() + 1 - compiled.cost
    bad = get_solver("greedy").solve(
        compile_gap_with_cost(compiled, worst), SolveOptions(time_limit_s=0.3, seed=0)
    )
    assert bad.assignment is not None
    before = evaluate_plan(compiled, bad.assignment)
    assert before.feasible
    plan, found = PenaltyTabu(compiled, cost).run(bad.assignment, 0.5, beat=before.score)
    assert plan is not None and evaluate_plan(compiled, plan).feasible
    assert found < 0.9 * before.score
    assert evaluate_plan(compiled, plan).score == pytest.approx(found)


def compile_gap_with_cost(compiled: CompiledProblem, cost: np.ndarray) -> CompiledProblem:
    return replace(compiled, cost=cost.astype(np.float32))


def test_finds_the_optimum_of_a_tiny_instance() -> None:
    compiled = compile_gap(generate_gap("D", 3, 9, seed=11))
    cost = pair_costs(compiled)[0]
    best = np.inf
    for combo in itertools.product(range(3), repeat=9):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            best = min(best, ev.score)
    plan, found = PenaltyTabu(compiled, cost).run(cost.argmin(axis=0), 0.5)
    assert plan is not None
    assert found == pytest.approx(best)


def test_a_start_it_cannot_beat_gives_no_plan() -> None:
    compiled = compile_gap(generate_gap("C", 4, 20, seed=2))
    cost = pair_costs(compiled)[0]
    plan, found = PenaltyTabu(compiled, cost).run(cost.argmin(axis=0), 0.2, beat=-1.0)
    assert plan is None and found == -1.0


def test_serves_one_resource_with_every_task_placed_only() -> None:
    compiled = compile_gap(generate_gap("C", 4, 20, seed=2))
    plan = pair_costs(compiled)[0].argmin(axis=0)
    assert serves(compiled, plan)
    assert not serves(compiled, np.where(np.arange(20) == 0, -1, plan))
    two = replace(
        compiled,
        usage=np.repeat(compiled.usage, 2, axis=2),
        capacity=np.repeat(compiled.capacity, 2, axis=1),
        resources=["a", "b"],
    )
    assert not serves(two, plan)


def test_bursts_run_while_lanes_are_busy_and_offer_only_better_plans() -> None:
    compiled = compile_gap(generate_gap("E", 8, 80, seed=5))
    cost = pair_costs(compiled)[0]
    start = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.3, seed=0))
    assert start.assignment is not None
    incumbent: dict[str, np.ndarray] = {"plan": start.assignment}
    score = [evaluate_plan(compiled, start.assignment).score]
    offered: list[float] = []

    def offer(plan: np.ndarray) -> bool:
        ev = evaluate_plan(compiled, plan)
        assert ev.feasible and ev.score < score[0]
        offered.append(ev.score)
        incumbent["plan"], score[0] = plan, ev.score
        return True

    bursts = TabuBursts(compiled, cost, seed=0, limit_s=10.0)
    assert bursts.ready.wait(60)
    lane: Future[int] = Future()
    threading.Timer(0.5, lambda: lane.set_result(1)).start()
    began = time.perf_counter()
    done = bursts.wait({lane: None}, lambda: (incumbent["plan"], score[0]), offer, lambda: 10.0)
    assert done == {lane}
    assert time.perf_counter() - began < 0.5 + 0.5  # a burst is short: the lane is not kept
    assert bursts.found == len(offered) >= 1
    note = bursts.note()
    assert note is not None and f"{len(offered)} better plan(s)" in note


def test_without_a_kernel_waiting_is_plain_waiting_and_the_note_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_numba() -> None:
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(tabu, "preload", no_numba)
    compiled = compile_gap(generate_gap("D", 4, 20, seed=2))
    cost = pair_costs(compiled)[0]
    bursts = TabuBursts(compiled, cost, seed=0, limit_s=10.0)
    deadline = time.perf_counter() + 5
    while bursts.unavailable is None and time.perf_counter() < deadline:
        time.sleep(0.01)
    lane: Future[int] = Future()
    threading.Timer(0.2, lambda: lane.set_result(1)).start()
    plan = cost.argmin(axis=0)
    done = bursts.wait({lane: None}, lambda: (plan, 0.0), lambda p: True, lambda: 10.0)
    assert done == {lane} and bursts.search is None
    assert bursts.note() == "penalty tabu search not run: ImportError: No module named 'numba'"


def test_no_bursts_where_costs_do_not_fall_as_usage_grows() -> None:
    # Type C: cost independent of usage; D: cost = 111 - usage + noise.
    c_type = compile_gap(generate_gap("C", 4, 40, seed=2))
    bursts = TabuBursts(c_type, pair_costs(c_type)[0], seed=0, limit_s=10.0)
    assert bursts.correlation > tabu.MAX_CORRELATION
    note = bursts.note()
    assert note is not None and note.startswith("penalty tabu search not run: pair costs")
    assert not bursts.ready.wait(0.3)  # the kernel is not even loaded
    d_type = compile_gap(generate_gap("D", 4, 40, seed=2))
    assert TabuBursts(d_type, pair_costs(d_type)[0], 0, 10.0).correlation < -0.9


def test_no_bursts_above_the_pair_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    d_type = compile_gap(generate_gap("D", 4, 40, seed=2))  # 160 pairs, costs fall with usage
    monkeypatch.setattr(tabu, "MAX_PAIRS", 159)
    bursts = TabuBursts(d_type, pair_costs(d_type)[0], seed=0, limit_s=10.0)
    assert bursts.note() == (
        "penalty tabu search not run: 160 eligible pairs > 159 (its core serves the sub-solves "
        "better there)"
    )
    assert not bursts.ready.wait(0.3)  # the kernel is not even loaded
    monkeypatch.setattr(tabu, "MAX_PAIRS", 160)
    assert TabuBursts(d_type, pair_costs(d_type)[0], 0, 10.0).ready.wait(60)


def test_a_kicked_start_moves_its_share_of_tasks_onto_eligible_agents_and_towards_an_elite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tabu, "KICK", 0.1)
    compiled = compile_gap(generate_gap("D", 6, 60, seed=3))
    cost = pair_costs(compiled)[0]
    bursts = TabuBursts(compiled, cost, seed=0, limit_s=1.0)
    bursts.search = PenaltyTabu(compiled, cost)
    plan = cost.argmin(axis=0)
    kicked = bursts._kicked(plan)  # no earlier incumbent: kicks only
    moved = np.flatnonzero(kicked != plan)
    assert 1 <= len(moved) <= 6  # int(0.1 x 60) tasks drawn; a draw may keep its agent
    assert np.isfinite(cost[kicked, np.arange(60)]).all()
    earlier = np.roll(plan, 7)  # differs from `plan` on most tasks
    differ = np.flatnonzero(earlier != plan)
    bursts.elites = [(2.0, earlier), (1.0, plan)]
    relinked = bursts._kicked(plan)
    towards = np.flatnonzero(relinked[differ] == earlier[differ])
    assert len(towards) == (len(differ) + 1) // 2  # half the way to the earlier incumbent
