"""Concurrent saves of one new swarm (a request and the upkeep flush) never collide."""

from __future__ import annotations

import threading
from pathlib import Path

from allocator.coordinator import AgentSpec, TaskSpec
from allocator.store import open_store
from allocator.swarms import SwarmHub


def test_racing_saves_of_a_new_swarm_write_one_row_and_the_newest_version(
    tmp_path: Path,
) -> None:
    store = open_store(None, tmp_path)
    hub = SwarmHub(store.swarms)
    errors: list[BaseException] = []
    for round_ in range(20):
        runtime = hub.get_or_create(f"s{round_}")
        runtime.register_agents([AgentSpec("a")])
        runtime.submit([TaskSpec("t")])
        start = threading.Barrier(4)

        def save(runtime=runtime, start=start) -> None:  # type: ignore[no-untyped-def]
            start.wait()
            try:
                hub.save(runtime)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=save) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert runtime.saved_version == runtime.version
    assert not errors, errors[:1]
    assert len(store.swarms.load_states()) == 20
