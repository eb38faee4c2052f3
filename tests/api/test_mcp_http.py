"""MCP over streamable HTTP: the real app (uvicorn) on a loopback port, `/mcp` behind the token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.api.mcp_cases import exercise_job_tools, exercise_swarm_tools
from tests.api.service_process import ServiceProcess

TOKEN = "mcp-test-token"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    process = ServiceProcess(
        tmp_path_factory.mktemp("mcp-http") / "data",
        api_token=TOKEN,
        fast_workers="1",
        max_concurrent_jobs="2",
    )
    process.start()
    yield process
    process.stop()


def test_mcp_needs_the_token(service: ServiceProcess) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    answer = httpx.post(f"{service.url}/mcp", json=body, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert "Bearer" in answer.headers["www-authenticate"]
    assert "ALLOCATOR_API_TOKEN" in answer.json()["detail"]


def test_every_tool_over_streamable_http(service: ServiceProcess) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    agents = [{"id": "w0"}, {"id": "w1", "speed": 2.0}]
    tasks = [{"id": f"t{k}"} for k in range(8)]
    with httpx.Client(base_url=service.url, headers=auth, timeout=10) as rest:
        assert rest.post("/v1/swarms/crew/agents", json={"agents": agents}).status_code == 200
        assert rest.post("/v1/swarms/crew/tasks", json={"tasks": tasks}).status_code == 202

    async def scenario() -> None:
        async with httpx2.AsyncClient(headers=auth, timeout=60) as http:
            transport = streamable_http_client(f"{service.url}/mcp", http_client=http)
            async with Client(transport) as client:
                await exercise_job_tools(client)
                await exercise_swarm_tools(client, "crew")

    asyncio.run(scenario())
