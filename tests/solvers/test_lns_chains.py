"""LNS helpers: the shift / swap / chain descent, the adaptive rule choice, the LP task rule."""

from __future__ import annotations

import time

import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan, gap_to_problem
from models.gap_reader import GapInstance
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.bounds.lagrangian import pair_costs
from solvers.lns.chains import ROWS, _disjoint_moves, _Walk, applies, descend
from solvers.lns.neighbourhoods import NeighbourhoodPicker
from solvers.lns.polish import TOTAL, Polisher
from solvers.lns.rule_choice import FLOOR, RuleChooser
from solvers.registry import get_solver
from tests.solvers.tiny_instances import worst_fit_plan


def _tiny(costs: list[list[float]], usage: list[list[float]], capacity: list[float]) -> Problem:
    instance = GapInstance("tiny", np.array(costs), np.array(usage), np.array(capacity))
    return gap_to_problem(instance)


@pytest.mark.parametrize(
    ("kind", "seed", "n_tasks"), [("D", 1, 60), ("E", 2, 60), ("C", 3, 60), ("D", 4, 2 * ROWS + 50)]
)
def test_descent_keeps_plans_feasible_and_never_worse(kind: str, seed: int, n_tasks: int) -> None:
    # The last case has three blocks of tasks per round cycle (plans above ROWS tasks).
    compiled = compile_gap(generate_gap(kind, 8, n_tasks, seed=seed))
    start = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.3, seed=0))
    assert start.assignment is not None and applies(compiled, start.assignment)
    before = evaluate_plan(compiled, start.assignment)
    cost = pair_costs(compiled)[0].astype(np.float64)
    plan, moves = descend(compiled, start.assignment, cost, time.perf_counter() + 60)
    after = evaluate_plan(compiled, plan)
    assert after.feasible
    assert after.score <= before.score + 1e-9
    assert (moves == 0) == (after.score == before.score)
    # It stopped at a local optimum over every task, not at the end of one block.
    _, more = descend(compiled, plan, cost, time.perf_counter() + 60, 0, np.random.default_rng(7))
    assert more == 0


@pytest.mark.parametrize(("kind", "seed"), [("D", 11), ("E", 12), ("C", 13)])
def test_one_round_takes_improving_moves_on_disjoint_agents_whose_sum_it_gains(
    kind: str, seed: int
) -> None:
    # A plain descent applies all of one round's chosen moves: each must be improving,
    # touch agents no other one touches, and together keep the plan feasible and lower
    # its score by exactly the sum of their changes.
    compiled = compile_gap(generate_gap(kind, 12, 300, seed=seed))
    plan = worst_fit_plan(compiled)  # feasible, blind to cost: many improving moves at once
    assert evaluate_plan(compiled, plan).feasible
    cost = pair_costs(compiled)[0].astype(np.float64)
    walk = _Walk(compiled, plan, cost)
    rows = np.arange(min(ROWS, len(plan)))
    found = _disjoint_moves(walk.tables(walk.tabu_mask(), 0.0, rows), walk.plan)
    assert len(found) >= 2
    deltas = [delta for _, delta in found]
    assert all(d < 0 for d in deltas) and deltas == sorted(deltas)
    touched = [{int(plan[t]) for t, _ in move} | {a for _, a in move} for move, _ in found]
    assert sum(len(agents) for agents in touched) == len(set().union(*touched))
    before = evaluate_plan(compiled, plan).score
    for move, _ in found:
        walk.apply(move, 0)
    after = evaluate_plan(compiled, walk.plan.astype(np.int32))
    assert after.feasible
    assert after.score == pytest.approx(before + sum(deltas))


@pytest.mark.parametrize("seed", [5, 6])
def test_tabu_walk_ends_no_worse_than_the_descent_it_starts_with(seed: int) -> None:
    # The walk takes the descent's moves until no move improves, then walks on and
    # returns the best plan it saw: never worse, and feasible.
    compiled = compile_gap(generate_gap("D", 6, 48, seed=seed))
    start = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.3, seed=0))
    assert start.assignment is not None
    cost = pair_costs(compiled)[0].astype(np.float64)
    plain, _ = descend(compiled, start.assignment, cost, time.perf_counter() + 5)
    walked, moves = descend(
        compiled, start.assignment, cost, time.perf_counter() + 5, 50, np.random.default_rng(1)
    )
    assert evaluate_plan(compiled, walked).feasible
    assert evaluate_plan(compiled, walked).score <= evaluate_plan(compiled, plain).score
    assert moves >= 50  # it walked past the local optimum


