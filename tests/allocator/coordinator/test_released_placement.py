"""Where released tasks go with least_loaded placement: a task any agent may run waits in
the global queue for the next agent free to pull it (late binding, speed-aware); a task
with rules goes to the agent that has waited longest for work when it is as good a home
as the dispatcher's pick. Pulls take unclaimed (global) work before stealing."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from allocator.coordinator.queues.fifo import FifoQueue
from allocator.coordinator.records import AgentRecord, TaskRecord

Make = Callable[..., Coordinator]


def _spread(make_coord: Make, speeds: list[float], seed: int = 3) -> Coordinator:
    config = CoordinatorConfig(placement="least_loaded", seed=seed)
    return make_coord(len(speeds), speeds, config=config, steal="heaviest")


def _holder(coord: Coordinator, task_id: str) -> str | None:
    agent = coord.tasks[task_id].agent
    return None if agent is None else agent.id


def _run(coord: Coordinator, task_id: str) -> None:
    """Pull `task_id` on the agent holding it and complete it there."""
    agent = _holder(coord, task_id)
    assert agent is not None
    task = coord.next_for(agent)
    assert task is not None and task.id == task_id
    assert coord.complete(task_id, agent) is None


def _idle_others(coord: Coordinator, busy: str) -> list[str]:
    """Every agent but `busy` pulls and finds nothing, in id order."""
    idle = [a for a in sorted(coord.agents) if a != busy]
    for agent in idle:
        assert coord.next_for(agent) is None
    return idle


@pytest.mark.parametrize("seed", range(4))
def test_a_released_task_waits_in_the_global_queue_for_the_next_pull(
    make_coord: Make, seed: int
) -> None:
    coord = _spread(make_coord, [1.0] * 12, seed)
    coord.submit_all([TaskSpec("root"), TaskSpec("kid", after=("root",))])
    idle = _idle_others(coord, _holder(coord, "root") or "")
    _run(coord, "root")
    assert _holder(coord, "kid") is None and coord.task_state("kid") == "queued"
    late = idle[-1]  # any agent free to pull gets it, not only the one waiting longest
    task = coord.next_for(late)
    assert task is not None and task.id == "kid"
    coord.validate()


@pytest.mark.parametrize("seed", range(4))
def test_tasks_released_together_are_pulled_highest_rank_first(make_coord: Make, seed: int) -> None:
    coord = _spread(make_coord, [1.0] * 12, seed)
    coord.submit_all(
        [
            TaskSpec("root"),
            TaskSpec("light", work=1.0, after=("root",)),
            TaskSpec("heavy", work=3.0, after=("root",)),
        ]
    )
    idle = _idle_others(coord, _holder(coord, "root") or "")
    _run(coord, "root")
    first, second = coord.next_for(idle[3]), coord.next_for(idle[0])
    assert first is not None and first.id == "heavy"  # highest upward rank first
    assert second is not None and second.id == "light"
    coord.validate()


def test_a_slow_agent_leaves_a_released_task_to_a_faster_one(make_coord: Make) -> None:
    coord = _spread(make_coord, [0.25, 4.0, 4.0, 4.0])
    coord.submit_all([TaskSpec("root", pinned_agent="a1"), TaskSpec("kid", after=("root",))])
    _run(coord, "root")
    # a0 would need 4 s where a fast agent needs 0.25 s and the pool frees up at once.
    assert coord.next_for("a0") is None
    task = coord.next_for("a2")
    assert task is not None and task.id == "kid"
    coord.validate()


def test_a_released_task_with_rules_goes_to_the_agent_waiting_longest(clock: object) -> None:
    coord = Coordinator(CoordinatorConfig(placement="least_loaded", seed=1), clock=clock)  # type: ignore[arg-type]
    for i in range(4):
        coord.register_agent(AgentSpec(f"a{i}", capabilities=frozenset({"x"})))
    coord.submit_all(
        [
            TaskSpec("root", pinned_agent="a0"),
            TaskSpec("kid", requires=frozenset({"x"}), after=("root",)),
        ]
    )
    assert coord.next_for("a1") is None
    assert coord.next_for("a2") is None
    coord.submit(TaskSpec("direct", pinned_agent="a1"))  # a1 has work again
    _run(coord, "root")
    assert _holder(coord, "kid") == "a2"  # a1 left the line when it got work
    assert not coord.agents["a1"].awaiting
    coord.validate()


def test_a_waiting_agent_that_may_not_run_the_task_keeps_its_place(clock: object) -> None:
    config = CoordinatorConfig(placement="least_loaded", seed=1)
    coord = Coordinator(config, clock=clock)  # type: ignore[arg-type]
    coord.register_agent(AgentSpec("plain"))
    coord.register_agent(AgentSpec("gpu", capabilities=frozenset({"gpu"})))
    coord.submit_all(
        [
            TaskSpec("root", pinned_agent="gpu"),
            TaskSpec("render", requires=frozenset({"gpu"}), after=("root",)),
            TaskSpec("later", after=("render",)),
        ]
    )
    assert coord.next_for("plain") is None
    _run(coord, "root")
    assert _holder(coord, "render") == "gpu"  # plain may not run it
    assert list(coord.awaiting) == [coord.agents["plain"]]
    _run(coord, "render")
    task = coord.next_for("plain")  # `later` has no rules: the global queue, then plain
    assert task is not None and task.id == "later"
    coord.validate()


def test_a_pull_takes_global_work_before_stealing(make_coord: Make) -> None:
    coord = _spread(make_coord, [1.0, 1.0])
    for i in range(4):
        coord.submit(TaskSpec(f"busy{i}", pinned_agent="a0"))
    coord.submit_all([TaskSpec("root", pinned_agent="a1"), TaskSpec("kid", after=("root",))])
    _run(coord, "root")
    task = coord.next_for("a1")
    assert task is not None and task.id == "kid"
    assert len(coord.agents["a0"].queue) == 4 and coord.metrics().tasks_stolen == 0
    coord.validate()


def test_global_placement_keeps_released_tasks_in_the_global_queue(make_coord: Make) -> None:
    coord = make_coord(3, config=CoordinatorConfig(placement="global"))
    coord.submit_all([TaskSpec("root"), TaskSpec("kid", after=("root",))])
    task = coord.next_for("a0")
    assert task is not None and task.id == "root"
    assert coord.next_for("a1") is None
    assert not coord.awaiting  # only least_loaded placement keeps the line
    assert coord.complete("root", "a0") is None
    assert _holder(coord, "kid") is None and coord.task_state("kid") == "queued"
    coord.validate()


class _FullLookahead(Coordinator):
    """A coordinator whose slow agents' pulls always go through `pull_global`'s pops."""

    def _pull_global(self, agent: AgentRecord, now: float) -> TaskRecord | None:
        self.global_constrained = True  # as if a task with rules might be queued
        return super()._pull_global(agent, now)


#: Pops per queue object (by id), counted while the equivalence test runs.
_POPS: dict[int, int] = {}


class _Counting(Coordinator):
    """Counts global pulls that found nothing without popping the global queue."""

    declined_early = 0

    def _pull_global(self, agent: AgentRecord, now: float) -> TaskRecord | None:
        key = id(self.global_queue)
        before = _POPS.get(key, 0)
        task = super()._pull_global(agent, now)
        self.declined_early += task is None and _POPS.get(key, 0) == before
        return task


def _decisions(cls: type[Coordinator], seed: int) -> tuple[list[str], Coordinator]:
    """A seeded DAG run on agents of speeds 1-5 (some tasks with rules): every pull."""
    rng = random.Random(seed)
    coord = cls(CoordinatorConfig(placement="least_loaded", seed=seed), steal="heaviest")
    for i in range(12):
        caps = frozenset({"gpu"}) if i % 4 == 0 else frozenset()
        coord.register_agent(AgentSpec(f"a{i}", speed=1.0 + i % 5, capabilities=caps))
    specs = []
    for i in range(300):
        after = tuple(f"t{rng.randrange(i)}" for _ in range(2)) if i > 20 else ()
        rules = frozenset({"gpu"}) if rng.random() < 0.05 else frozenset()
        specs.append(TaskSpec(f"t{i}", work=rng.uniform(0.5, 3.0), after=after, requires=rules))
    coord.submit_all(specs)
    trace, j = [], 0
    while len(coord.done) < len(specs):
        agent = f"a{(j * 5) % 12}"
        j += 1
        task = coord.next_for(agent)
        trace.append(f"{agent}<{None if task is None else task.id}")
        if task is not None:
            coord.complete(task.id, agent)
    coord.validate()
    return trace, coord


@pytest.mark.parametrize("seed", range(3))
def test_declining_a_slow_agent_early_changes_no_decision(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo_pop = FifoQueue.pop

    def counted_pop(queue: FifoQueue, now: float) -> TaskRecord | None:
        _POPS[id(queue)] = _POPS.get(id(queue), 0) + 1
        return fifo_pop(queue, now)

    monkeypatch.setattr(FifoQueue, "pop", counted_pop)
    fast_trace, fast = _decisions(_Counting, seed)
    full_trace, _ = _decisions(_FullLookahead, seed)
    assert fast_trace == full_trace
    assert isinstance(fast, _Counting) and fast.declined_early > 0  # the shortcut ran
