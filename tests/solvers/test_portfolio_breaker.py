"""The solver breaker's state survives a round trip through a dict (a job runner's store)."""

from __future__ import annotations

import json
import time

from solvers.portfolio.breaker import SolverBreaker


def test_open_breaker_survives_serialisation() -> None:
    breaker = SolverBreaker(threshold=2, open_s=120)
    for _ in range(2):
        breaker.record("milp", ok=False)
    breaker.record("greedy", ok=True)
    saved = json.loads(json.dumps(breaker.to_dict()))
    restored = SolverBreaker.from_dict(saved)
    reason = restored.skip_reason("milp")
    assert reason is not None and "2 consecutive failures" in reason
    assert restored.skip_reason("greedy") is None
    assert restored.open_solvers() == ["milp"]
    assert restored.threshold == 2 and restored.open_s == 120


def test_failures_below_threshold_carry_over_and_trip_later() -> None:
    first = SolverBreaker(threshold=3, open_s=60)
    first.record("cpsat", ok=False)
    first.record("cpsat", ok=False)
    second = SolverBreaker.from_dict(first.to_dict())
    assert second.skip_reason("cpsat") is None
    second.record("cpsat", ok=False)
    assert second.skip_reason("cpsat") is not None


def test_expired_open_time_is_closed_after_restore() -> None:
    breaker = SolverBreaker(threshold=1, open_s=60)
    breaker.record("nsga2", ok=False, now=time.monotonic() - 120)
    restored = SolverBreaker.from_dict(breaker.to_dict())
    assert restored.skip_reason("nsga2") is None
    assert restored.open_solvers() == []
