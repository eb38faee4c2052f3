"""Shared assertion for re-plan tests: pins stay, kept tasks' moves are the ones reported."""

from __future__ import annotations

import numpy as np

from solvers.replan.search import ReplanOutcome


def assert_pins_and_moves(
    previous: np.ndarray, out: ReplanOutcome, pinned: set[int], budget: int | None
) -> None:
    """Pinned tasks stay; the kept tasks that moved are `out.moved_kept`, within `budget`."""
    for j in pinned:
        assert out.assignment[j] == previous[j]
    moved = [
        j
        for j in range(len(previous))
        if j not in out.freed and j not in pinned and out.assignment[j] != previous[j]
    ]
    assert sorted(moved) == sorted(out.moved_kept)
    assert budget is None or len(moved) <= budget
