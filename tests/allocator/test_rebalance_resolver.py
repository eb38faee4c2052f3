"""Adaptive rebalancing with the real resolvers (re-planning, the portfolio), off the core."""

from __future__ import annotations

import pytest

from allocator.coordinator import (
    ApplyPlan,
    Coordinator,
    Rebalance,
    Rebalanced,
    Resolver,
    ResolveRequested,
    answer_request,
)
from allocator.coordinator.config import CoordinatorConfig
from allocator.coordinator.records import AgentSpec, TaskSpec
from allocator.rebalance_resolver import portfolio_resolver, replan_resolver


def _one_agent_took_everything() -> Coordinator:
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded"),
        clock=lambda: 0.0,
        agents=[AgentSpec(id="a")],
    )
    for j in range(12):
        coord.submit(TaskSpec(id=f"t{j}", work=5.0))
    coord.register_agent(AgentSpec(id="b"))
    coord.register_agent(AgentSpec(id="c"))
    return coord


def _rebalance(coord: Coordinator, resolver: Resolver, max_moves: int | None) -> Rebalanced:
    (request,) = coord.handle(Rebalance("adaptive", max_moves=max_moves))
    assert isinstance(request, ResolveRequested)
    answer = answer_request(request, resolver)
    assert isinstance(answer, ApplyPlan), answer
    commands = coord.handle(answer)
    coord.validate()
    return next(c for c in commands if isinstance(c, Rebalanced))


@pytest.mark.parametrize(
    "resolver", [replan_resolver(time_limit_s=1.5), portfolio_resolver(time_limit_s=1.5)]
)
def test_adaptive_rebalance_moves_queued_work_to_new_agents(resolver: Resolver) -> None:
    coord = _one_agent_took_everything()
    outcome = _rebalance(coord, resolver, None)
    assert outcome.strategy == "adaptive"
    assert outcome.applied and outcome.migrations >= 6, outcome.detail
    queued = sorted(agent.queued for agent in coord.snapshot().agents)
    assert queued[-1] - queued[0] <= 1, queued  # 12 equal tasks over 3 equal agents
    assert coord.metrics().queued == 12  # nothing lost


def test_replanning_moves_no_more_than_the_budget() -> None:
    coord = _one_agent_took_everything()
    outcome = _rebalance(coord, replan_resolver(time_limit_s=1.5), 3)
    assert outcome.applied and outcome.migrations == 3, outcome.detail
    assert "max_moves" not in outcome.detail  # the re-plan kept the budget by itself
    queued = {a.id: a.queued for a in coord.snapshot().agents}
    assert queued["a"] == 9 and sum(queued.values()) == 12
