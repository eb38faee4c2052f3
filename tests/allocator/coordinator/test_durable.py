"""Durable state out and back in: nothing lost, leased work queued again, history kept."""

from __future__ import annotations

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from tests.allocator.coordinator.conftest import ManualClock


def _worked_coordinator(clock: ManualClock) -> Coordinator:
    coord = Coordinator(CoordinatorConfig(max_retries=0), clock=clock)
    coord.register_agent(AgentSpec("a0", capabilities=frozenset({"gpu"})))
    coord.register_agent(AgentSpec("a1"))
    for i in range(5):
        coord.submit(TaskSpec(f"t{i}", work=2.0, tenant="x"))
    coord.submit(TaskSpec("gpu", requires=frozenset({"gpu"}), priority=0))
    done = coord.next_for("a1")
    dying = coord.next_for("a0")
    retried = coord.next_for("a1")
    assert done and dying and retried
    coord.complete(done.id, "a1")
    coord.fail(dying.id, "a0", "out of memory")  # max_retries=0: dead-lettered
    coord.tasks[retried.id].attempts = 1  # an earlier attempt, to see it kept
    return coord


def test_restore_keeps_every_task_and_queues_leased_work_again() -> None:
    clock = ManualClock()
    old = _worked_coordinator(clock)
    state = old.durable_state()
    leased = {t.id for t in old.tasks.values() if old.task_state(t.id) == "leased"}
    assert leased
    new = Coordinator(CoordinatorConfig(max_retries=0), clock=clock)
    assert new.restore(state) == {}
    new.validate()
    assert {a.id for a in new.snapshot().agents} == {"a0", "a1"}
    assert set(new.tasks) == set(old.tasks) and all(
        new.task_state(t) == "queued" for t in new.tasks
    )
    assert new.done == old.done and set(new.dead) == set(old.dead)
    assert new.dead_letters() == old.dead_letters()
    for task_id, task in old.tasks.items():
        assert new.tasks[task_id].attempts == task.attempts
        assert new.tasks[task_id].requires == task.requires
    again = new.durable_state()  # a second save writes the same state
    assert (again.agents, again.tasks, again.dead) == (state.agents, state.tasks, state.dead)
    assert set(again.done) == set(state.done)
