"""`Coordinator.tune` (checked live settings that take effect) and `snapshot()`."""

from __future__ import annotations

import dataclasses

import pytest

from allocator.coordinator import (
    AgentSpec,
    Coordinator,
    CoordinatorConfig,
    TaskSpec,
    TuningError,
)
from models import Plan
from tests.allocator.coordinator.conftest import ManualClock


def test_tune_returns_the_settings_now_in_force(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, queue="priority", steal="heaviest")
    settings = coord.tune(lease_timeout_s=60, max_retries=5, prefetch=2, aging_s=7.5)
    assert settings == coord.snapshot().settings
    assert (settings.lease_timeout_s, settings.max_retries, settings.prefetch) == (60, 5, 2)
    assert settings.aging_s == 7.5 and settings.steal_threshold == 2
    assert settings.heartbeat_timeout_s == CoordinatorConfig().heartbeat_timeout_s  # kept


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"lease_timeout_s": 0}, "lease_timeout_s is 0; use a positive, finite number"),
        ({"heartbeat_timeout_s": float("nan")}, "heartbeat_timeout_s is nan"),
        ({"max_retries": -1}, "max_retries is -1; use a whole number >= 0"),
        ({"prefetch": 1.5}, "prefetch is 1.5; use a whole number"),
        ({"steal_threshold": 0}, "steal_threshold is 0; use a whole number >= 1"),
        ({"aging_s": True}, "aging_s is True"),
    ],
)
def test_a_bad_value_is_refused_by_name_and_changes_nothing(
    make_coord,  # type: ignore[no-untyped-def]
    change: dict[str, object],
    says: str,
) -> None:
    coord = make_coord(2, queue="priority")
    before = coord.snapshot().settings
    with pytest.raises(TuningError, match=says) as caught:
        coord.tune(**{"max_retries": 9, "prefetch": 3, **change})  # good ones beside: kept out
    assert caught.value.setting == next(iter(change))
    assert coord.snapshot().settings == before


def test_a_shorter_lease_timeout_applies_to_leases_already_granted(
    make_coord,  # type: ignore[no-untyped-def]
    clock: ManualClock,
) -> None:
    coord = make_coord(1, config=CoordinatorConfig(lease_timeout_s=300, heartbeat_timeout_s=1e4))
    coord.submit(TaskSpec("t"))
    assert coord.next_for("a0") is not None
    coord.tune(lease_timeout_s=10)
    clock.advance(11)
    coord.heartbeat("a0")
    coord.tick()
    assert coord.task_state("t") == "queued" and coord.metrics().lease_expiries == 1


def test_a_shorter_heartbeat_timeout_recalls_a_silent_agent_sooner(
    make_coord,  # type: ignore[no-untyped-def]
    clock: ManualClock,
) -> None:
    coord = make_coord(2, config=CoordinatorConfig(heartbeat_timeout_s=30))
    coord.submit(TaskSpec("t"))
    assert coord.next_for("a0") is not None
    coord.tune(heartbeat_timeout_s=5)
    clock.advance(6)
    coord.tick()
    assert coord.task_state("t") == "queued"
    assert {a.id: a.breaker for a in coord.snapshot().agents}["a0"] == "open"


def test_prefetch_limits_leases_per_agent_at_once(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(1, config=CoordinatorConfig(prefetch=0))
    for i in range(5):
        coord.submit(TaskSpec(f"t{i}"))
    assert coord.next_for("a0") is not None and coord.next_for("a0") is None
    coord.tune(prefetch=2)
    assert coord.next_for("a0") is not None and coord.next_for("a0") is not None
    assert coord.next_for("a0") is None  # 1 slot + 2 prefetched
    coord.validate()


def test_a_lower_steal_threshold_lets_an_idle_agent_take_a_single_queued_task(
    make_coord,  # type: ignore[no-untyped-def]
    clock: ManualClock,
) -> None:
    coord = make_coord(2, steal="heaviest")
    coord.submit(TaskSpec("t0"))
    coord.submit(TaskSpec("t1"))
    coord.apply_plan(Plan(assignments={"t0": "a0", "t1": "a0"}))
    assert coord.next_for("a0") is not None  # a0 runs one; one waits behind it
    clock.advance(5)
    assert coord.next_for("a1") is None  # a queue of 1 is under the threshold of 2
    coord.tune(steal_threshold=1)
    stolen = coord.next_for("a1")
    assert stolen is not None and coord.metrics().tasks_stolen == 1
    coord.validate()  # the load index was refiled for the new threshold


def test_new_agents_get_the_tuned_aging() -> None:
    coord = Coordinator(queue="priority", clock=ManualClock())
    coord.tune(aging_s=4.0)
    coord.register_agent(AgentSpec("late"))
    assert coord.agents["late"].queue.aging_s == 4.0  # type: ignore[attr-defined]


def test_knobs_the_policy_lacks_are_reported_as_none() -> None:
    coord = Coordinator(queue="fifo", steal="steal_half", clock=ManualClock())
    settings = coord.tune(steal_threshold=3, aging_s=3.0)
    assert settings.steal_threshold is None and settings.aging_s is None


def test_snapshot_is_frozen_and_agrees_with_the_kpis(make_coord, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(3, queue="priority", config=CoordinatorConfig(placement="least_loaded"))
    for i in range(7):
        coord.submit(TaskSpec(f"t{i}"))
    first = coord.next_for("a0")
    assert first is not None
    clock.advance(2)
    coord.complete(first.id, "a0")
    clock.advance(2)
    snap = coord.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.at = 0.0  # type: ignore[misc]
    metrics = snap.metrics
    assert snap.at == metrics.now == 4.0
    assert (snap.discipline, snap.steal_policy) == ("priority", "heaviest")
    assert [a.id for a in snap.agents] == ["a0", "a1", "a2"]
    assert sum(a.queued for a in snap.agents) + metrics.queued_global == metrics.queued == 6
    assert sum(a.completed for a in snap.agents) == metrics.completed == 1
    mean_utilisation = sum(a.utilisation for a in snap.agents) / len(snap.agents)
    assert mean_utilisation == pytest.approx(metrics.utilisation_efficiency)
    assert {a.id: a.utilisation for a in snap.agents}["a0"] == pytest.approx(2 / 4)
