"""Swarm workflows and the agent_list / token_usage tools over real HTTP (uvicorn process).

Dependencies (`after`) through the REST routes, 422 naming a cycle or an unknown id,
held tasks after a dead-lettered predecessor, token usage with cost per agent, kind and
tenant, the Prometheus series, the dashboard figure, and both MCP tools.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.api.mcp_cases import call_error, call_ok
from tests.api.service_process import ServiceProcess

TOKEN = "workflow-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        tmp_path_factory.mktemp("swarm-workflows") / "data",
        api_token=TOKEN,
        fast_workers="1",
        max_concurrent_jobs="1",
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def rest(service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, headers=AUTH, timeout=20) as client:
        yield client


def _pull_one(rest: httpx.Client, swarm: str, agent: str) -> str | None:
    tasks = rest.post(f"/v1/swarms/{swarm}/agents/{agent}/pull").json()["tasks"]
    return tasks[0]["id"] if tasks else None


def test_tasks_run_after_their_predecessors_and_bad_graphs_are_422(rest: httpx.Client) -> None:
    assert rest.post("/v1/swarms/wf/agents", json={"agents": [{"id": "a0"}]}).status_code == 200
    tasks = [
        {"id": "join", "after": ["left", "right"]},
        {"id": "left", "after": ["root"]},
        {"id": "right", "after": ["root"]},
        {"id": "root"},
    ]
    answer = rest.post("/v1/swarms/wf/tasks", json={"tasks": tasks})
    assert answer.status_code == 202
    assert sorted(answer.json()["waiting"]) == ["join", "left", "right"]
    assert rest.get("/v1/swarms/wf/tasks/join").json()["state"] == "waiting"
    order = []
    while (task := _pull_one(rest, "wf", "a0")) is not None:
        order.append(task)
        done = rest.post(f"/v1/swarms/wf/tasks/{task}/complete", json={"agent_id": "a0"})
        assert done.status_code == 200
    assert order[0] == "root" and order[-1] == "join" and len(order) == 4

    cycle = [{"id": "x", "after": ["y"]}, {"id": "y", "after": ["x"]}]
    bad = rest.post("/v1/swarms/wf/tasks", json={"tasks": cycle})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "cycle" in bad.json()["detail"] and "x" in bad.json()["detail"]
    unknown = rest.post("/v1/swarms/wf/tasks", json={"tasks": [{"id": "z", "after": ["ghost"]}]})
    assert unknown.status_code == 422 and "'ghost'" in unknown.json()["detail"]
    assert rest.get("/v1/swarms/wf/tasks/x").json()["state"] == "unknown"


def test_a_dead_predecessor_holds_its_dependants(rest: httpx.Client) -> None:
    assert rest.patch("/v1/config", json={"max_retries": 0}).status_code == 200
    try:
        rest.post("/v1/swarms/hold/agents", json={"agents": [{"id": "a0"}]})
        chain = [{"id": "first"}, {"id": "second", "after": ["first"]}]
        chain.append({"id": "third", "after": ["second"]})
        assert rest.post("/v1/swarms/hold/tasks", json={"tasks": chain}).status_code == 202
        assert _pull_one(rest, "hold", "a0") == "first"
        rest.post("/v1/swarms/hold/tasks/first/fail", json={"agent_id": "a0", "error": "boom"})
        third = rest.get("/v1/swarms/hold/tasks/third").json()
        assert third == {"id": "third", "state": "held", "blocked_by": "first"}
        kpis = rest.get("/v1/swarms/hold/kpis").json()
        assert kpis["held"] == 2 and kpis["waiting"] == 0 and kpis["dead_lettered"] == 1
        held = rest.get("/v1/swarms/hold/held").json()
        assert held == {"second": "first", "third": "first"}
        assert _pull_one(rest, "hold", "a0") is None
    finally:
        rest.patch("/v1/config", json={"max_retries": 3})


def test_token_usage_agent_list_metrics_and_dashboard(rest: httpx.Client) -> None:
    agents = [
        {"id": "cheap", "capabilities": ["llm"]},
        {"id": "dear", "capabilities": ["llm", "gpu"], "token_price_per_1k": 3.0},
    ]
    rest.post("/v1/swarms/tok/agents", json={"agents": agents})
    price = rest.put("/v1/swarms/tok/token-price", json={"price_per_1k": 0.5})
    assert price.status_code == 200 and price.json()["price_per_1k"] == 0.5
    tasks = [
        {"id": "s1", "kind": "summarise", "tenant": "acme", "pinned_agent": "cheap"},
        {"id": "s2", "kind": "summarise", "tenant": "zeta", "pinned_agent": "dear"},
        {"id": "r1", "kind": "review", "tenant": "acme", "pinned_agent": "dear"},
    ]
    assert rest.post("/v1/swarms/tok/tasks", json={"tasks": tasks}).status_code == 202
    assert _pull_one(rest, "tok", "cheap") == "s1"
    done = rest.post("/v1/swarms/tok/tasks/s1/complete", json={"agent_id": "cheap", "tokens": 2000})
    assert done.status_code == 200
    first = _pull_one(rest, "tok", "dear")
    listed = {a["id"]: a for a in rest.get("/v1/swarms/tok/agents").json()}
    assert listed["dear"]["state"] == "busy" and listed["cheap"]["state"] == "idle"
    assert listed["dear"]["capabilities"] == ["gpu", "llm"]
    assert listed["dear"]["load_s"] > 0 and listed["dear"]["token_price_per_1k"] == 3.0
    ack = {"completed": [{"task_id": first, "tokens": 1000}]}
    second = rest.post("/v1/swarms/tok/agents/dear/pull", json=ack).json()["tasks"][0]["id"]
    rest.post(f"/v1/swarms/tok/tasks/{second}/complete", json={"agent_id": "dear", "tokens": 500})
    usage = rest.get("/v1/swarms/tok/tokens").json()
    # 2,000 tokens at the swarm's 0.5 per 1k, then 1,500 at dear's own 3.0 per 1k.
    assert usage["total"] == {"tokens": 3500, "cost": pytest.approx(1.0 + 4.5), "completions": 3}
    assert usage["by_agent"]["dear"]["cost"] == pytest.approx(4.5)
    assert usage["by_kind"]["summarise"]["completions"] == 2
    assert usage["by_tenant"]["acme"]["tokens"] + usage["by_tenant"]["zeta"]["tokens"] == 3500
    bad = rest.post("/v1/swarms/tok/tasks/s2/complete", json={"agent_id": "dear", "tokens": -1})
    assert bad.status_code == 422
    metrics = rest.get("/metrics").text
    assert 'allocator_swarm_tokens{by="agent",key="dear",swarm="tok"} 1500.0' in metrics
    assert 'allocator_swarm_token_cost{by="tenant",key="zeta",swarm="tok"}' in metrics
    assert 'allocator_swarm_kpi{kpi="waiting",swarm="tok"}' in metrics
    live = rest.get("/dashboard/live")
    assert live.status_code == 200
    section = live.text[live.text.index('data-swarm="tok"') :]
    assert '<div class="v" data-kpi="tokens">3500 · 5.5</div>' in section


def test_mcp_agent_list_and_token_usage(service: ServiceProcess, rest: httpx.Client) -> None:
    rest.post("/v1/swarms/mcpw/agents", json={"agents": [{"id": "m0", "capabilities": ["x"]}]})
    rest.post("/v1/swarms/mcpw/tasks", json={"tasks": [{"id": "only", "kind": "k"}]})
    task = _pull_one(rest, "mcpw", "m0")
    rest.post(f"/v1/swarms/mcpw/tasks/{task}/complete", json={"agent_id": "m0", "tokens": 42})

    async def scenario() -> None:
        async with httpx2.AsyncClient(headers=AUTH, timeout=60) as http:
            transport = streamable_http_client(f"{service.url}/mcp", http_client=http)
            async with Client(transport) as client:
                agents = await call_ok(client, "agent_list", {"swarm": "mcpw"})
                assert agents[0]["id"] == "m0" and agents[0]["capabilities"] == ["x"]
                assert agents[0]["state"] == "idle" and agents[0]["load_s"] == 0.0
                usage = await call_ok(client, "token_usage", {"swarm": "mcpw"})
                assert usage["total"]["tokens"] == 42 and usage["by_kind"]["k"]["tokens"] == 42
                assert "no swarm" in await call_error(client, "token_usage", {"swarm": "none"})

    asyncio.run(scenario())
