"""Leases, heartbeats, retries, dead letters and at-most-once completion."""

from __future__ import annotations

from allocator.coordinator import CoordinatorConfig, TaskSpec


def test_expired_lease_requeues_and_late_completion_is_rejected(make_coord, clock) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=CoordinatorConfig(lease_timeout_s=10.0, heartbeat_timeout_s=1e9))
    coord.submit(TaskSpec("t"))
    task = coord.next_for("a0")
    assert task is not None
    clock.advance(11.0)
    coord.tick()
    assert coord.task_state("t") == "queued"
    assert "expired" in (coord.complete("t", "a0") or "")
    again = coord.next_for("a1")
    assert again is not None and again.id == "t"
    assert coord.complete("t", "a1") is None
    assert "already completed" in (coord.complete("t", "a1") or "")
    assert coord.metrics().duplicate_completions == 1
    coord.validate()


def test_missed_heartbeat_takes_leases_back_and_opens_breaker(make_coord, clock) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=CoordinatorConfig(heartbeat_timeout_s=5.0))
    coord.submit(TaskSpec("t"))
    assert coord.next_for("a0") is not None
    clock.advance(3.0)
    coord.heartbeat("a0")
    clock.advance(3.0)
    coord.tick()
    assert coord.task_state("t") == "leased"  # heard from 3 s ago
    clock.advance(6.0)
    coord.tick()
    assert coord.task_state("t") == "queued"
    assert coord.agents["a0"].breaker.state == "open"
    assert coord.next_for("a0") is None
    assert coord.next_for("a1") is not None
    coord.validate()


def test_bounded_retries_then_dead_letter_with_errors(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(3, config=CoordinatorConfig(max_retries=2))
    coord.submit(TaskSpec("t"))
    for attempt in range(3):
        agent = f"a{attempt}"
        task = coord.next_for(agent)
        assert task is not None, attempt
        assert coord.fail("t", agent, f"boom {attempt}") is None
    assert coord.task_state("t") == "dead"
    assert coord.dead_letters()["t"] == ["a0: boom 0", "a1: boom 1", "a2: boom 2"]
    assert "dead-lettered" in (coord.complete("t", "a2") or "")
    coord.validate()


def test_prefetch_limits_what_an_agent_holds(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(1, config=CoordinatorConfig(prefetch=1))
    for i in range(5):
        coord.submit(TaskSpec(f"t{i}"))
    assert coord.next_for("a0") is not None
    assert coord.next_for("a0") is not None
    assert coord.next_for("a0") is None  # one running + one prefetched
    assert len(coord.global_queue) == 3
