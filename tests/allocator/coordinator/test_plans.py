"""Plan application and rebalancing: threshold at once, adaptive as a re-solve round trip."""

from __future__ import annotations

import pytest

from allocator.coordinator import (
    AgentSpec,
    ApplyPlan,
    CoordinatorConfig,
    CoordinatorError,
    Migrated,
    PlanApplied,
    Rebalance,
    Rebalanced,
    ResolveDeclined,
    ResolveRequested,
    TaskSpec,
    answer_request,
)
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
    coord.drain_commands()


def test_threshold_rebalancing_evens_backlog_and_is_stable(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(4, config=LL)
    _overload(coord)
    out = coord.rebalance("threshold", tolerance=0.2)
    assert out.migrations > 0
    backlogs = [a.backlog_s() for a in coord.agent_list]
    assert max(backlogs) <= 1.2 * sum(backlogs) / 4 + 1.0
    assert coord.rebalance("threshold").migrations == 0  # nothing moves back
    coord.validate()


def _spread(problem: Problem, max_moves: int | None = None) -> Plan:
    agents = [a.id for a in problem.agents]
    return Plan(assignments={t.id: agents[i % len(agents)] for i, t in enumerate(problem.tasks)})


def _same(problem: Problem, max_moves: int | None = None) -> Plan:
    return Plan(assignments={t.id: t.current_agent or "" for t in problem.tasks})


def _queued_on(coord) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {a.id: a.queued for a in coord.snapshot().agents}


def test_adaptive_asks_for_a_resolve_and_moves_nothing_until_it_is_answered(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)
    _overload(coord)
    commands = coord.handle(Rebalance("adaptive", margin=0.2))
    assert len(commands) == 1 and isinstance(commands[0], ResolveRequested)
    request = commands[0]
    assert request.margin == 0.2 and len(request.problem.tasks) == 20
    assert all(t.current_agent == "a0" for t in request.problem.tasks)
    assert _queued_on(coord) == {"a0": 20, "a1": 0}  # nothing moved yet
    assert coord.snapshot().resolve_in_flight == request.request_id
    again = coord.handle(Rebalance("adaptive"))
    assert again == [Rebalanced("adaptive", 0, again[0].detail, False)]  # type: ignore[union-attr]
    assert "still in flight" in again[0].detail  # type: ignore[union-attr]


def test_adaptive_applies_only_a_clear_improvement(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)
    _overload(coord)
    request = coord.rebalance("adaptive").request
    kept = answer_request(request, _same)
    assert isinstance(kept, ResolveDeclined) and "margin" in kept.reason
    assert coord.handle(kept) == [Rebalanced("adaptive", 0, kept.reason, False)]
    request = coord.rebalance("adaptive").request
    plan = answer_request(request, _spread)
    assert isinstance(plan, ApplyPlan) and plan.request_id == request.request_id
    applied, rebalanced = coord.handle(plan)[:2]
    assert applied == PlanApplied(10, 10, {})
    assert isinstance(rebalanced, Rebalanced) and rebalanced.applied
    assert rebalanced.migrations == 10 and "objective" in rebalanced.detail
    assert _queued_on(coord) == {"a0": 10, "a1": 10}
    moves = [c for c in coord.drain_commands() if isinstance(c, Migrated)]
    assert not moves  # handle() already returned them after its direct result
    coord.validate()


def test_a_stale_plan_moves_only_tasks_still_queued(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)  # FIFO queues: a0 serves its tasks in the problem's order
    _overload(coord)
    request = coord.rebalance("adaptive").request
    order = [t.id for t in request.problem.tasks]  # all 20 queued on a0 when it was asked

    def head_to_a1(problem: Problem, max_moves: int | None = None) -> Plan:
        return Plan(assignments={tid: "a1" if k < 10 else "a0" for k, tid in enumerate(order)})

    answer = answer_request(request, head_to_a1)
    assert isinstance(answer, ApplyPlan)
    assert set(answer.plan.assignments) == set(order[:10])  # it names only the moves
    first, second = coord.next_for("a0"), coord.next_for("a0")  # meanwhile a0 starts two
    assert first is not None and second is not None and [first.id, second.id] == order[:2]
    assert coord.complete(first.id, "a0") is None
    coord.apply_plan(Plan(assignments={order[-1]: "a1"}))  # an operator moves a kept one
    coord.submit(TaskSpec("late"))  # and a task arrives the plan does not know
    outcome = coord.answer_resolve(answer)
    assert outcome.applied and outcome.plan is not None
    skipped = outcome.plan.skipped
    assert set(skipped) == set(order[:2])  # finished and running tasks stay where they are
    assert "completed" in skipped[order[0]] and "running" in skipped[order[1]]
    assert outcome.migrations == 8 and "2 planned tasks skipped" in outcome.detail
    assert all(coord.tasks[tid].agent.id == "a1" for tid in order[2:10])
    assert coord.tasks[order[-1]].agent.id == "a1"  # not pulled back: the plan kept it
    assert coord.task_state("late") == "queued"  # unknown to the plan: untouched
    coord.validate()


def test_max_moves_keeps_only_the_best_moves(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)
    _overload(coord)
    request = coord.rebalance("adaptive", max_moves=3).request
    assert request is not None and request.max_moves == 3
    answer = answer_request(request, _spread)  # wants 10 moves
    assert isinstance(answer, ApplyPlan) and len(answer.plan.assignments) == 3
    assert "the best 3 of its 10 moves" in answer.note
    outcome = coord.answer_resolve(answer)
    assert outcome.migrations == 3 and _queued_on(coord) == {"a0": 17, "a1": 3}
    with pytest.raises(CoordinatorError, match="max_moves is 0"):
        coord.rebalance("adaptive", max_moves=0)


def test_an_answer_to_no_pending_request_is_ignored(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=LL)
    _overload(coord)
    out = coord.handle(ApplyPlan(Plan(assignments={"t1": "a1"}), request_id=7))
    assert out == [Rebalanced("adaptive", 0, out[0].detail, False)]  # type: ignore[union-attr]
    assert "no re-solve 7 is pending" in out[0].detail  # type: ignore[union-attr]
    assert _queued_on(coord) == {"a0": 20, "a1": 0}


def test_a_failing_resolver_still_closes_the_request(make_coord) -> None:  # type: ignore[no-untyped-def]
    def broken(problem: Problem, max_moves: int | None = None) -> Plan:
        raise RuntimeError("solver crashed")

    coord = make_coord(2, config=LL)
    _overload(coord)
    answer = answer_request(coord.rebalance("adaptive").request, broken)
    assert isinstance(answer, ResolveDeclined) and "solver crashed" in answer.reason
    assert not coord.answer_resolve(answer).applied
    assert coord.snapshot().resolve_in_flight is None
    assert coord.rebalance("adaptive").request is not None  # a new one may start


def test_rebalance_refuses_bad_arguments_with_what_to_use(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2)
    with pytest.raises(CoordinatorError, match="choose one of threshold, adaptive"):
        coord.handle(Rebalance("magic"))
    with pytest.raises(CoordinatorError, match="margin"):
        coord.rebalance("adaptive", margin=1.5)
