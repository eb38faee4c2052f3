"""Adaptive rebalancing with the real portfolio as the resolver, answered off the core."""

from __future__ import annotations

from allocator.coordinator import (
    ApplyPlan,
    Coordinator,
    Rebalance,
    Rebalanced,
    ResolveRequested,
    answer_request,
)
from allocator.coordinator.config import CoordinatorConfig
from allocator.coordinator.records import AgentSpec, TaskSpec
from allocator.rebalance_resolver import portfolio_resolver


def test_adaptive_rebalance_moves_queued_work_to_new_agents() -> None:
    now = [0.0]
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded"),
        clock=lambda: now[0],
        agents=[AgentSpec(id="a")],
    )
    for j in range(12):
        coord.submit(TaskSpec(id=f"t{j}", work=5.0))
    coord.register_agent(AgentSpec(id="b"))
    coord.register_agent(AgentSpec(id="c"))
    (request,) = coord.handle(Rebalance("adaptive"))
    assert isinstance(request, ResolveRequested)
    answer = answer_request(request, portfolio_resolver(time_limit_s=1.5))
    assert isinstance(answer, ApplyPlan), answer
    commands = coord.handle(answer)
    coord.validate()
    outcome = next(c for c in commands if isinstance(c, Rebalanced))
    assert outcome.strategy == "adaptive"
    assert outcome.applied and outcome.migrations >= 6, outcome.detail
    queued = sorted(agent.queued for agent in coord.snapshot().agents)
    assert queued[-1] - queued[0] <= 1, queued  # 12 equal tasks over 3 equal agents
    assert coord.metrics().queued == 12  # nothing lost
