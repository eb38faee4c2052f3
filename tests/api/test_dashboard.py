"""The dashboard through the real app: page, live fragment, sign-in, report links."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.dashboard import COOKIE
from api.dashboard_views import ring_topology, topology_svg
from tests.api.conftest import small_problem
from tests.api.simulated_swarm import SimulatedSwarm


def test_page_without_swarms_lists_jobs_and_links_reports(client: TestClient) -> None:
    submitted = client.post("/v1/comparisons?wait=30", json=small_problem())
    assert submitted.status_code == 200, submitted.text
    job_id = submitted.json()["id"]
    page = client.get("/")
    assert page.status_code == 200
    assert "No swarm is running" in page.text  # the service runs a coordinator hub
    assert f'href="/dashboard/jobs/{job_id}/report"' in page.text
    assert "Content-Security-Policy" in page.headers
    report = client.get(f"/dashboard/jobs/{job_id}/report")
    assert report.status_code == 200 and 'data-chart="trace"' in report.text


def test_live_fragment_shows_the_swarm(client: TestClient) -> None:
    swarm = SimulatedSwarm(n_agents=4)
    for _ in range(5):
        swarm.step()
    client.app.state.swarm_feed = swarm.feed  # type: ignore[attr-defined]
    fragment = client.get("/dashboard/live")
    assert fragment.status_code == 200
    assert fragment.text.count('<tr data-agent="') == 4
    assert 'data-kpi="jain_fairness"' in fragment.text
    assert 'class="pt link bottleneck"' in fragment.text
    assert "<html" not in fragment.text  # a fragment, swapped into the page


def test_token_guards_the_dashboard(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token="s3cret")
    assert client.get("/").status_code == 401
    assert "Sign in" in client.get("/").text
    assert client.get("/dashboard/live").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    wrong = client.post("/dashboard/login", data={"token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 401
    right = client.post("/dashboard/login", data={"token": "s3cret"}, follow_redirects=False)
    assert right.status_code == 303
    cookie = right.cookies.get(COOKIE)
    assert cookie and "s3cret" not in cookie
    assert client.get("/dashboard/live").status_code == 200  # the cookie is kept by the client


def test_topology_drawing_marks_bottlenecks() -> None:
    svg = topology_svg(ring_topology(["a", "b", "c"], hot=[("b", "c")]))
    assert svg.count("<line") == 3
    assert svg.count('class="pt link bottleneck"') == 1


def test_hub_feed_reads_every_swarm() -> None:
    from allocator.coordinator import Coordinator
    from allocator.coordinator.records import AgentSpec
    from allocator.swarms.runtime import SwarmRuntime
    from api.dashboard_views import hub_feed

    class Hub:  # the two methods hub_feed uses, as SwarmHub has them
        def __init__(self) -> None:
            self.runtimes = {
                n: SwarmRuntime(n, Coordinator(agents=[AgentSpec(id=f"{n}-a")])) for n in "xy"
            }

        def names(self) -> list[str]:
            return sorted(self.runtimes)

        def get(self, name: str) -> SwarmRuntime:
            return self.runtimes[name]

    views = hub_feed(Hub())()  # type: ignore[arg-type]
    assert [v.name for v in views] == ["x", "y"]
    assert [a.id for a in views[1].agents] == ["y-a"]
