"""A swarm's durable state through its JSON document and back."""

from __future__ import annotations

import json
from collections.abc import Iterable

from allocator.coordinator import AgentSpec, Coordinator, TaskSpec
from allocator.swarms import restore_coordinator, snapshot_coordinator


def _build(agents: Iterable[AgentSpec]) -> Coordinator:
    return Coordinator(agents=agents, clock=lambda: 0.0)


def test_the_json_document_round_trips() -> None:
    coord = _build([AgentSpec("a", capacity={"cpu": 4.0}, slots=2)])
    coord.submit(TaskSpec("t1", demand={"cpu": 1.0}, group="g", kind="k", priority=1))
    coord.submit(TaskSpec("t2", work=None, kind="k"))
    assert coord.next_for("a") is not None
    doc = json.loads(json.dumps(snapshot_coordinator(coord)))
    assert doc["format"] == 1 and [a["id"] for a in doc["agents"]] == ["a"]
    restored = restore_coordinator(doc, _build, swarm="s")
    restored.validate()
    assert snapshot_coordinator(restored) == doc  # leased t1 is queued again: same document
    assert restored.task_state("t1") == "queued"
