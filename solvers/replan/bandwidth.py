"""After the re-plan's search: fit the plan's traffic within link bandwidth without
breaking the move budget or a pin (issue 15).

The shared bandwidth repair (`solvers.shared.bandwidth_repair`) moves communicating
tasks until the routed traffic fits. Here it runs with the tasks that must stay fixed:
the pinned ones, and every kept task still on its previous agent except a chosen few
(at most what is left of the budget), so any plan it returns keeps the budget by
construction. It first runs with only the pins fixed; when that fits within the budget
it is taken, otherwise its moves (and the tasks whose traffic crosses a link) choose the
few kept tasks it may move. `evaluate_plan` judges every attempt; when none fits, the
plan keeps the least congested one and the notes say what the budget would need.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from models.compiled import CompiledProblem
from models.evaluation import Evaluation, evaluate_plan
from solvers.shared.bandwidth_repair import repair_bandwidth

__all__ = ["LinkFit", "fit_links", "overloads_a_link"]

#: Sets of kept tasks the budgeted repair is tried with, at most (each is one repair).
_MAX_CHOICES = 40


@dataclass
class LinkFit:
    """The plan after the bandwidth phase and what it says about it."""

    assignment: np.ndarray
    notes: list[str] = field(default_factory=list)


def overloads_a_link(ev: Evaluation) -> bool:
    return any(v.kind == "bandwidth" for v in ev.violations)


@dataclass
class _Budget:
    """Which tasks count against the budget and how much of it is left."""

    previous: np.ndarray
    kept: np.ndarray  # bool[n]: a move off the previous agent counts
    pinned: np.ndarray  # bool[n]
    max_moves: int | None

    def used(self, a: np.ndarray) -> int:
        return int((self.kept & (a != self.previous)).sum())

    def within(self, a: np.ndarray) -> bool:
        return self.max_moves is None or self.used(a) <= self.max_moves

    def staying(self, a: np.ndarray) -> np.ndarray:
        """Kept tasks still on their previous agent: each move of one spends budget."""
        return self.kept & (a == self.previous) & (a >= 0)


def fit_links(
    problem: CompiledProblem,
    previous: np.ndarray,
    assignment: np.ndarray,
    kept: np.ndarray,
    pinned: set[int],
    max_moves: int | None,
    time_limit_s: float,
) -> LinkFit:
    """`assignment` repaired until its traffic fits every link within the budget, or the
    least congested attempt with notes saying what falls short. Unchanged when it fits."""
    a = np.asarray(assignment, dtype=np.int64)
    before = evaluate_plan(problem, a)
    if problem.network is None or not overloads_a_link(before):
        return LinkFit(a)
    deadline = time.perf_counter() + time_limit_s
    pins = np.zeros(problem.n_tasks, dtype=bool)
    pins[list(pinned)] = True
    budget = _Budget(np.asarray(previous, dtype=np.int64), kept & ~pins, pins, max_moves)
    best = _Attempt(a, before)
    # Pins only: the repair's own choice of moves, taken when the budget affords it.
    free = repair_bandwidth(problem, a, time_limit_s=_share(deadline, 0.4), fixed=pins)
    unbudgeted = _Attempt(free.assignment, evaluate_plan(problem, free.assignment))
    if budget.within(free.assignment):
        best = best.better(unbudgeted, before)
    left = None if max_moves is None else max_moves - budget.used(a)
    if not best.fits and left is not None:
        for chosen in _choices(problem, budget, a, free.assignment, left):
            if time.perf_counter() >= deadline:
                break
            fixed = pins | (budget.staying(a) & ~chosen)
            repair = repair_bandwidth(problem, a, time_limit_s=_share(deadline, 0.5), fixed=fixed)
            if not budget.within(repair.assignment):  # cannot happen: fixed by construction
                raise AssertionError("bandwidth repair moved a task it was told to keep")
            tried = _Attempt(repair.assignment, evaluate_plan(problem, repair.assignment))
            best = best.better(tried, before)
            if best.fits:
                break
    return LinkFit(best.assignment, _notes(budget, a, best, unbudgeted))


@dataclass(frozen=True)
class _Attempt:
    assignment: np.ndarray
    evaluation: Evaluation

    @property
    def fits(self) -> bool:
        return not overloads_a_link(self.evaluation)

    def better(self, other: _Attempt, before: Evaluation) -> _Attempt:
        """`other` when it breaks no more other rules than the plan before the repair and
        is less congested (fits, or a lower busiest-link utilisation)."""
        others = [v for v in other.evaluation.violations if v.kind != "bandwidth"]
        if len(others) > sum(v.kind != "bandwidth" for v in before.violations):
            return self
        return other if _congestion(other) < _congestion(self) - 1e-9 else self


def _congestion(attempt: _Attempt) -> float:
    use = attempt.evaluation.link_use
    return 0.0 if attempt.fits or use is None else use.max_utilisation


def _share(deadline: float, part: float) -> float:
    return max(part * (deadline - time.perf_counter()), 0.01)


def _choices(
    problem: CompiledProblem, budget: _Budget, a: np.ndarray, free: np.ndarray, left: int
) -> Iterator[np.ndarray]:
    """Sets of at most `left` staying kept tasks the budgeted repair may move: those the
    unbudgeted repair moved, then those whose traffic crosses a link, each heaviest
    traffic first; then other sets of `left` of those tasks, heaviest first, up to
    `_MAX_CHOICES` in all (with no budget left, one empty set: freed tasks may move)."""
    staying = budget.staying(a)
    volume = np.zeros(problem.n_tasks)
    np.add.at(volume, problem.comm_pairs[:, 0], problem.comm_volume)
    np.add.at(volume, problem.comm_pairs[:, 1], problem.comm_volume)
    net = problem.network
    assert net is not None
    node = np.where(a >= 0, net.agent_node[np.maximum(a, 0)], -1)
    ends = node[problem.comm_pairs]
    apart = (ends >= 0).all(axis=1) & (ends[:, 0] != ends[:, 1])
    crossing = np.zeros(problem.n_tasks, dtype=bool)
    crossing[problem.comm_pairs[apart].ravel()] = True

    def heaviest(pool: np.ndarray) -> list[int]:
        return np.flatnonzero(pool)[np.argsort(-volume[pool], kind="stable")].tolist()

    moved, across = heaviest(staying & (free != a)), heaviest(staying & (crossing | (free != a)))
    size = max(min(left, len(across)), 0)
    sets = itertools.chain(
        [moved[:size], heaviest(staying & crossing)[:size]],
        itertools.combinations(across, size),
    )
    seen: set[tuple[int, ...]] = set()
    for tasks in sets:
        key = tuple(sorted(tasks))
        if key in seen:
            continue
        seen.add(key)
        chosen = np.zeros(problem.n_tasks, dtype=bool)
        chosen[list(key)] = True
        yield chosen
        if len(seen) >= _MAX_CHOICES:
            return


def _notes(budget: _Budget, a: np.ndarray, best: _Attempt, unbudgeted: _Attempt) -> list[str]:
    moved = int((best.assignment != a).sum())
    if best.fits:
        return [
            f"bandwidth repair moved {moved} task(s) so every link fits, within the move "
            "budget and the pins"
        ]
    limit = "any number of" if budget.max_moves is None else f"at most {budget.max_moves}"
    pins = " and the pinned tasks staying" if budget.pinned.any() else ""
    note = (
        f"with {limit} move(s) of kept tasks{pins}, the bandwidth repair found no plan "
        f"within every link's bandwidth (it moved {moved} task(s))"
    )
    if unbudgeted.fits:
        needed = budget.used(unbudgeted.assignment)
        note += f"; moving {needed} kept task(s) fits every link (max_moves {needed})"
    return [note]
