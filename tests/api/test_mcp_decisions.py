"""MCP decision tools in-process (SDK client, real started services): small, exact results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from api.mcp_decision_tools import INLINE_PLAN_LIMIT
from api.mcp_server import build_mcp_server
from api.services import Services, build_services
from api.settings import ServiceSettings
from tests.api.conftest import small_problem
from tests.api.mcp_cases import call_error, call_ok


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    settings = ServiceSettings(data_dir=tmp_path / "data", fast_workers=1, max_concurrent_jobs=2)
    running = build_services(settings)
    running.start()
    yield running
    running.stop()


def _problem(n_tasks: int = 6, n_agents: int = 3) -> dict[str, Any]:
    doc = small_problem(n_tasks=n_tasks, n_agents=n_agents)
    doc.pop("options")
    return doc


PLAN = {"assignments": {f"t{k}": f"a{k % 3}" for k in range(6)}}


def test_decision_tools(services: Services) -> None:
    async def scenario() -> None:
        async with Client(build_mcp_server(lambda: services)) as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            assert {"evaluate_plan", "explain_plan", "recommend_agent"} <= listed
            assert "recommend_tasks_for_agent" in listed
            ev = await call_ok(client, "evaluate_plan", {"problem": _problem(), "plan": PLAN})
            assert ev["feasible"] and ev["loads"] == []
            task = {"id": "new", "demand": {"cpu": 1.0}, "work": 2.0}
            rec = await call_ok(
                client,
                "recommend_agent",
                {"problem": _problem(), "plan": PLAN, "task": task, "top": 2},
            )
            assert rec["task"] == "new" and len(rec["recommendations"]) == 2
            bigger = _problem()
            bigger["tasks"].append(task)
            best = rec["recommendations"][0]
            placed = {"assignments": {**PLAN["assignments"], "new": best["agent"]}}
            after = await call_ok(client, "evaluate_plan", {"problem": bigger, "plan": placed})
            assert best["score_delta"] == pytest.approx(after["score"] - ev["score"], rel=1e-9)
            inverse = await call_ok(
                client,
                "recommend_tasks_for_agent",
                {"problem": _problem(), "plan": PLAN, "agent": "a0", "top": 3},
            )
            assert len(inverse["recommendations"]) == 3
            why = await call_ok(
                client, "explain_plan", {"problem": _problem(), "plan": PLAN, "tasks": ["t2"]}
            )
            assert set(why["tasks"]) == {"t2"}
            error = await call_error(
                client,
                "evaluate_plan",
                {"problem": _problem(), "plan": {"assignments": {"t0": "zz"}}},
            )
            assert "zz" in error

    asyncio.run(scenario())


def test_big_allocate_returns_a_summary_and_a_plan_link(services: Services) -> None:
    n_tasks = INLINE_PLAN_LIMIT + 50
    problem = small_problem(n_tasks=n_tasks, n_agents=40)
    options = problem.pop("options")

    async def scenario() -> None:
        async with Client(build_mcp_server(lambda: services)) as client:
            out = await call_ok(client, "allocate", {"problem": problem, "options": options})
            assert out["plan_truncated"] and out["assignments"] == {}
            assert out["n_assigned"] == n_tasks
            assert len(json.dumps(out)) < 5_000
            assert len(out["utilisation"]) == 20  # the busiest agents only
            resource = await client.read_resource(out["plan_resource"])
            plan = json.loads(resource.contents[0].text)
            assert len(plan["assignments"]) == n_tasks
            few = await call_ok(
                client,
                "allocate",
                {"problem": problem, "options": options, "tasks": ["t0", "t1"]},
            )
            assert set(few["assignments"]) == {"t0", "t1"} and not few["plan_truncated"]

    asyncio.run(scenario())
