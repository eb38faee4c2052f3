"""Circuit breaker: resilience4j semantics on an injected clock."""

from __future__ import annotations

import pytest

from allocator.coordinator import CLOSED, HALF_OPEN, OPEN, BreakerConfig, CircuitBreaker


def test_needs_minimum_calls_before_the_rate_counts() -> None:
    b = CircuitBreaker(BreakerConfig(minimum_calls=10, window_size=20))
    for i in range(9):
        assert b.record(float(i), failed=True) is None
    assert b.state is CLOSED
    assert b.record(9.0, failed=True) == OPEN


def test_opens_on_failure_rate_within_the_window() -> None:
    b = CircuitBreaker(BreakerConfig(minimum_calls=10, window_size=10, failure_rate_threshold=0.5))
    for i in range(10):
        b.record_success(float(i), 0.1)
    for i in range(4):
        assert b.record(10.0 + i, failed=True) is None  # 4/10
    assert b.record(20.0, failed=True) == OPEN  # 5/10 after the window slid


def test_slow_calls_open_it() -> None:
    cfg = BreakerConfig(minimum_calls=4, slow_call_s=2.0, slow_call_rate_threshold=0.5)
    b = CircuitBreaker(cfg)
    b.record_success(0.0, 0.1)
    b.record_success(0.0, 0.1)
    b.record_success(0.0, 5.0)
    assert b.record_success(0.0, 5.0) == OPEN


def test_open_waits_then_half_open_probes_close_it() -> None:
    cfg = BreakerConfig(minimum_calls=2, wait_open_s=5.0, half_open_calls=2)
    b = CircuitBreaker(cfg)
    b.record(0.0, True)
    b.record(0.0, True)
    assert b.state is OPEN and not b.allows(4.9)
    assert b.allows(5.0) and b.state is HALF_OPEN
    b.on_acquire()
    assert b.allows(5.0)
    b.on_acquire()
    assert not b.allows(5.0)  # only two probes
    b.record_success(6.0, 0.1)
    assert b.record_success(6.0, 0.1) == CLOSED


def test_repeated_opens_back_off_and_half_open_never_sticks() -> None:
    cfg = BreakerConfig(
        minimum_calls=1,
        wait_open_s=1.0,
        backoff_multiplier=2.0,
        half_open_calls=1,
        max_half_open_s=3.0,
    )
    b = CircuitBreaker(cfg)
    b.record(0.0, True)
    assert b.open_until == pytest.approx(1.0)
    assert b.allows(1.0)  # half-open
    b.on_acquire()
    assert b.record(1.5, True) == OPEN
    assert b.open_until == pytest.approx(1.5 + 2.0)  # backed off
    assert b.allows(3.5)
    b.on_acquire()  # a probe that never reports back
    assert b.poll(7.0) is OPEN  # timed out of half-open
    assert b.open_until == pytest.approx(7.0 + 4.0)


def test_time_window_forgets_old_failures() -> None:
    cfg = BreakerConfig(window="time", window_size=10, minimum_calls=3)
    b = CircuitBreaker(cfg)
    b.record(0.0, True)
    b.record(1.0, True)
    for t in range(20, 25):
        b.record_success(float(t), 0.1)
    assert b.state is CLOSED
    assert b.snapshot()["failure_rate"] == 0.0
    b.record(25.0, True)
    b.record(26.0, True)
    assert b.record(26.5, True) is None or b.state is CLOSED  # 3/8 < 50%
    b.record(27.0, True)
    assert b.record(27.5, True) == OPEN


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="fraction"):
        BreakerConfig(failure_rate_threshold=1.5)
