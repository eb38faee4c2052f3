"""Run a workflow (a task graph) through the coordinator core with SimPy; compare to HEFT.

Every task is submitted at time 0 in one batch (`submit_all`), so tasks wait for their
predecessors inside the coordinator and are released, in upward-rank order, as those
complete. Agents pull, run `work / speed` seconds and complete; a completion offers
work to every idle agent, fastest first. The makespan is the last completion's time.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from allocator.coordinator import Coordinator, CoordinatorConfig, TaskRecord
from allocator.simulation.policies import SimPolicy
from allocator.simulation.workflows import WorkflowLoad, online_heft

__all__ = ["WorkflowResult", "compare_workflow", "simulate_workflow"]


@dataclass(frozen=True)
class WorkflowResult:
    """One policy on one workflow: its makespan against online HEFT and the lower bound."""

    policy: str
    workload: str
    tasks: int
    agents: int
    makespan_s: float
    heft_online_s: float
    lower_bound_s: float
    completed: int
    wall_s: float

    @property
    def ratio_to_heft(self) -> float:
        return self.makespan_s / self.heft_online_s if self.heft_online_s else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "workload": self.workload,
            "tasks": self.tasks,
            "agents": self.agents,
            "makespan_s": self.makespan_s,
            "heft_online_s": self.heft_online_s,
            "ratio_to_heft": self.ratio_to_heft,
            "lower_bound_s": self.lower_bound_s,
            "completed": self.completed,
            "wall_s": self.wall_s,
        }


def simulate_workflow(
    load: WorkflowLoad, policy: SimPolicy, *, seed: int = 0, heft_s: float | None = None
) -> WorkflowResult:
    """Run `load` to completion under `policy`. Raises if a task is left undone."""
    started = time.perf_counter()
    env = simpy.Environment()
    cfg = CoordinatorConfig(
        placement=policy.placement,  # type: ignore[arg-type]
        choices=policy.choices,
        speed_aware=policy.speed_aware,
        emit_commands=False,
        seed=seed,
        lease_timeout_s=1e12,
        heartbeat_timeout_s=1e12,
    )
    coord = Coordinator(cfg, queue=policy.queue, steal=policy.steal, clock=lambda: env.now)
    speeds: dict[str, float] = {}
    for spec in load.agents():
        coord.register_agent(spec)
        speeds[spec.id] = spec.speed
    _accepted, rejected = coord.submit_all(load.specs())
    if rejected:
        raise RuntimeError(f"workflow tasks rejected: {dict(list(rejected.items())[:3])}")
    idle: list[tuple[float, int, str]] = []
    wakes: dict[str, simpy.Event] = {}
    seq = itertools.count()
    state = {"last": 0.0}

    def hand_out() -> None:
        """Offer work to every idle agent, fastest first (local queues differ per agent)."""
        still: list[tuple[float, int, str]] = []
        while idle:
            entry = heapq.heappop(idle)
            task = coord.next_for(entry[2])
            if task is None:
                still.append(entry)
            else:
                wakes.pop(entry[2]).succeed(task)
        for entry in still:
            heapq.heappush(idle, entry)

    def agent_loop(agent: str) -> Generator[simpy.Event, Any, None]:
        while True:
            task: TaskRecord | None = coord.next_for(agent)
            if task is None:
                wakes[agent] = env.event()
                heapq.heappush(idle, (-speeds[agent], next(seq), agent))
                task = yield wakes[agent]
            assert task is not None
            yield env.timeout((task.work or task.est) / speeds[agent])
            coord.complete(task.id, agent)
            state["last"] = env.now
            hand_out()

    for agent in speeds:
        env.process(agent_loop(agent))
    env.run()
    if len(coord.done) != load.n_tasks:
        raise RuntimeError(f"{load.n_tasks - len(coord.done)} workflow tasks never ran")
    coord.validate()
    return WorkflowResult(
        policy=policy.name,
        workload=load.name,
        tasks=load.n_tasks,
        agents=len(speeds),
        makespan_s=state["last"],
        heft_online_s=online_heft(load) if heft_s is None else heft_s,
        lower_bound_s=load.lower_bound_s(),
        completed=len(coord.done),
        wall_s=time.perf_counter() - started,
    )


def compare_workflow(
    load: WorkflowLoad, policies: list[SimPolicy], *, seed: int = 0
) -> list[WorkflowResult]:
    """Every policy on the same workflow; online HEFT computed once."""
    heft_s = online_heft(load)
    return [simulate_workflow(load, p, seed=seed, heft_s=heft_s) for p in policies]
