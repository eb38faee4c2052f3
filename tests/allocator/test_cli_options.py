"""Command-line run options: --deterministic, and the limit covering the command's own start."""

from __future__ import annotations

import time

import pytest

from allocator.cli_options import run_options, seconds_since_process_start, within_command_limit
from models import RunOptions


def test_deterministic_flag_switches_the_option_on_and_keeps_a_files_choice() -> None:
    assert run_options(None, None, None, None, None, True).deterministic
    assert not run_options(None, None, None, None, None).deterministic
    assert run_options(RunOptions(deterministic=True), None, None, None, None).deterministic


def test_process_age_grows_with_the_clock() -> None:
    before = seconds_since_process_start()
    time.sleep(0.05)
    assert seconds_since_process_start() >= before + 0.03


@pytest.mark.parametrize("limit", [0.5, 10.0, 600.0])
def test_the_solve_gets_the_limit_minus_what_the_command_spent(limit: float) -> None:
    options, taken = within_command_limit(RunOptions(time_limit_s=limit), load_s=0.0)
    assert taken > 0  # this process started before the call
    assert options.time_limit_s == pytest.approx(limit - taken)
    assert options.time_limit_s >= 0.25 * limit  # the floor a late start still leaves


def test_file_loading_is_not_counted() -> None:
    age = seconds_since_process_start()
    _, without = within_command_limit(RunOptions(time_limit_s=3600.0), load_s=0.0)
    _, with_load = within_command_limit(RunOptions(time_limit_s=3600.0), load_s=age)
    assert with_load < without
