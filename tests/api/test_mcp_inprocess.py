"""MCP tools in-process: the SDK's client against the server over a real started service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from api.mcp_server import build_mcp_server
from api.services import Services, build_services
from api.settings import ServiceSettings
from api.swarm_schemas import AgentIn, TaskIn
from tests.api.mcp_cases import exercise_job_tools, exercise_swarm_tools


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = ServiceSettings(data_dir=tmp_path / "data", fast_workers=1, max_concurrent_jobs=2)
    running = build_services(settings)
    running.start()
    yield running
    running.stop()


def test_every_tool_in_process(services: Services) -> None:
    async def scenario() -> None:
        await services.swarms.register(
            "crew", [AgentIn(id="w0", speed=1.0), AgentIn(id="w1", speed=2.0)]
        )
        await services.swarms.submit("crew", [TaskIn(id=f"t{k}") for k in range(8)])
        async with Client(build_mcp_server(lambda: services)) as client:
            await exercise_job_tools(client)
            await exercise_swarm_tools(client, "crew")

    asyncio.run(scenario())


def test_tool_schemas_are_typed(services: Services) -> None:
    async def scenario() -> dict[str, dict[str, Any]]:
        async with Client(build_mcp_server(lambda: services)) as client:
            return {t.name: t.input_schema for t in (await client.list_tools()).tools}

    schemas = asyncio.run(scenario())
    strategy = schemas["load_balance"]["properties"]["strategy"]
    assert strategy["enum"] == ["threshold", "adaptive"]
    problem = schemas["allocate"]["properties"]["problem"]
    assert "$ref" in problem or "properties" in problem
    assert schemas["get_job"]["required"] == ["job_id"]
