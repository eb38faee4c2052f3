"""Dependencies (`after`) in the coordinator: readiness, order, holds, errors, restore."""

from __future__ import annotations

import pytest

from allocator.coordinator import (
    AgentSpec,
    Coordinator,
    CoordinatorConfig,
    DependencyError,
    FailTask,
    Held,
    TaskSpec,
)
from models import Plan
from models.plan import ScheduledTask


def _coord(agents: int = 1, retries: int = 0) -> Coordinator:
    coord = Coordinator(
        CoordinatorConfig(placement="global", max_retries=retries), clock=lambda: 0.0
    )
    for i in range(agents):
        coord.register_agent(AgentSpec(f"a{i}"))
    return coord


def _run_one(coord: Coordinator, agent: str = "a0") -> str | None:
    task = coord.next_for(agent)
    if task is None:
        return None
    assert coord.complete(task.id, agent) is None
    return task.id


def test_a_task_waits_until_every_predecessor_completed() -> None:
    coord = _coord()
    coord.submit_all([TaskSpec("join", after=("x", "y")), TaskSpec("x"), TaskSpec("y", work=2.0)])
    assert coord.task_state("join") == "waiting"
    assert coord.snapshot().waiting == 1
    first = _run_one(coord)
    assert coord.task_state("join") == "waiting"
    second = _run_one(coord)
    assert {first, second} == {"x", "y"}
    assert coord.task_state("join") == "queued"
    assert _run_one(coord) == "join"
    coord.validate()


def test_ready_tasks_go_by_upward_rank_without_a_plan() -> None:
    # root -> short (1) ; root -> long (1) -> tail (5): long leads the critical path.
    coord = _coord()
    coord.submit_all(
        [
            TaskSpec("root"),
            TaskSpec("short", after=("root",)),
            TaskSpec("long", after=("root",)),
            TaskSpec("tail", work=5.0, after=("long",)),
        ]
    )
    assert coord.deps.waiting["long"].rank == 6.0 and coord.deps.waiting["short"].rank == 1.0
    order = [_run_one(coord) for _ in range(4)]
    assert order == ["root", "long", "short", "tail"]


def test_a_later_submission_raises_its_waiting_predecessors_rank_one_level() -> None:
    # root -> a (1), root -> b (2); later c (4) after a: a's rank 1 -> 5 passes b's 2,
    # so a is released first; root's own rank is not raised (one level only).
    coord = _coord()
    coord.submit(TaskSpec("root"))
    coord.submit(TaskSpec("a", after=("root",)))
    coord.submit(TaskSpec("b", work=2.0, after=("root",)))
    coord.submit(TaskSpec("c", work=4.0, after=("a",)))
    assert coord.deps.waiting["a"].rank == 5.0
    assert coord.tasks["root"].rank == 1.0  # queued, and one level only
    coord.validate()
    order = [_run_one(coord) for _ in range(4)]
    assert order == ["root", "a", "b", "c"]


def test_ready_tasks_follow_the_applied_schedule_and_its_agents() -> None:
    coord = _coord(agents=2)
    coord.submit_all(
        [TaskSpec("root"), TaskSpec("p", after=("root",)), TaskSpec("q", after=("root",))]
    )
    schedule = {
        "p": ScheduledTask(agent="a1", start=5.0, finish=6.0),
        "q": ScheduledTask(agent="a1", start=1.0, finish=2.0),
    }
    result = coord.apply_plan(Plan(assignments={"p": "a1", "q": "a1"}, schedule=schedule))
    assert result.waiting_planned == 2
    assert _run_one(coord, "a0") == "root"
    # Both queued on a1 (the plan's agent), q first (earlier planned start).
    assert [t.id for t in coord.agents["a1"].queue.tasks()] == ["q", "p"]
    assert _run_one(coord, "a1") == "q"
    coord.validate()


