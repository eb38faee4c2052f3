"""Waiting and held tasks, token prices and the token ledger survive a swarm's restart."""

from __future__ import annotations

import json
from collections.abc import Iterable

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig, TaskSpec
from allocator.swarms import restore_coordinator, snapshot_coordinator


def _build(agents: Iterable[AgentSpec]) -> Coordinator:
    return Coordinator(CoordinatorConfig(max_retries=0), agents=agents, clock=lambda: 0.0)


def test_dependencies_and_tokens_round_trip_through_the_document() -> None:
    coord = _build([AgentSpec("a", token_price=2.0)])
    coord.tokens.price_per_1k = 0.25
    coord.submit_all(
        [
            TaskSpec("ok"),
            TaskSpec("bad"),
            TaskSpec("after_ok", after=("ok",)),
            TaskSpec("after_bad", after=("bad",)),
            TaskSpec("last", after=("after_ok", "after_bad")),
        ]
    )
    while (task := coord.next_for("a")) is not None and task.id != "bad":
        coord.complete(task.id, "a", tokens=100)  # "ok" runs first (higher rank)
        if coord.task_state("bad") != "queued":
            break
    assert task is not None and task.id == "bad"
    coord.fail("bad", "a", "boom")
    assert coord.held_tasks() == {"after_bad": "bad", "last": "bad"}
    doc = json.loads(json.dumps(snapshot_coordinator(coord)))
    restored = restore_coordinator(doc, _build, swarm="s")
    restored.validate()
    assert restored.held_tasks() == coord.held_tasks()
    assert restored.task_state("after_ok") == coord.task_state("after_ok")
    assert restored.agents["a"].token_price == 2.0
    assert restored.tokens.to_doc() == coord.tokens.to_doc()
    assert snapshot_coordinator(restored) == doc


def test_documents_saved_before_dependencies_still_load() -> None:
    coord = _build([AgentSpec("a")])
    coord.submit(TaskSpec("t"))
    doc = snapshot_coordinator(coord)
    del doc["tokens"]
    for task in doc["tasks"]:
        del task["after"]
    for agent in doc["agents"]:
        del agent["token_price"]
    restored = restore_coordinator(doc, _build)
    assert restored.task_state("t") == "queued" and restored.tokens.total.tokens == 0
