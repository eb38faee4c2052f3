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
    env = simpy.Environment()
    coord = Coordinator(
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
    agents: dict[str, _SimAgent] = {}
    for spec in workload.agents():
        coord.register_agent(spec)
        agents[spec.id] = _SimAgent(spec.id, spec.speed, faults.get(spec.id, []))
    idle: list[tuple[float, int, _SimAgent]] = []
    seq = itertools.count()
    total = workload.n_tasks
    state = {"arrived": 0, "last_done": 0.0}
    finished = env.event()
    kpi = coord.kpi
    fails: dict[str, int] = {}
    opened: dict[str, tuple[int, float]] = {}

    def now_fault(agent: _SimAgent) -> float:
        return min(f.start_s for f in agent.faults if f.kind == "fail")

    def hand_out(limit: int) -> None:
        """Offer work to idle agents, fastest first; stop at the first refusal."""
        while idle and limit > 0:
            _neg, _seq, agent = idle[0]
            if not agent.idle:
                heapq.heappop(idle)
                continue
            limit -= 1
            task = coord.next_for(agent.id)
            if task is None:
                return
            heapq.heappop(idle)
            agent.idle = False
            assert agent.wake is not None
            agent.wake.succeed(task)

    def check_finished() -> None:
        if (
            state["arrived"] == total
            and kpi.completed + kpi.dead_lettered == total
            and not finished.triggered
        ):
            state["last_done"] = env.now
            finished.succeed()

    def agent_loop(agent: _SimAgent) -> Generator[simpy.Event, Any, None]:
        task: TaskRecord | None = None
        while True:
            if task is None:
                task = coord.next_for(agent.id)
            if task is None:
                agent.idle = True
                agent.wake = env.event()
                heapq.heappush(idle, (-agent.speed, next(seq), agent))
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
                if agent.id not in opened:
                    fails[agent.id] = fails.get(agent.id, 0) + 1
                    if coord.agents[agent.id].breaker.state == "open":
                        opened[agent.id] = (fails[agent.id], env.now - now_fault(agent))
                hand_out(2)
            else:
                coord.complete(task.id, agent.id, run_s)
            task = None
            check_finished()

    def arrivals() -> Generator[simpy.Event, Any, None]:
        steal_on = coord.steal_policy is not None
        for at, spec in workload.arrivals():
            if at > env.now:
                yield env.timeout(at - env.now)
            where = coord.submit(spec)
            state["arrived"] += 1
            if until_last_arrival and state["arrived"] == total:
                state["last_done"] = env.now
                finished.succeed()
                return
            if where is None:
                hand_out(2)
            else:
                target = agents[where]
                if target.idle:
                    task = coord.next_for(where)
                    if task is not None:
                        target.idle = False
                        assert target.wake is not None
                        target.wake.succeed(task)
                elif steal_on and idle:
                    hand_out(1)
        check_finished()

    def ticker() -> Generator[simpy.Event, Any, None]:
        beats = any(f.kind == "crash" for f in workload.faults)
        while not finished.triggered:
            yield env.timeout(tick_s)
            if beats:
                for agent in agents.values():
                    if not agent.crashed:
                        coord.heartbeat(agent.id)
            coord.tick()
            hand_out(4)

    for agent in agents.values():
        env.process(agent_loop(agent))
    env.process(arrivals())
    env.process(ticker())
    env.run(until=finished)
    first = next(iter(opened.values()), (None, None))
    return _result(
        workload, policy, coord, state["last_done"], time.perf_counter() - started, first
    )


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
