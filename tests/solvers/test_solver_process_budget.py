"""A solver process's budget counts from when the parent started it, not from when the
child got going: the fork and start-up are spent out of it."""

from __future__ import annotations

import time

import pytest

from solvers.portfolio.solver_process import _OVERSHOOT_S, _budget_left


def test_the_start_up_lag_and_the_engines_overshoot_are_taken_off_the_budget() -> None:
    assert _budget_left(10.0, launched=100.0, now=100.25) == pytest.approx(9.75 - _OVERSHOOT_S)
    # Short budgets keep at most 3 % back for the overshoot.
    assert _budget_left(0.5, launched=100.0, now=100.0) == pytest.approx(0.485)


def test_a_clock_that_does_not_agree_keeps_the_budget() -> None:
    assert _budget_left(10.0, launched=100.0, now=99.0) == 10.0  # went backwards


def test_a_child_started_after_its_whole_budget_keeps_a_tenth_to_answer() -> None:
    assert _budget_left(1.0, launched=100.0, now=102.0) == 0.1


def test_the_clock_is_the_one_every_process_reads() -> None:
    """time.monotonic is CLOCK_MONOTONIC on Linux: one clock for the parent and child."""
    assert time.get_clock_info("monotonic").implementation in {
        "clock_gettime(CLOCK_MONOTONIC)",
        "mach_absolute_time()",
        "GetTickCount64()",
    }
