"""Register swarm agents store-first: the write commits, then the coordinator changes.

A full disk or a lost database must not leave an agent in memory that the store never
heard of (it would vanish on restart while tasks were leased to it). So, under the
swarm's lock: check the new agents on a scratch coordinator (a bad spec is refused
before anything is written), write the swarm's state with them, and only then register
them in the live coordinator. A failed write raises `DBAPIError` (503 "storage
unavailable") with the coordinator untouched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from allocator.coordinator.records import AgentSpec
from allocator.swarms import SwarmHub, SwarmRuntime
from allocator.swarms.snapshot import snapshot_coordinator
from allocator.swarms.tuning import build_coordinator

__all__ = ["register_store_first"]


def register_store_first(
    hub: SwarmHub, runtime: SwarmRuntime, specs: Sequence[AgentSpec]
) -> list[str]:
    """Register the unknown agents of `specs` (known ids count as a heartbeat); returns
    the new ids. Raises the coordinator's error for a bad spec, `DBAPIError` when the
    store refuses the write; either way the live coordinator is unchanged."""
    # The hub's save lock first, as in `SwarmHub.save`: the upkeep flush must not write an
    # older snapshot over this one. The swarm lock is held across the write, so no pull
    # sees a half-registered swarm.
    with hub._save_lock, runtime.lock:  # private: hub.py has no public save lock yet
        live = runtime.coordinator
        new = [spec for spec in specs if spec.id not in live.agents]
        if not new:
            for spec in specs:
                live.heartbeat(spec.id)
            return []
        scratch = build_coordinator(hub.tuning)
        for spec in new:  # the same checks the live coordinator makes, on a throwaway one
            scratch.register_agent(spec)
        state = snapshot_coordinator(live)
        state["agents"].extend(snapshot_coordinator(scratch)["agents"])
        version = runtime.version + 1
        hub.repository.save_state(runtime.name, json.dumps(state), version)
        for spec in specs:  # the write committed: now memory
            if spec.id in live.agents:
                live.heartbeat(spec.id)
            else:
                live.register_agent(spec)
        runtime.version = version
        runtime.saved_version = version
    return [spec.id for spec in new]
