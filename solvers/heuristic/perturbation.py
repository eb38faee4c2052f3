"""Iterated local search: kick a few units to random feasible places, re-optimise, keep if no worse.

Plateau moves are accepted (equal score), which lets the search drift across the
many equal-cost plans of GAP-like instances; worse results are undone unit by unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from solvers.base import StopReason
from solvers.heuristic.local_search import local_search
from solvers.heuristic.regret_insertion import placement_scores
from solvers.heuristic.scoring import ScoreModel
from solvers.heuristic.task_units import PlanState

__all__ = ["iterated_local_search"]

_MAX_STALE = 400  # kicks without improvement before giving up (fewer on tiny plans)


def iterated_local_search(
    state: PlanState,
    model: ScoreModel,
    rng: np.random.Generator,
    deadline: float,
    offer: Callable[[PlanState], float],
    known_bound: float | None = None,
    rel_gap: float = 0.0,
    *,
    max_kicks: int | None = None,
) -> StopReason:
    """Improve `state` until the deadline, a stale streak, `max_kicks` kicks, or the
    known bound is met. Each kick's local search is bounded by rounds, so with
    `max_kicks` the result depends on the seed alone unless the deadline comes first."""
    best = state.copy_assign()
    best_score = model.total(state)
    stale = kicks = 0
    placed_count = int((state.assign >= 0).sum())
    if placed_count < 2:
        return StopReason.ITERATIONS_DONE
    # A 20-task plan is at its local optimum after a few dozen kicks; 400 would spend
    # 0.3 s there, which is what a service answering small requests cannot afford.
    max_stale = min(_MAX_STALE, max(24, 2 * placed_count))
    while True:
        if time.perf_counter() > deadline:
            return StopReason.TIME_LIMIT
        if known_bound is not None and best_score - known_bound <= rel_gap * max(
            1.0, abs(best_score)
        ):
            return StopReason.GAP_REACHED
        if stale >= max_stale or (max_kicks is not None and kicks >= max_kicks):
            return StopReason.ITERATIONS_DONE
        kicks += 1
        k = int(rng.integers(2, max(3, min(25, placed_count // 8)) + 1))
        _kick(state, model, rng, k)
        local_search(state, model, deadline, rng, max_rounds=200)
        score = model.total(state)
        if score < best_score - 1e-9:
            stale = 0
            best_score = offer(state)
            best = state.copy_assign()
        elif score <= best_score + 1e-9:
            stale += 1
            best = state.copy_assign()
        else:
            stale += 1
            _restore(state, best)


def _kick(state: PlanState, model: ScoreModel, rng: np.random.Generator, k: int) -> None:
    """Move k random placed units to random good-enough agents, or swap them."""
    placed = np.flatnonzero(state.assign >= 0)
    kicked = rng.choice(placed, size=min(k, len(placed)), replace=False)
    scores = placement_scores(state, model, kicked)
    for c, u in enumerate(kicked.tolist()):
        options = np.flatnonzero(np.isfinite(scores[:, c]))
        if len(options):
            # Among the few least-bad targets, so a kick is a detour, not a wreck.
            options = options[np.argsort(scores[options, c])[:3]]
            target = int(rng.choice(options))
            if state.fits(u, target):
                state.move(u, target)
                continue
        _random_swap(state, u, rng)


def _random_swap(state: PlanState, u: int, rng: np.random.Generator) -> None:
    un = state.units
    a = int(state.assign[u])
    agents = np.flatnonzero(un.eligible[:, u])
    agents = agents[agents != a]
    if not len(agents) or a < 0:
        return
    b = int(rng.choice(agents))
    on_b = np.flatnonzero(state.assign == b)
    rng.shuffle(on_b)
    for v in on_b[:10].tolist():
        if state.fits(u, b, ignore=(v,)) and state.fits(v, a, ignore=(u,)):
            state.remove(u)
            state.remove(v)
            state.place(u, b)
            state.place(v, a)
            return


def _restore(state: PlanState, target: np.ndarray) -> None:
    """Put back the units that differ from `target` (remove all first, then place)."""
    diff = np.flatnonzero(state.assign != target)
    for u in diff.tolist():
        state.remove(u)
    for u in diff.tolist():
        if target[u] >= 0:
            state.place(u, int(target[u]))
