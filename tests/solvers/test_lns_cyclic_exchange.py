"""Cyclic and path exchanges over many agents (`solvers/lns/cyclic_exchange.py`)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from models import CompiledProblem, compile_problem, evaluate_plan, gap_to_problem
from models.gap_reader import GapInstance
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.bounds.lagrangian import pair_costs
from solvers.lns import cyclic_exchange
from solvers.lns.chains import descend
from solvers.lns.cyclic_exchange import _apply_disjoint, _exchanges, exchange_descent
from solvers.registry import get_solver
from tests.solvers.tiny_instances import worst_fit_plan

_FAR = 60.0  # seconds: a deadline these small cases never reach


def _tiny(costs: list[list[int]], capacity: list[int]) -> CompiledProblem:
    """Every pair uses 10 units: an agent of capacity 10 holds one task."""
    usage = np.full((len(costs), len(costs[0])), 10.0)
    return compile_problem(
        gap_to_problem(GapInstance("tiny", np.array(costs), usage, np.array(capacity)))
    )


def _descents(compiled: CompiledProblem, plan: np.ndarray) -> tuple[int, np.ndarray, int]:
    """(chain-descent moves, plan after the exchange descent, exchanges it made)."""
    cost = pair_costs(compiled)[0].astype(np.float64)
    _, moves = descend(compiled, plan, cost, time.perf_counter() + _FAR)
    after, made = exchange_descent(compiled, plan, cost, time.perf_counter() + _FAR)
    return moves, after, made


def test_finds_a_rotation_over_three_full_agents_that_no_shift_or_swap_improves() -> None:
    # Three agents holding one task each; rotating the tasks costs 3 instead of 15, every
    # swap costs 21 instead of 10, and no agent has room for a shift or a chain's end.
    costs = [[5, 20, 1], [1, 5, 20], [20, 1, 5]]
    compiled = _tiny(costs, [10, 10, 10])
    plan = np.array([0, 1, 2], dtype=np.int32)
    moves, after, made = _descents(compiled, plan)
    assert moves == 0  # the shift / swap / chain descent sees no improving move
    assert made == 1 and sorted(after.tolist()) == [0, 1, 2]
    assert evaluate_plan(compiled, after).feasible
    assert evaluate_plan(compiled, after).score == 3


def test_finds_a_path_of_three_tasks_ending_on_an_agent_with_room() -> None:
    # Agents 0-2 hold tasks 0-2; agent 3 is empty. Task 0 onto agent 1 in task 1's place,
    # task 1 onto agent 2 in task 2's place, task 2 onto agent 3: 15 -> 12. Each shift,
    # swap and two-step chain (the chain descent's moves) makes the plan dearer.
    costs = [[5, 20, 20], [1, 5, 20], [20, 1, 5], [20, 20, 10]]
    compiled = _tiny(costs, [10, 10, 10, 10])
    plan = np.array([0, 1, 2], dtype=np.int32)
    moves, after, made = _descents(compiled, plan)
    assert moves == 0
    assert made == 1 and after.tolist() == [1, 2, 3]
    assert evaluate_plan(compiled, after).score == 12


def test_a_full_agent_takes_no_task_at_a_paths_end() -> None:
    # As above, but agent 3 may hold no task: the path has nowhere to end.
    costs = [[5, 20, 20], [1, 5, 20], [20, 1, 5], [20, 20, 10]]
    compiled = _tiny(costs, [10, 10, 10, 10])
    compiled = replace(compiled, max_tasks=np.array([1, 1, 1, 0]))
    _, after, made = _descents(compiled, np.array([0, 1, 2], dtype=np.int32))
    assert made == 0 and after.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("kind", "seed", "resources", "beam"),
    [("D", 1, 1, None), ("E", 2, 1, None), ("C", 3, 1, None), ("D", 4, 2, None), ("E", 5, 2, 8)],
)
def test_exchanges_keep_plans_feasible_and_lower_the_score_each_time(
    kind: str, seed: int, resources: int, beam: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if beam is not None:  # fewer paths extended than there are tasks
        monkeypatch.setattr(cyclic_exchange, "BEAM", beam)
    compiled = compile_gap(generate_gap(kind, 10, 120, seed=seed))
    if resources == 2:  # a second resource, as tight, with its own usage per pair
        rng = np.random.default_rng(seed)
        usage2 = compiled.usage[:, :, :1] * rng.uniform(0.5, 1.5, (*compiled.usage.shape[:2], 1))
        compiled = replace(
            compiled,
            usage=np.concatenate([compiled.usage, usage2], axis=2),
            capacity=np.concatenate([compiled.capacity, compiled.capacity * 1.1], axis=1),
        )
    plan = worst_fit_plan(compiled)  # feasible and blind to cost: many exchanges gain
    if not evaluate_plan(compiled, plan).feasible:  # (the second resource may not fit)
        greedy = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.3))
        assert greedy.assignment is not None
        plan = greedy.assignment
    cost = pair_costs(compiled)[0].astype(np.float64)
    score = evaluate_plan(compiled, plan).score
    after, made = exchange_descent(compiled, plan, cost, 0.0)  # a deadline already past
    assert made == 0 and (after == plan).all()
    exchanges = 0
    for _ in range(30):  # one exchange at a time: each must be feasible and gain
        after, made = _one_exchange(compiled, plan, cost)
        if made == 0:
            break
        ev = evaluate_plan(compiled, after)
        assert ev.feasible and ev.score < score - 1e-9
        plan, score, exchanges = after, ev.score, exchanges + 1
    assert exchanges >= 1


def _one_exchange(
    compiled: CompiledProblem, plan: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, int]:
    """One step of the descent: the plan after the disjoint exchanges one search finds."""
    found = _exchanges(compiled, plan.astype(np.int64), cost, time.perf_counter() + _FAR)
    return _apply_disjoint(plan, found).astype(np.int32), len(found)
