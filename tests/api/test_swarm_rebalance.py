"""Adaptive rebalancing over HTTP: a re-plan within the operator's move budget, recorded."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_adaptive_rebalance_replans_within_the_move_budget(client: TestClient) -> None:
    gpu = {"capabilities": ["gpu"]}
    assert client.post("/v1/swarms/g/agents", json={"agents": [{"id": "a0", **gpu}]}).is_success
    tasks = [{"id": f"t{k}", "requires": ["gpu"]} for k in range(8)]
    accepted = client.post("/v1/swarms/g/tasks", json={"tasks": tasks}).json()["accepted"]
    assert set(accepted.values()) == {"a0"}  # constrained work waits on the only gpu agent
    assert client.post("/v1/swarms/g/agents", json={"agents": [{"id": "a1", **gpu}]}).is_success
    bad = client.patch("/v1/config", json={"rebalance_max_moves": 0})
    assert bad.status_code == 422 and "rebalance_max_moves" in bad.json()["detail"]
    assert client.patch("/v1/config", json={"rebalance_max_moves": 2}).status_code == 200

    out = client.post("/v1/swarms/g/rebalance?strategy=adaptive")
    assert out.status_code == 200, out.text
    record = out.json()
    assert record["strategy"] == "adaptive" and record["applied"], record["detail"]
    assert record["migrations"] == len(record["moves"]) == 2  # the budget, fully used
    assert all(m["from"] == "a0" and m["to"] == "a1" for m in record["moves"])
    queued = {a["id"]: a["queued"] for a in client.get("/v1/swarms/g/agents").json()}
    assert queued == {"a0": 6, "a1": 2}
    history = client.get("/v1/swarms/g/history/rebalances?since=0").json()
    assert [h["data"]["strategy"] for h in history] == ["adaptive"]
