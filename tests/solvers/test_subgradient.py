"""The one subgradient loop: stops when the relaxed choice fits, never worsens its best."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.shared.subgradient import (
    HalvingScale,
    Relaxation,
    TargetFollowing,
    subgradient_ascent,
)

# Two agents, three tasks, one dimension: every task prefers agent 0, which holds two.
COST = np.array([[1.0, 1.0, 1.0], [3.0, 4.0, 5.0]])
USAGE = np.ones((2, 3))


def relaxation(capacity: np.ndarray) -> Relaxation:
    def relaxed(mu: np.ndarray) -> tuple[float, np.ndarray]:
        reduced = COST + mu[:, 0:1] * USAGE
        agent = reduced.argmin(axis=0)
        used = np.bincount(agent, minlength=2).astype(float)
        value = float(reduced.min(axis=0).sum() - (mu[:, 0] * capacity).sum())
        return value, (used - capacity)[:, None]

    return relaxed


@pytest.mark.parametrize("rule", [TargetFollowing, HalvingScale])
def test_slack_capacity_stops_at_once_with_zero_prices(rule: type) -> None:
    result = subgradient_ascent(relaxation(np.array([3.0, 3.0])), (2, 1), rule(), iterations=50)
    assert result.iterations == 1
    assert result.bound == pytest.approx(3.0)
    assert not result.multipliers.any()


@pytest.mark.parametrize("rule", [TargetFollowing, HalvingScale])
def test_tight_capacity_bound_stays_below_the_optimum(rule: type) -> None:
    # The optimum puts the cheapest-to-move task (cost 3) on agent 1: 1 + 1 + 3 = 5.
    result = subgradient_ascent(relaxation(np.array([2.0, 3.0])), (2, 1), rule(), iterations=200)
    assert 3.0 < result.bound <= 5.0 + 1e-9
    assert (result.multipliers >= 0).all()
    assert result.multipliers[0, 0] > 0  # the full agent's room got a price


def test_a_past_deadline_ends_after_one_iteration() -> None:
    result = subgradient_ascent(
        relaxation(np.array([2.0, 3.0])), (2, 1), TargetFollowing(), iterations=100, deadline=0.0
    )
    assert result.iterations == 1