def test_descent_finds_a_chain_that_no_single_shift_or_swap_makes() -> None:
    # t0 sits on a1 at cost 10 and would cost 0 on a0, which is full with t1. Shifting
    # t1 to a2 alone costs 1 more (1 vs 0); a swap (t0 <-> t1) puts t1 on a1 at cost 50.
    # The chain t1: a0 -> a2, then t0: a1 -> a0 saves 10 - 1 = 9.
    problem = _tiny(
        costs=[[0, 0], [10, 50], [50, 1]],
        usage=[[1, 1], [1, 1], [1, 1]],
        capacity=[1, 1, 1],
    )
    compiled = compile_problem(problem)
    plan = np.array([1, 0], dtype=np.int32)
    cost = pair_costs(compiled)[0].astype(np.float64)
    better, moves = descend(compiled, plan, cost, time.perf_counter() + 5)
    assert evaluate_plan(compiled, better).feasible
    assert better.tolist() == [0, 2]
    assert evaluate_plan(compiled, better).score == 1.0
    assert moves == 1


def test_descent_swaps_when_both_agents_are_full() -> None:
    problem = _tiny(costs=[[5, 0], [0, 5]], usage=[[1, 1], [1, 1]], capacity=[1, 1])
    compiled = compile_problem(problem)
    cost = pair_costs(compiled)[0].astype(np.float64)
    better, moves = descend(
        compiled, np.array([0, 1], dtype=np.int32), cost, time.perf_counter() + 5
    )
    assert better.tolist() == [1, 0] and moves == 1


def test_descent_does_not_apply_to_plans_with_unplaced_tasks() -> None:
    compiled = compile_gap(generate_gap("C", 3, 10, seed=0))
    assert not applies(compiled, np.r_[np.zeros(9, dtype=np.int32), -1])


def test_rule_chooser_tries_every_rule_then_favours_the_one_that_gains() -> None:
    chooser = RuleChooser(("a", "b", "c"), np.random.default_rng(0))
    first = [chooser.pick() for _ in range(3)]
    assert sorted(first) == ["a", "b", "c"]
    for rule in first:
        chooser.reward(rule, 10.0 if rule == "b" else 0.0, 1.0)
    shares = chooser.shares()
    assert shares.sum() == pytest.approx(1.0)
    assert shares[1] == pytest.approx(FLOOR / 3 + 1 - FLOOR)
    assert shares[0] == pytest.approx(FLOOR / 3)  # a floor: every rule stays drawable
    picks = [chooser.pick() for _ in range(300)]
    assert picks.count("b") > 200 and picks.count("a") > 0


def test_rule_chooser_needs_rules() -> None:
    with pytest.raises(ValueError, match="at least one rule"):
        RuleChooser((), np.random.default_rng(0))


def test_lp_task_rule_frees_mostly_tasks_the_plan_places_off_the_lp_choice() -> None:
    compiled = compile_gap(generate_gap("D", 4, 40, seed=7))
    plan = (np.arange(40) % 4).astype(np.int32)
    lp_choice = plan.copy()
    off = np.arange(0, 40, 8)  # five tasks the LP puts one agent further on
    lp_choice[off] = (plan[off] + 1) % 4
    x_frac = np.zeros((4, 40), dtype=np.float32)
    x_frac[lp_choice, np.arange(40)] = 1.0
    picker = NeighbourhoodPicker(compiled, np.random.default_rng(0), None, x_frac)
    drawn = 0
    for _ in range(50):
        free, agents = picker.pick_tasks(plan, 5, by_lp=True)
        drawn += int(np.isin(free, off).sum())
        allowed = picker.allowed(plan, free, agents)
        lp_rows = np.searchsorted(agents, lp_choice[free])
        assert allowed[lp_rows, np.arange(len(free))].all()  # the LP's agent is a move
    # Weights 1 + 1/8 against 1/8 (the floor): the five off-LP tasks hold over half the
    # weight, so draws of five without replacement give ~45% of them; a uniform draw 12.5%.
    assert drawn > 0.3 * 250


def test_polisher_descends_once_per_better_incumbent_and_keeps_to_its_totals() -> None:
    compiled = compile_gap(generate_gap("D", 6, 48, seed=9))
    start = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.3, seed=0))
    assert start.assignment is not None
    score = evaluate_plan(compiled, start.assignment).score
    cost = pair_costs(compiled)[0]
    polisher = Polisher(compiled, cost, 10.0, np.random.default_rng(0))
    better = polisher.polish(start.assignment, score, left_s=10.0)
    assert better is not None and evaluate_plan(compiled, better).feasible
    assert evaluate_plan(compiled, better).score <= score
    assert polisher.polish(start.assignment, score, left_s=10.0) is None  # not better
    spent = Polisher(compiled, cost, 10.0, np.random.default_rng(0))
    spent.seconds = TOTAL * 10.0  # the chain descents' share of the limit is used up ...
    after = spent.polish(start.assignment, score, left_s=10.0)
    assert after is not None and spent.moves == 0  # ... the exchanges' is not
    spent.exchange_seconds = TOTAL * 10.0  # both used up: no descent at all
    spent.last_score = np.inf
    assert spent.polish(start.assignment, score, left_s=10.0) is None
