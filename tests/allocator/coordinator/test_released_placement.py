"""Where released tasks go: to the agent that has waited longest for work, when it is
as good a home as the dispatcher's pick (least_loaded placement)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec

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
def test_a_released_task_goes_to_the_agent_waiting_longest(make_coord: Make, seed: int) -> None:
    coord = _spread(make_coord, [1.0] * 12, seed)
    coord.submit_all([TaskSpec("root"), TaskSpec("kid", after=("root",))])
    idle = _idle_others(coord, _holder(coord, "root") or "")
    _run(coord, "root")
    # Equal speeds: no sampled agent finishes sooner than an idle one.
    assert _holder(coord, "kid") == idle[0]
    task = coord.next_for(idle[0])
    assert task is not None and task.id == "kid"
    coord.validate()


@pytest.mark.parametrize("seed", range(4))
def test_tasks_released_together_go_by_rank_to_agents_in_waiting_order(
    make_coord: Make, seed: int
) -> None:
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
    assert _holder(coord, "heavy") == idle[0]  # highest upward rank first
    assert _holder(coord, "light") == idle[1]
    coord.validate()


def test_a_sampled_agent_that_finishes_sooner_beats_a_slow_waiting_one(make_coord: Make) -> None:
    coord = _spread(make_coord, [0.25, 4.0, 4.0, 4.0])
    coord.submit_all([TaskSpec("root", pinned_agent="a1"), TaskSpec("kid", after=("root",))])
    assert coord.next_for("a0") is None  # a0 waits for work, but is 16x slower
    _run(coord, "root")
    assert _holder(coord, "kid") in {"a1", "a2", "a3"}
    assert list(coord.awaiting) == [coord.agents["a0"]]  # still waiting, place kept
    coord.validate()


def test_an_agent_that_got_work_since_leaves_the_line(make_coord: Make) -> None:
    coord = _spread(make_coord, [1.0] * 4)
    coord.submit_all([TaskSpec("root", pinned_agent="a0"), TaskSpec("kid", after=("root",))])
    assert coord.next_for("a1") is None
    assert coord.next_for("a2") is None
    coord.submit(TaskSpec("direct", pinned_agent="a1"))  # a1 has work again
    _run(coord, "root")
    assert _holder(coord, "kid") == "a2"
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
    assert _holder(coord, "later") == "plain"
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
