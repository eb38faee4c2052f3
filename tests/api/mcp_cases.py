"""Shared MCP scenarios: every tool driven through an SDK client, whatever the transport."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mcp import Client
from mcp_types import CallToolResult

from tests.api.conftest import small_problem

__all__ = [
    "ALL_TOOLS",
    "call_ok",
    "exercise_job_tools",
    "exercise_swarm_tools",
    "tiny_request",
    "tiny_topology",
]

ALL_TOOLS = {
    "allocate",
    "submit_allocation",
    "get_job",
    "get_result",
    "cancel_job",
    "compare_solvers",
    "optimize_topology",
    "bottleneck_analyze",
    "load_balance",
    "agent_metrics",
    "swarm_status",
    "performance_report",
}


def tiny_request(**options: Any) -> dict[str, Any]:
    """Tool arguments {problem, options} for a 6x3 greedy-only request."""
    document = small_problem(**options)
    return {"options": document.pop("options"), "problem": document}


def tiny_topology() -> dict[str, Any]:
    """A 4-node ring whose heaviest traffic crosses it: adding chords helps."""
    return {
        "name": "ring4",
        "topology": {
            "nodes": [{"id": f"n{i}"} for i in range(4)],
            "links": [
                {"a": f"n{i}", "b": f"n{(i + 1) % 4}", "latency_ms": 1.0 + i, "bandwidth": 10.0}
                for i in range(4)
            ],
        },
        "traffic": [{"a": "n0", "b": "n2", "volume": 12.0}, {"a": "n1", "b": "n3", "volume": 3.0}],
        "time_limit_s": 0.5,
    }


def _text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def call_ok(client: Client, name: str, arguments: dict[str, Any]) -> Any:
    """Call a tool, assert it did not fail, return its structured content."""
    result = await client.call_tool(name, arguments)
    assert not result.is_error, f"{name} failed: {_text(result)}"
    content = result.structured_content
    assert content is not None
    # Tools returning a list or dict are wrapped as {"result": ...} by the SDK.
    return content["result"] if set(content) == {"result"} else content


async def call_error(client: Client, name: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(name, arguments)
    assert result.is_error, f"{name} should have failed"
    return _text(result)


async def exercise_job_tools(client: Client) -> None:
    """allocate (with progress), compare, submit/get/result/cancel, topology, bottlenecks."""
    listed = {tool.name for tool in (await client.list_tools()).tools}
    assert listed >= ALL_TOOLS
    schema = next(t for t in (await client.list_tools()).tools if t.name == "allocate")
    assert "problem" in schema.input_schema["properties"]

    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await client.call_tool("allocate", tiny_request(), progress_callback=on_progress)
    assert not result.is_error, _text(result)
    outcome = result.structured_content
    assert outcome is not None
    assert outcome["status"] == "succeeded" and outcome["solution"] in ("feasible", "optimal")
    assert len(outcome["assignments"]) == 6 and outcome["chosen_solver"] == "greedy"
    assert notes and notes[-1][2] == "job succeeded"

    compared = await call_ok(client, "compare_solvers", tiny_request())
    assert [s["name"] for s in compared["solvers"]] == ["greedy"]
    assert compared["objective"] == outcome["objective"]

    # Model-readable errors: bad arguments, a cap, an unknown job, an unknown solver.
    assert "agents" in await call_error(
        client, "allocate", {"problem": {"agents": [], "tasks": []}}
    )
    assert "submit_allocation" in await call_error(
        client, "allocate", tiny_request(time_limit_s=600)
    )
    assert "no job" in await call_error(client, "get_job", {"job_id": "missing"})
    assert "unknown solver" in await call_error(
        client, "submit_allocation", tiny_request(solvers=["simplex-magic"])
    )

    job = await call_ok(client, "submit_allocation", tiny_request())
    finished = await _poll(client, job["id"])
    assert finished["status"] == "succeeded"
    summary = await call_ok(client, "get_result", {"job_id": job["id"]})
    assert summary["objective"] == outcome["objective"]
    full = await call_ok(client, "get_result", {"job_id": job["id"], "full": True})
    assert full["chosen"]["plan"]["assignments"] == summary["assignments"]

    # A long anytime solve, cancelled: it ends as cancelled within seconds.
    long_job = await call_ok(
        client, "submit_allocation", tiny_request(solvers=["nsga2"], time_limit_s=60)
    )
    await call_ok(client, "cancel_job", {"job_id": long_job["id"]})
    cancelled = await _poll(client, long_job["id"], timeout_s=30)
    assert cancelled["status"] == "cancelled"

    topo = await call_ok(client, "optimize_topology", {"request": tiny_topology()})
    assert topo["status"] == "succeeded"
    assert topo["objective_after"] < topo["objective_before"]
    hot = await call_ok(client, "bottleneck_analyze", {"request": tiny_topology()})
    assert hot["name"] == "ring4" and hot["bottleneck_nodes"]


async def _poll(client: Client, job_id: str, timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = await call_ok(client, "get_job", {"job_id": job_id})
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        await asyncio.sleep(0.2)  # polling a remote job is what an MCP client does


async def exercise_swarm_tools(client: Client, swarm: str) -> None:
    """`swarm` has agents and queued tasks already."""
    status = await call_ok(client, "swarm_status", {})
    assert swarm in {s["name"] for s in status}
    one = await call_ok(client, "swarm_status", {"swarm": swarm})
    assert one[0]["kpis"]["agents"] >= 2
    agents = await call_ok(client, "agent_metrics", {"swarm": swarm})
    assert {a["id"] for a in agents} >= {"w0", "w1"}
    moved = await call_ok(client, "load_balance", {"swarm": swarm, "strategy": "threshold"})
    assert moved["strategy"] == "threshold" and "kpi_after" in moved
    report = await call_ok(client, "performance_report", {"detail": True})
    assert swarm in report["swarms"] and "jobs" in report
    assert "no swarm" in await call_error(client, "agent_metrics", {"swarm": "nowhere"})
    assert "strategy" in await call_error(
        client, "load_balance", {"swarm": swarm, "strategy": "chaos"}
    )
