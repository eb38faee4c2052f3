"""The dashboard shows a swarm's running workflows: tasks waiting for predecessors, and
the ones held because a predecessor was dead-lettered (with what blocks them)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from api.dashboard_views import swarm_view


def test_live_fragment_counts_waiting_and_held_workflow_tasks(client: TestClient) -> None:
    coord = Coordinator(CoordinatorConfig(placement="global", max_retries=0), clock=lambda: 0.0)
    coord.register_agent(AgentSpec("a0"))
    coord.submit_all(
        [
            TaskSpec("x"),
            TaskSpec("y", after=("x",)),
            TaskSpec("z", after=("y",)),
            TaskSpec("b"),
            TaskSpec("c", after=("b",)),
        ]
    )
    view = swarm_view("flow", coord)
    assert view.kpis["waiting"] == 3 and view.kpis["held"] == 0
    # b fails for good: c is held, never run; x runs, so y is ready and only z waits.
    leased = {coord.next_for("a0").id, coord.next_for("a0").id}  # type: ignore[union-attr]
    assert leased == {"x", "b"}
    coord.fail("b", "a0")
    assert coord.complete("x", "a0") is None
    view = swarm_view("flow", coord)
    assert view.kpis["waiting"] == 1 and view.kpis["held"] == 1
    assert view.held == {"c": "b"}
    client.app.state.swarm_feed = lambda: [view]  # type: ignore[attr-defined]
    fragment = client.get("/dashboard/live")
    assert fragment.status_code == 200
    assert 'data-kpi="workflow">1 · 1<' in fragment.text
    assert 'data-held="1"' in fragment.text and "c (after b)" in fragment.text
