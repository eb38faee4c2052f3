"""Storage faults: a full database answers 503 "storage unavailable", readiness says so,
nothing half-written; an unusable data directory at start-up is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from tests.api.conftest import small_problem


def _cap_pages(engine: Engine, extra_pages: int | None) -> None:
    """SQLite's max_page_count: the database file cannot grow past it (SQLITE_FULL), as on
    a full disk. None lifts the cap. Applies to every new pooled connection."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM"))  # no free pages left inside the file either
        pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())
    limit = 2**30 if extra_pages is None else pages + extra_pages

    def cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={limit}")

    event.listen(engine, "connect", cap)
    engine.dispose()  # pooled connections are made again, with the cap


def _big_problem() -> dict[str, Any]:
    doc = small_problem(n_tasks=2000, n_agents=20)
    doc["options"] = {"solvers": ["greedy"], "time_limit_s": 1}
    return doc


def test_full_database_is_503_and_not_ready_until_it_writes_again(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(run_jobs=False)
    engine = client.app.state.services.store.engine  # type: ignore[attr-defined]
    assert client.get("/readyz").status_code == 200
    _cap_pages(engine, 0)
    refused = client.post("/v1/allocations", json=_big_problem())
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"]
    assert refused.json()["detail"].startswith("storage unavailable")
    assert "full" in refused.json()["detail"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "storage unavailable" in ready.json()["detail"]
    assert client.get("/v1/jobs").json()["items"] == [], "nothing half-written"
    _cap_pages(engine, None)
    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/allocations", json=_big_problem()).status_code == 202


def _serve(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allocator.cli", "serve", "--port", "1"],
        env={"ALLOCATOR_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unusable_data_dir_at_start_up_is_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "occupied"
    not_a_dir.write_text("a file where the data directory should be")
    result = _serve(not_a_dir)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(not_a_dir) in lines[0] and "Traceback" not in result.stderr


def test_agent_registration_that_cannot_be_stored_is_503_and_adds_no_agent(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(run_jobs=False)
    engine = client.app.state.services.store.engine  # type: ignore[attr-defined]
    first = client.post("/v1/swarms/s/agents", json={"agents": [{"id": "a0"}]})
    assert first.status_code in (200, 201), first.text
    many = {"agents": [{"id": f"agent-{i:04d}", "capabilities": ["gpu"]} for i in range(300)]}
    _cap_pages(engine, 0)
    refused = client.post("/v1/swarms/s/agents", json=many)
    assert refused.status_code == 503, refused.text
    assert refused.json()["detail"].startswith("storage unavailable")
    listed = client.get("/v1/swarms/s/agents").json()
    assert [a["id"] for a in listed] == ["a0"], "no agent in memory"
    pull = client.post("/v1/swarms/s/agents/agent-0001/pull")
    assert pull.status_code == 404, pull.text
    _cap_pages(engine, None)
    again = client.post("/v1/swarms/s/agents", json=many)
    assert again.status_code in (200, 201), again.text
    assert len(again.json()["registered"]) == 300
    saved = client.app.state.services.store.swarms.load_states()  # type: ignore[attr-defined]
    assert len(json.loads(saved["s"])["agents"]) == 301, "memory and store agree"
