"""MCP over stdio: `allocator mcp` as a real subprocess, driven by the SDK's client."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.api.mcp_cases import exercise_job_tools, exercise_swarm_tools
from tests.api.mcp_swarm_seed import seed_swarm

ROOT = Path(__file__).resolve().parents[2]


def test_every_tool_over_stdio(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed_swarm(data_dir, "crew")
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "allocator.cli", "mcp"],
        cwd=str(ROOT),
        env={
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "ALLOCATOR_DATA_DIR": str(data_dir),
            "ALLOCATOR_FAST_WORKERS": "1",
            "ALLOCATOR_MAX_CONCURRENT_JOBS": "2",
            "ALLOCATOR_LOG_LEVEL": "warning",
        },
    )

    async def scenario() -> None:
        async with Client(server, read_timeout_seconds=60) as client:
            await exercise_job_tools(client)
            await exercise_swarm_tools(client, "crew")

    asyncio.run(scenario())
