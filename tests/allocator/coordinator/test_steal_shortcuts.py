"""Stealing's shortcuts decide exactly what the plain take-and-put-back path decides.

`steal_from` looks at a victim's tail in place (`steal_candidates`) and skips a
victim outright when no task of at least the smallest accepted est could pay
(`payback_bar`). Both are speed-ups only: a coordinator without them (a FIFO that
cannot list its tail, and no est bound) must make the same moves on the same run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from allocator.coordinator.queues.fifo import FifoQueue
from allocator.coordinator.records import TaskRecord
from allocator.coordinator.stealing import steal_from


class _TakeToLookFifo(FifoQueue):
    """A FIFO that, like the cfs queue, must give a task up to show it."""

    __slots__ = ()

    def steal_candidates(self) -> Iterator[tuple[int, TaskRecord]] | None:
        return None


class _NoBoundCoordinator(Coordinator):
    """Never learns a smallest est, so every victim's queue is looked at."""

    @property
    def min_est(self) -> float:
        return float("inf")

    @min_est.setter
    def min_est(self, value: float) -> None:
        pass


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _trace(coord: Coordinator, clock: _Clock, seed: int) -> list[tuple[str, str | None]]:
    """Random submits (varied work, some with `after`), pulls, completions, failures."""
    rng = random.Random(seed)
    for i in range(12):
        coord.register_agent(AgentSpec(f"a{i}", speed=1.0 + (i % 5)))
    out: list[tuple[str, str | None]] = []
    ids: list[str] = []
    for i in range(1_500):
        after = (rng.choice(ids),) if ids and rng.random() < 0.3 else ()
        work = rng.choice((0.2, 1.0, 1.0, 3.0, 8.0))
        tid = f"t{i}"
        coord.submit(TaskSpec(tid, work=work, after=after))
        ids.append(tid)
        for _ in range(rng.randint(0, 2)):
            agent = f"a{rng.randrange(12)}"
            task = coord.next_for(agent)
            out.append((agent, None if task is None else task.id))
            if task is not None:
                if rng.random() < 0.05:
                    coord.fail(task.id, agent, "boom")
                else:
                    coord.complete(task.id, agent)
        if i % 50 == 0:
            clock.now += 0.7
            coord.tick()
    coord.validate()
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("placement", ["least_loaded", "round_robin"])
def test_shortcuts_make_the_same_moves_as_the_plain_path(seed: int, placement: str) -> None:
    runs = []
    for cls, queue in ((Coordinator, "fifo"), (_NoBoundCoordinator, _TakeToLookFifo)):
        clock = _Clock()
        coord = cls(CoordinatorConfig(placement=placement), queue=queue, clock=clock)  # type: ignore[arg-type]
        trace = _trace(coord, clock, seed)
        m = coord.metrics()
        runs.append((trace, m.tasks_stolen, m.steal_attempts, m.completed))
    fast, plain = runs
    assert plain[1] > 0  # the run really stole, so the comparison says something
    assert fast == plain


def test_a_slow_thief_passes_a_fast_victim_without_touching_its_queue() -> None:
    coord = Coordinator(CoordinatorConfig(placement="least_loaded"), clock=_Clock())
    coord.register_agent(AgentSpec("fast", speed=10.0))
    for i in range(4):
        coord.submit(TaskSpec(f"t{i}", work=1.0))
    coord.register_agent(AgentSpec("slow", speed=1.0))  # after: all four sit on `fast`
    fast, slow = coord.agents["fast"], coord.agents["slow"]
    entries = list(fast.queue._entries())
    # fast drains its 4 in 0.4 s; the slow agent would need 1 s for one of them.
    moved = steal_from(coord, fast, slow, 0.0, 1, 0.0, coord.steal_policy.params)  # type: ignore[union-attr]
    assert moved == 0
    assert list(fast.queue._entries()) == entries  # same entries, same order: nothing taken out
    assert coord.metrics().steal_attempts == 1
    coord.validate()


def test_the_bound_lets_a_paying_move_through() -> None:
    coord = Coordinator(CoordinatorConfig(placement="least_loaded"), clock=_Clock())
    coord.register_agent(AgentSpec("busy", speed=1.0))
    for i in range(4):
        coord.submit(TaskSpec(f"t{i}", work=1.0))
    coord.register_agent(AgentSpec("idle", speed=1.0))
    task = coord.next_for("idle")  # busy needs 4 s for its last task, idle 1 s
    assert task is not None and task.prev_agent is coord.agents["busy"]
    coord.validate()


@pytest.mark.parametrize("seed", [0, 1])
def test_each_successful_steal_is_counted_once_with_its_one_task(seed: int) -> None:
    # The heaviest-victim policy moves one task per successful steal (batch 1), and a
    # victim passed over at the payback bar is an attempt that moved nothing.
    clock = _Clock()
    coord = Coordinator(CoordinatorConfig(placement="least_loaded"), clock=clock)
    _trace(coord, clock, seed)
    m = coord.metrics()
    assert m.tasks_stolen > 0
    assert m.steals_succeeded == m.tasks_stolen
    assert m.steal_attempts > m.steals_succeeded
