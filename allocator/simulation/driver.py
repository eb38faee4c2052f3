"""Drive the coordinator core with SimPy: agents pull, run, fail, crash and recover.

Agents are SimPy processes; an idle agent sleeps on its own event and is handed
work synchronously by whoever made work appear (fastest idle agent first), so there
is no thundering herd. The coordinator's clock is `env.now`.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from allocator.coordinator import BreakerConfig, Coordinator, CoordinatorConfig, TaskRecord
from allocator.simulation.policies import SimPolicy
from allocator.simulation.workloads import Fault, Workload, lower_bound_s

__all__ = ["SimResult", "simulate"]


@dataclass
class SimResult:
    """One policy on one workload: makespan against the bound, and every KPI."""

    policy: str
    label: str
    workload: str
    tasks: int
    agents: int
    makespan_s: float
    lower_bound_s: float
    makespan_ratio: float
    migrated_fraction: float
    lost: int
    wall_s: float
    kpis: dict[str, Any] = field(default_factory=dict)
    breaker_open_after_calls: int | None = None
    breaker_open_after_s: float | None = None

    def row(self) -> dict[str, Any]:
        """A flat dict for tables and JSON."""
        k = self.kpis
        return {
            "policy": self.policy,
            "label": self.label,
            "workload": self.workload,
            "tasks": self.tasks,
            "agents": self.agents,
            "makespan_s": self.makespan_s,
            "lower_bound_s": self.lower_bound_s,
            "makespan_ratio": self.makespan_ratio,
            "migrated_pct": 100.0 * self.migrated_fraction,
            "steals": k.get("tasks_stolen", 0),
            "steal_success_rate": k.get("steal_success_rate", 0.0),
            "latency_p50_s": k.get("queue_latency_p50_s", 0.0),
            "latency_p95_s": k.get("queue_latency_p95_s", 0.0),
            "latency_p99_s": k.get("queue_latency_p99_s", 0.0),
            "utilisation": k.get("utilisation_efficiency", 0.0),
            "balance_efficiency": k.get("balance_efficiency", 0.0),
            "jain_fairness": k.get("jain_fairness", 1.0),
            "tenant_share": k.get("tenant_share", {}),
            "dead_lettered": k.get("dead_lettered", 0),
            "lost": self.lost,
            "breaker_open_after_calls": self.breaker_open_after_calls,
            "breaker_open_after_s": self.breaker_open_after_s,
            "wall_s": self.wall_s,
        }


class _SimAgent:
    __slots__ = ("crashed", "faults", "id", "idle", "speed", "wake")

    def __init__(self, agent_id: str, speed: float, faults: list[Fault]) -> None:
        self.id = agent_id
        self.speed = speed
        self.faults = faults
        self.idle = False
        self.crashed = False
        self.wake: simpy.Event | None = None

    def fault(self, kind: str, now: float) -> Fault | None:
        for f in self.faults:
            if f.kind == kind and f.start_s <= now < f.end_s:
                return f
        return None


def _config(policy: SimPolicy, workload: Workload, seed: int) -> CoordinatorConfig:
    crashes = any(f.kind == "crash" for f in workload.faults)
    return CoordinatorConfig(
        placement=policy.placement,  # type: ignore[arg-type]
        choices=policy.choices,
        speed_aware=policy.speed_aware,
        emit_commands=False,
        seed=seed,
        max_retries=5,
        heartbeat_timeout_s=5.0 if crashes else 1e12,
        lease_timeout_s=1e12,
        breaker=BreakerConfig(minimum_calls=10, window_size=20, wait_open_s=5.0),
    )


def simulate(
    workload: Workload,
    policy: SimPolicy,
    *,
    seed: int = 0,
    tick_s: float = 1.0,
    until_last_arrival: bool = False,
) -> SimResult:
    """Run `workload` under `policy` to completion. Wall time grows ~linearly in tasks.

    `until_last_arrival` stops when the last task arrives (for overload studies
    such as tenant shares, where draining the backlog would even shares out).
    """
    started = time.perf_counter()
    run = _Simulation(workload, policy, seed, tick_s, until_last_arrival)
    run.run()
    first = next(iter(run.opened.values()), (None, None))
    return _result(workload, policy, run.coord, run.last_done, time.perf_counter() - started, first)


class _Simulation:
    """One run's SimPy processes (agents, arrivals, a ticker) around one coordinator."""

    def __init__(
        self,
        workload: Workload,
        policy: SimPolicy,
        seed: int,
        tick_s: float,
        until_last_arrival: bool,
    ) -> None:
        self.workload, self.tick_s, self.until_last_arrival = workload, tick_s, until_last_arrival
        self.env = env = simpy.Environment()
        self.coord = Coordinator(
            _config(policy, workload, seed),
            queue=policy.queue,
            steal=policy.steal,
            clock=lambda: env.now,
            tenant_weights=workload.tenant_weights,
            distance_ms=workload.distance_ms() if workload.racks else None,
        )
        faults: dict[str, list[Fault]] = {}
        for f in workload.faults:
            faults.setdefault(f.agent, []).append(f)
        self.agents: dict[str, _SimAgent] = {}
        for spec in workload.agents():
            self.coord.register_agent(spec)
            self.agents[spec.id] = _SimAgent(spec.id, spec.speed, faults.get(spec.id, []))
        self.idle: list[tuple[float, int, _SimAgent]] = []  # (-speed, seq, agent): fastest first
        self.seq = itertools.count()
        self.arrived = 0
        self.last_done = 0.0
        self.finished = env.event()
        self.fails: dict[str, int] = {}
        # Per agent whose breaker opened: (failures it took, seconds since its faults began).
        self.opened: dict[str, tuple[int, float]] = {}

    def run(self) -> None:
        for agent in self.agents.values():
            self.env.process(self.agent_loop(agent))
        self.env.process(self.arrivals())
        self.env.process(self.ticker())
        self.env.run(until=self.finished)

    def hand_out(self, limit: int) -> None:
        """Offer work to idle agents, fastest first; stop at the first refusal."""
        idle = self.idle
        while idle and limit > 0:
            _neg, _seq, agent = idle[0]
            if not agent.idle:
                heapq.heappop(idle)
                continue
            limit -= 1
            task = self.coord.next_for(agent.id)
            if task is None:
                return
            heapq.heappop(idle)
            self.give(agent, task)

    def give(self, agent: _SimAgent, task: TaskRecord) -> None:
        """Wake an idle agent with `task`."""
        agent.idle = False
        assert agent.wake is not None
        agent.wake.succeed(task)

    def check_finished(self) -> None:
        kpi = self.coord.kpi
        if (
            self.arrived == self.workload.n_tasks
            and kpi.completed + kpi.dead_lettered == self.workload.n_tasks
            and not self.finished.triggered
        ):
            self.last_done = self.env.now
            self.finished.succeed()

    def agent_loop(self, agent: _SimAgent) -> Generator[simpy.Event, Any, None]:
        env, coord = self.env, self.coord
        task: TaskRecord | None = None
        while True:
            if task is None:
                task = coord.next_for(agent.id)
            if task is None:
                agent.idle = True
                agent.wake = env.event()
                heapq.heappush(self.idle, (-agent.speed, next(self.seq), agent))
                task = yield agent.wake
                continue
            now = env.now
            slow = agent.fault("slow", now)
            run_s = (task.work or task.est) / (agent.speed / (slow.factor if slow else 1.0))
            failing = agent.fault("fail", now) is not None
            yield env.timeout(run_s * 0.1 if failing else run_s)
            crash = agent.fault("crash", env.now) or agent.fault("crash", now)
            if crash is not None:
                agent.crashed = True  # the result is lost; the lease will expire
                yield env.timeout(max(0.0, crash.end_s - env.now))
                agent.crashed = False
            elif failing:
                coord.fail(task.id, agent.id, "injected failure")
                self.count_failure(agent)
                self.hand_out(2)
            else:
                coord.complete(task.id, agent.id, run_s)
            task = None
            self.check_finished()

    def count_failure(self, agent: _SimAgent) -> None:
        """Count an injected failure until the agent's breaker opens; note when it did."""
        if agent.id in self.opened:
            return
        self.fails[agent.id] = self.fails.get(agent.id, 0) + 1
        if self.coord.agents[agent.id].breaker.state == "open":
            first_fault = min(f.start_s for f in agent.faults if f.kind == "fail")
            self.opened[agent.id] = (self.fails[agent.id], self.env.now - first_fault)

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, coord, total = self.env, self.coord, self.workload.n_tasks
        steal_on = coord.steal_policy is not None
        for at, spec in self.workload.arrivals():
            if at > env.now:
                yield env.timeout(at - env.now)
            where = coord.submit(spec)
            self.arrived += 1
            if self.until_last_arrival and self.arrived == total:
                self.last_done = env.now
                self.finished.succeed()
                return
            if where is None:
                self.hand_out(2)
            elif self.agents[where].idle:
                task = coord.next_for(where)
                if task is not None:
                    self.give(self.agents[where], task)
            elif steal_on and self.idle:
                self.hand_out(1)
        self.check_finished()

    def ticker(self) -> Generator[simpy.Event, Any, None]:
        beats = any(f.kind == "crash" for f in self.workload.faults)
        while not self.finished.triggered:
            yield self.env.timeout(self.tick_s)
            if beats:
                for agent in self.agents.values():
                    if not agent.crashed:
                        self.coord.heartbeat(agent.id)
            self.coord.tick()
            self.hand_out(4)


def _result(
    workload: Workload,
    policy: SimPolicy,
    coord: Coordinator,
    makespan_s: float,
    wall_s: float,
    breaker_open: tuple[int | None, float | None],
) -> SimResult:
    metrics = coord.metrics().to_dict()
    bound = lower_bound_s(workload.work, workload.speeds)
    kpi = coord.kpi
    lost = kpi.submitted - len(coord.done) - len(coord.dead) - len(coord.tasks)
    calls, seconds = breaker_open
    return SimResult(
        policy=policy.name,
        label=policy.label or policy.name,
        workload=workload.name,
        tasks=workload.n_tasks,
        agents=len(workload.speeds),
        makespan_s=makespan_s,
        lower_bound_s=bound,
        makespan_ratio=makespan_s / bound if bound else 0.0,
        migrated_fraction=kpi.migrations / kpi.submitted if kpi.submitted else 0.0,
        lost=lost,
        wall_s=wall_s,
        kpis=metrics,
        breaker_open_after_calls=calls,
        breaker_open_after_s=seconds,
    )
