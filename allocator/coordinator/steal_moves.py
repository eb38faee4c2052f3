"""How a steal moves work: when a move pays, and taking tasks from a victim's tail.

`steal_from` moves queued, never-started tasks from a victim's tail only when the
move pays: the thief must finish the task sooner than the victim would, by the
transfer cost plus a margin. A task is never handed back to the agent it was taken
from and stays put for `min_residence_s`, so nothing thrashes; each moved task must
also pass the thief's eligibility filter. A victim whose whole backlog is below the
thief's `payback_bar` is passed over in O(1), and a queue that can list its tail in
place (`steal_candidates`) is only touched for the tasks that move. The policies that
pick victims live in `stealing`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from allocator.coordinator.dispatch import eligible
from allocator.coordinator.kpis import KpiCounters
from allocator.coordinator.loadindex import LoadIndex, NodeLoadIndex
from allocator.coordinator.records import AgentRecord, TaskRecord

__all__ = ["NO_TASK", "StealHost", "StealParams", "payback_bar", "steal_from", "take_from"]


class StealHost(Protocol):
    """What a policy may touch: the coordinator's state and its one move primitive."""

    index: LoadIndex
    agent_list: list[AgentRecord]
    rng: random.Random
    hunters: int
    busy_agents: int
    min_est: float  # no task ever accepted had a smaller est (a bound for the gain test)
    kpi: KpiCounters  # steal_attempts / steal_successes (`count_steal_attempt` adds them)

    def node_index(self, node: str) -> NodeLoadIndex | None: ...

    def count_steal_attempt(self, succeeded: bool, tries: int = 1) -> None: ...

    def detach_stolen(self, victim: AgentRecord, task: TaskRecord) -> None: ...

    def refile(self, agent: AgentRecord) -> None: ...

    def move_stolen(
        self, task: TaskRecord, victim: AgentRecord, thief: AgentRecord, now: float
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class StealParams:
    """When a move pays. `gain_check=False` is the seed's unconditional behaviour."""

    gain_check: bool = True
    margin_s: float = 0.0
    margin_ratio: float = 0.1  # of the task's runtime on the thief
    min_residence_s: float = 1.0


def _worth_moving(
    task: TaskRecord,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    transfer_s: float,
    p: StealParams,
) -> bool:
    if (task.constrained or thief.max_tasks is not None) and not eligible(thief, task):
        return False
    if not p.gain_check:
        return True
    if task.prev_agent is thief or now - task.moved_at < p.min_residence_s:
        return False
    est = task.est
    # The tail task finishes last on the victim; `task` is already out of victim.load.
    victim_finish = (victim.load + victim.leased_load + est) / victim.speed
    on_thief = est / thief.speed
    thief_finish = (thief.load + thief.leased_load) / thief.speed + on_thief + transfer_s
    return victim_finish - thief_finish > p.margin_s + p.margin_ratio * on_thief


NO_TASK = float("inf")  # `min_est` before any task was accepted: no bound known


def payback_bar(host: StealHost, thief: AgentRecord, transfer_s: float, p: StealParams) -> float:
    """A victim whose backlog (queued + leased work over its speed) is at most this has
    no task worth moving to `thief`; -inf when no such bound is known.

    Every task's est is at least `host.min_est`; in `_worth_moving` a task's
    `victim_finish` is at most the victim's backlog, and `thief_finish` plus the margin
    grow with est, so est = min_est bounds every candidate. Lets a slow thief pass over
    a fast victim without looking at its queue; a hair of slack keeps rounding from
    ever refusing a move the full test would make.
    """
    min_est = host.min_est
    if not p.gain_check or not 0.0 <= min_est < NO_TASK or p.margin_ratio < 0.0:
        return -NO_TASK
    speed = thief.speed
    bar = (thief.load + thief.leased_load + min_est) / speed + transfer_s
    bar += p.margin_s + p.margin_ratio * min_est / speed
    return bar - 1e-9 * (1.0 + abs(bar))


def steal_from(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
    bar: float | None = None,
) -> int:
    """Move up to `max_tasks` tasks from `victim`'s tail to `thief`. O(max_tasks).

    `bar`: `payback_bar(host, thief, transfer_s, params)` when the caller has it.
    """
    if bar is None:
        bar = payback_bar(host, thief, transfer_s, params)
    if (victim.load + victim.leased_load) / victim.speed <= bar:
        host.count_steal_attempt(False)
        return 0
    return take_from(host, victim, thief, now, max_tasks, transfer_s, params)


def take_from(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
) -> int:
    """`steal_from` for a victim the caller already found above the payback bar."""
    candidates = victim.queue.steal_candidates()
    if candidates is None:
        moved = _take_and_put_back(host, victim, thief, now, max_tasks, transfer_s, params)
    else:
        moved = _look_then_take(host, victim, thief, now, max_tasks, transfer_s, params, candidates)
    kpi = host.kpi  # count_steal_attempt(moved > 0), inlined: a steal's one bookkeeping call
    kpi.steal_attempts += 1
    if moved:
        kpi.steal_successes += 1
    return moved


def _look_then_take(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
    candidates: Iterator[tuple[Any, ...]],
) -> int:
    """`steal_from` on a queue that lists its tail in place: only moved tasks leave it.

    Same decisions as taking each tail task out and putting the unsuitable ones back
    (each candidate is judged with the ones looked at before it out of `victim.load`),
    without touching the queue when no move pays (the usual case for a slow thief).
    """
    moved = 0
    budget = max_tasks + 2  # a couple of unsuitable tail tasks may be skipped
    skipped = 0.0
    queue = victim.queue
    for entry in candidates:
        task = entry[-1]
        if task.qtoken != entry[-2] or task.queue is not queue:
            continue  # a stale entry (the task left this queue): not a candidate
        est = task.est
        victim.load -= est
        if _worth_moving(task, victim, thief, now, transfer_s, params):
            queue.remove(task)
            host.detach_stolen(victim, task)
            host.move_stolen(task, victim, thief, now)
            moved += 1
        else:
            skipped += est
        budget -= 1
        if moved >= max_tasks or budget <= 0:
            break
    victim.load += skipped
    return moved


def _take_and_put_back(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
) -> int:
    """`steal_from` on a queue that must give a task up to show it (then takes it back)."""
    queue = victim.queue
    moved = 0
    rejected: list[TaskRecord] = []
    budget = max_tasks + 2  # a couple of unsuitable tail tasks may be skipped
    while moved < max_tasks and budget > 0 and len(queue):
        budget -= 1
        task = queue.steal_one()
        if task is None:
            break
        victim.load -= task.est
        if _worth_moving(task, victim, thief, now, transfer_s, params):
            host.detach_stolen(victim, task)
            host.move_stolen(task, victim, thief, now)
            moved += 1
        else:
            rejected.append(task)
    for task in reversed(rejected):
        queue.unsteal(task)
        victim.load += task.est
    if rejected:
        host.refile(victim)  # the queue grew back after detach_stolen refiled it
    return moved
