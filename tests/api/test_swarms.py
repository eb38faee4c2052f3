"""The coordinator API: agents, tasks, pulls with acknowledgements, plans, rebalancing, config."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import small_problem


def _register(client: TestClient, swarm: str, n: int) -> None:
    agents = [{"id": f"a{i}", "speed": 1.0 + i % 3} for i in range(n)]
    response = client.post(f"/v1/swarms/{swarm}/agents", json={"agents": agents})
    assert response.status_code == 200, response.text


def test_pull_complete_fail_and_states(client: TestClient) -> None:
    _register(client, "s1", 2)
    submitted = client.post(
        "/v1/swarms/s1/tasks", json={"tasks": [{"id": "t1"}, {"id": "t2", "priority": "high"}]}
    )
    assert submitted.status_code == 202 and not submitted.json()["rejected"]
    leased = client.post("/v1/swarms/s1/agents/a0/pull").json()["tasks"]
    assert len(leased) == 1
    first = leased[0]["id"]
    assert client.get(f"/v1/swarms/s1/tasks/{first}").json()["state"] == "leased"
    wrong = client.post(f"/v1/swarms/s1/tasks/{first}/complete", json={"agent_id": "a1"})
    assert wrong.status_code == 409
    done = client.post(f"/v1/swarms/s1/tasks/{first}/complete", json={"agent_id": "a0"})
    assert done.status_code == 200
    again = client.post(f"/v1/swarms/s1/tasks/{first}/complete", json={"agent_id": "a0"})
    assert again.status_code == 409 and "at most once" in again.json()["detail"]
    second = client.post("/v1/swarms/s1/agents/a1/pull").json()["tasks"][0]["id"]
    failed = client.post(f"/v1/swarms/s1/tasks/{second}/fail", json={"agent_id": "a1"})
    assert failed.status_code == 200
    assert client.get(f"/v1/swarms/s1/tasks/{second}").json()["state"] == "queued"
    duplicate = client.post("/v1/swarms/s1/tasks", json={"tasks": [{"id": "t1"}]}).json()
    assert "t1" in duplicate["rejected"]
    assert client.post("/v1/swarms/nope/agents/a0/pull").status_code == 404
    assert client.post("/v1/swarms/s1/agents/ghost/pull").status_code == 404
    agents = client.get("/v1/swarms/s1/agents").json()
    assert {a["id"] for a in agents} == {"a0", "a1"}
    kpis = client.get("/v1/swarms/s1/kpis").json()
    assert kpis["completed"] == 1 and "jain_fairness" in kpis


def test_concurrent_agents_lose_nothing_and_do_nothing_twice(client: TestClient) -> None:
    n_agents, n_tasks = 12, 600
    _register(client, "busy", n_agents)
    tasks = [{"id": f"t{k}", "work": 0.01} for k in range(n_tasks)]
    assert not client.post("/v1/swarms/busy/tasks", json={"tasks": tasks}).json()["rejected"]
    done: Counter[str] = Counter()
    lock = threading.Lock()

    def agent(agent_id: str) -> None:
        acks: list[dict[str, object]] = []
        idle = 0
        while idle < 3:
            body = {"completed": acks}
            out = client.post(f"/v1/swarms/busy/agents/{agent_id}/pull?max_tasks=2", json=body)
            assert out.status_code == 200, out.text
            assert not out.json()["rejected"], out.json()
            leased = [t["id"] for t in out.json()["tasks"]]
            idle = idle + 1 if not leased else 0
            with lock:
                done.update(leased)
            acks = [{"task_id": t, "runtime_s": 0.001} for t in leased]

    threads = [threading.Thread(target=agent, args=(f"a{i}",)) for i in range(n_agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(done) == {t["id"] for t in tasks}, "no task lost"
    assert max(done.values()) == 1, "no task handed out twice"
    kpis = client.get("/v1/swarms/busy/kpis").json()
    assert kpis["completed"] == n_tasks and kpis["duplicate_completions"] == 0


def test_plan_rebalance_history_and_config(client: TestClient) -> None:
    doc = small_problem(n_tasks=6, n_agents=3)
    job = client.post("/v1/allocations?wait=30", json=doc).json()
    _register(client, "p", 3)
    client.post("/v1/swarms/p/tasks", json={"tasks": [{"id": f"t{k}"} for k in range(6)]})
    applied = client.post("/v1/swarms/p/plans", json={"job_id": job["id"]})
    assert applied.status_code == 200, applied.text
    assert applied.json()["moved"] + len(applied.json()["skipped"]) == 6
    assert client.post("/v1/swarms/p/plans", json={"job_id": "nope"}).status_code == 404
    rebalanced = client.post("/v1/swarms/p/rebalance?strategy=threshold")
    assert rebalanced.status_code == 200 and "kpi_before" in rebalanced.json()
    assert client.post("/v1/swarms/p/rebalance?strategy=magic").status_code == 422
    history = client.get("/v1/swarms/p/history/rebalances?since=0").json()
    assert len(history) == 1 and history[0]["data"]["strategy"] == "threshold"
    changed = client.patch("/v1/config", json={"steal_threshold": 5, "aging_boost": 10})
    assert changed.status_code == 200 and changed.json()["steal_threshold"] == 5
    assert client.get("/v1/config").json()["aging_boost"] == 10
    bad = client.patch("/v1/config", json={"steal_threshold": 0})
    assert bad.status_code == 422 and "steal_threshold" in bad.json()["detail"]
    assert client.patch("/v1/config", json={"nonsense": 1}).status_code == 422
    report = client.get("/v1/performance").json()
    assert "p" in report["swarms"]
    collected = client.get("/v1/metrics/collect?components=coordinator,queues,solvers").json()
    assert set(collected) == {"coordinator", "queues", "solvers"}
    assert client.get("/v1/metrics/collect?components=bogus").status_code == 422
    assert 'allocator_swarm_kpi{kpi="jain_fairness",swarm="p"}' in client.get("/metrics").text


def test_swarm_state_survives_restart(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    first = make_client()
    _register(first, "r", 2)
    first.post("/v1/swarms/r/tasks", json={"tasks": [{"id": f"t{k}"} for k in range(4)]})
    leased = first.post("/v1/swarms/r/agents/a0/pull").json()["tasks"][0]["id"]
    first.patch("/v1/config", json={"steal_threshold": 4})
    first.__exit__(None, None, None)  # graceful: flushes
    second = make_client(data_dir=tmp_path / "data0")
    assert second.get("/v1/config").json()["steal_threshold"] == 4
    assert second.get(f"/v1/swarms/r/tasks/{leased}").json()["state"] == "queued"
    assert second.get("/v1/swarms/r/kpis").json()["queued"] == 4
