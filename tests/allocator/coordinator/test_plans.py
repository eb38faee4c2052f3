"""Plan application and rebalancing (threshold, adaptive with an injected resolver)."""

from __future__ import annotations

from allocator.coordinator import AgentSpec, CoordinatorConfig, TaskSpec
from models import Plan, Problem

LL = CoordinatorConfig(placement="least_loaded")


def test_apply_plan_moves_queued_tasks_and_counts_migrations(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(3, config=CoordinatorConfig(placement="global"))
    for i in range(4):
        coord.submit(TaskSpec(f"t{i}"))
    leased = coord.next_for("a2")
    assert leased is not None
    result = coord.apply_plan(
        Plan(assignments={"t1": "a0", "t2": "a1", "t3": "a1", leased.id: "a0", "ghost": "a0"})
    )
    assert result.moved == 3 and result.migrations == 0  # out of the global queue
    assert "running" in result.skipped[leased.id] and "unknown" in result.skipped["ghost"]
    again = coord.apply_plan(Plan(assignments={"t1": "a1", "t2": "nobody"}))
    assert again.migrations == 1 and "unknown agent" in again.skipped["t2"]
    assert coord.metrics().migrations == 1
    coord.validate()


def test_apply_plan_refuses_ineligible_agents(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(1, config=LL)
    coord.register_agent(AgentSpec("gpu", capabilities=frozenset({"gpu"})))
    coord.submit(TaskSpec("t", requires=frozenset({"gpu"})))
    result = coord.apply_plan(Plan(assignments={"t": "a0"}))
    assert "not eligible" in result.skipped["t"]


def _overload(coord) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        coord.submit(TaskSpec(f"t{i}", pinned_agent=None))
    coord.apply_plan(Plan(assignments={f"t{i}": "a0" for i in range(20)}))


def test_threshold_rebalancing_evens_backlog_and_is_stable(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(4, config=LL)
    _overload(coord)
    out = coord.rebalance("threshold", tolerance=0.2)
    assert out.migrations > 0
    backlogs = [a.backlog_s() for a in coord.agent_list]
    assert max(backlogs) <= 1.2 * sum(backlogs) / 4 + 1.0
    assert coord.rebalance("threshold").migrations == 0  # nothing moves back
    coord.validate()


def test_adaptive_without_resolver_falls_back_to_threshold(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)
    _overload(coord)
    out = coord.rebalance("adaptive")
    assert out.strategy == "adaptive" and "no resolver" in out.detail and out.migrations > 0


def test_adaptive_applies_only_a_clear_improvement(make_coord) -> None:  # type: ignore[no-untyped-def]
    seen: list[Problem] = []

    def spread(problem: Problem) -> Plan:
        seen.append(problem)
        agents = [a.id for a in problem.agents]
        return Plan(
            assignments={t.id: agents[i % len(agents)] for i, t in enumerate(problem.tasks)}
        )

    def same(problem: Problem) -> Plan:
        return Plan(assignments={t.id: t.current_agent or "" for t in problem.tasks})

    coord = make_coord(2, config=LL, resolver=same)
    _overload(coord)
    kept = coord.rebalance("adaptive")
    assert not kept.applied and "margin" in kept.detail
    coord.resolver = spread
    out = coord.rebalance("adaptive")
    assert out.applied and out.migrations == 10
    assert all(t.current_agent == "a0" for t in seen[0].tasks)
    coord.validate()
