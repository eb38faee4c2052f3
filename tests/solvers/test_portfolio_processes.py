"""Process hygiene: a stopped solver leaves no process behind, not even one it started.

Each solver process leads its own session and is killed as a group. These tests count
this process's live descendants and the solvers' marked children (found by command
line, even once re-parented to init) before and after cancelled, timed-out and
crashed solves.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from models import RunOptions
from solvers import registry
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio
from tests.solvers.process_census import describe, live_descendants, marked_processes
from tests.solvers.spawning_solver import MARKER_ENV
from tests.solvers.tiny_instances import tiny_gap

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts processes through /proc"
)


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Registers the spawning solvers; their children run `sleep 3600.<unique digits>`."""
    value = f"3600.{uuid.uuid4().int % 10**12:012d}"
    monkeypatch.setenv(MARKER_ENV, value)
    extra = {
        "spawner": ("tests.solvers.spawning_solver", "SpawningHanger"),
        "spawn_dier": ("tests.solvers.spawning_solver", "SpawningDier"),
    }
    registry._REGISTRY.update(extra)
    yield value
    for key in extra:
        registry._REGISTRY.pop(key)


def _left_behind(before: set[int], marker: str, wait_s: float = 3.0) -> set[int]:
    """Processes still alive after `wait_s` (children are reaped asynchronously)."""
    deadline = time.monotonic() + wait_s
    while True:
        left = (live_descendants() - before) | marked_processes(marker)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _wait_for_child(marker: str, earlier: set[int], timeout_s: float = 5.0) -> bool:
    """Whether a marked child other than `earlier` (still dying from the last solve)
    appeared within the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if marked_processes(marker) - earlier:
            return True
        time.sleep(0.01)
    return False


def _cancel_once(marker: str) -> None:
    stop = threading.Event()
    earlier = marked_processes(marker)
    # Cancel once the solver has started its own child, so the group kill is exercised.
    watcher = threading.Thread(target=lambda: (_wait_for_child(marker, earlier), stop.set()))
    watcher.start()
    report = run_portfolio(
        tiny_gap(3),
        RunOptions(time_limit_s=30, solvers=["spawner"]),
        stop=stop,
        breaker=SolverBreaker(),
    )
    watcher.join()
    run = report.solvers[0]
    assert run.stop_reason == "cancelled", run


def test_cancelled_solve_leaves_no_process(marker: str) -> None:
    before = live_descendants()
    _cancel_once(marker)
    left = _left_behind(before, marker)
    assert left == set(), describe(left)


def test_timed_out_solve_leaves_no_process(marker: str) -> None:
    before = live_descendants()
    report = run_portfolio(
        tiny_gap(3), RunOptions(time_limit_s=0.3, solvers=["spawner"]), breaker=SolverBreaker()
    )
    # Stopped at the request's limit (it had streamed a plan) or after its grace.
    assert report.solvers[0].stop_reason == "time_limit"
    assert "stopped" in " ".join(report.solvers[0].notes)
    left = _left_behind(before, marker)
    assert left == set(), describe(left)


def test_crashed_solver_leaves_no_process(marker: str) -> None:
    before = live_descendants()
    report = run_portfolio(
        tiny_gap(3), RunOptions(time_limit_s=5, solvers=["spawn_dier"]), breaker=SolverBreaker()
    )
    assert report.solvers[0].status == "error"
    left = _left_behind(before, marker)
    assert left == set(), describe(left)


def test_a_hundred_cancelled_solves_in_a_row_leave_no_orphan(marker: str) -> None:
    before = live_descendants()
    start = time.perf_counter()
    for _ in range(100):
        _cancel_once(marker)
    left = _left_behind(before, marker)
    assert left == set(), describe(left)
    assert time.perf_counter() - start < 60, "keep this test cheap"
    assert os.getpid() not in live_descendants()


def test_a_cancel_at_any_moment_of_the_launch_leaves_no_orphan(marker: str) -> None:
    """Cancels land before, during and after the child makes its own group and starts
    its child: whichever kill reaches it, nothing it started survives."""
    before = live_descendants()
    for delay_ms in range(0, 60, 2):
        stop = threading.Event()
        timer = threading.Timer(delay_ms / 1000, stop.set)
        timer.start()
        run_portfolio(
            tiny_gap(3),
            RunOptions(time_limit_s=30, solvers=["spawner"]),
            stop=stop,
            breaker=SolverBreaker(),
        )
        timer.join()
    left = _left_behind(before, marker)
    assert left == set(), describe(left)
