"""Put a swarm with two agents and queued tasks into a store, for transports started later."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api.services import Services, build_services
from api.settings import ServiceSettings
from api.swarm_schemas import AgentIn, TaskIn

__all__ = ["seed_swarm", "seed_swarm_in"]


async def seed_swarm_in(services: Services, swarm: str) -> None:
    await services.swarms.register(swarm, [AgentIn(id="w0"), AgentIn(id="w1", speed=2.0)])
    await services.swarms.submit(swarm, [TaskIn(id=f"t{k}") for k in range(8)])


def seed_swarm(data_dir: Path, swarm: str) -> None:
    """Seed through the service objects, then stop them so the state is flushed."""
    services = build_services(ServiceSettings(data_dir=data_dir, run_jobs=False))
    services.start()
    try:
        asyncio.run(seed_swarm_in(services, swarm))
    finally:
        services.stop()