def test_a_dead_predecessor_holds_its_dependants_transitively_and_says_so() -> None:
    coord = _coord(retries=0)
    coord.submit_all(
        [
            TaskSpec("a"),
            TaskSpec("b", after=("a",)),
            TaskSpec("c", after=("b",)),
            TaskSpec("free"),
        ]
    )
    task = coord.next_for("a0")
    assert task is not None and task.id == "a"
    out = coord.handle(FailTask("a", "a0", "boom"))
    assert Held("b", "a") in out and Held("c", "a") in out
    assert coord.task_state("b") == "held" and coord.task_state("c") == "held"
    assert coord.snapshot().held == {"b": "a", "c": "a"}
    assert coord.metrics().held == 2
    # A task submitted later after a held one is held at once; "free" still runs.
    coord.submit(TaskSpec("d", after=("c",)))
    assert coord.task_state("d") == "held" and coord.held_tasks()["d"] == "a"
    assert _run_one(coord) == "free"
    assert _run_one(coord) is None
    coord.validate()


def test_unknown_predecessor_self_reference_and_cycle_are_typed_errors() -> None:
    coord = _coord()
    with pytest.raises(DependencyError, match="unknown task 'nope'"):
        coord.submit(TaskSpec("t", after=("nope",)))
    with pytest.raises(DependencyError, match="lists itself"):
        coord.submit_all([TaskSpec("t", after=("t",))])
    with pytest.raises(DependencyError, match="cycle") as info:
        coord.submit_all(
            [TaskSpec("x", after=("z",)), TaskSpec("y", after=("x",)), TaskSpec("z", after=("y",))]
        )
    assert set(info.value.cycle) == {"x", "y", "z"}
    assert not coord.tasks and not coord.deps.waiting  # nothing of a refused batch stays
    coord.validate()


def test_a_rejected_predecessor_takes_its_batch_dependants_with_it() -> None:
    coord = _coord()
    accepted, rejected = coord.submit_all(
        [TaskSpec("gpu", requires=frozenset({"gpu"})), TaskSpec("after_gpu", after=("gpu",))]
    )
    assert not accepted
    assert rejected["after_gpu"] == "predecessor gpu was rejected"
    coord.validate()


def test_restore_keeps_waiting_and_held_tasks() -> None:
    coord = _coord(retries=0)
    coord.submit_all(
        [
            TaskSpec("a"),
            TaskSpec("b"),
            TaskSpec("wait", after=("a",)),
            TaskSpec("hold", after=("b",)),
        ]
    )
    first = coord.next_for("a0")
    assert first is not None
    coord.fail(first.id, "a0")  # first is "a" or "b": one dependant held, one waits
    state = coord.durable_state()
    fresh = _coord(retries=0)
    assert fresh.restore(state) == {}
    fresh.validate()
    assert fresh.deps.blocked_by == coord.deps.blocked_by
    assert set(fresh.deps.waiting) == set(coord.deps.waiting)
    assert _run_one(fresh) is not None  # the surviving root, then its dependant
    assert _run_one(fresh) is not None
    assert not fresh.deps.waiting
    fresh.validate()


def test_token_totals_per_agent_kind_and_tenant_sum_to_the_total() -> None:
    coord = _coord(agents=2)
    coord.register_agent(AgentSpec("priced", token_price=2.0))
    coord.tokens.price_per_1k = 0.5
    for i, (agent, tenant) in enumerate([("a0", "x"), ("priced", "y"), ("a1", "x")]):
        coord.submit(TaskSpec(f"t{i}", kind="k" if i else None, tenant=tenant))
        task = coord.next_for(agent)
        assert task is not None
        coord.complete(task.id, agent, tokens=1000 * (i + 1))
    totals = coord.snapshot().tokens
    assert totals is not None
    assert totals.total.tokens == 6000
    # t0 on a0 at the swarm price 0.5, t1 on "priced" at 2.0, t2 on a1 at 0.5.
    assert totals.total.cost == pytest.approx(0.5 + 4.0 + 1.5)
    for table in (totals.by_agent, totals.by_kind, totals.by_tenant):
        assert sum(v.tokens for v in table.values()) == 6000
        assert sum(v.cost for v in table.values()) == pytest.approx(totals.total.cost)
    assert totals.by_agent["priced"].cost == pytest.approx(4.0)
    assert totals.by_kind["(none)"].tokens == 1000
