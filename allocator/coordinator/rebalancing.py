"""Rebalancing: `threshold` moves tail tasks off overloaded agents at once; `adaptive`
asks for a re-solve of the queued work (see `resolution`), whose plan comes back later.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.coordinator.dispatch import available, eligible
from allocator.coordinator.errors import CoordinatorError
from allocator.coordinator.events import Command, Rebalance, Rebalanced, ResolveRequested
from allocator.coordinator.plans import PlanResult
from allocator.coordinator.records import AgentRecord

if TYPE_CHECKING:
    from allocator.coordinator.state import CoordinatorState

__all__ = ["STRATEGIES", "Outcome", "check_rebalance", "threshold"]

STRATEGIES: tuple[str, ...] = ("threshold", "adaptive")


@dataclass
class Outcome:
    """What a rebalancing step did.

    `request` is set when the step asked for a re-solve (nothing moved yet); `plan`
    when it applied the answer to one.
    """

    strategy: str
    migrations: int
    applied: bool
    detail: str
    request: ResolveRequested | None = None
    plan: PlanResult | None = None

    def commands(self) -> list[Command]:
        """The commands `handle` returns for this step, in order."""
        out: list[Command] = [] if self.plan is None else [self.plan.command()]
        if self.request is not None:
            out.append(self.request)
        else:
            out.append(Rebalanced(self.strategy, self.migrations, self.detail, self.applied))
        return out


def check_rebalance(event: Rebalance) -> None:
    """Raise CoordinatorError naming the first field of `event` that is out of range."""
    if event.strategy not in STRATEGIES:
        raise CoordinatorError(
            f"rebalancing strategy {event.strategy!r} is unknown; "
            f"choose one of {', '.join(STRATEGIES)}"
        )
    if not event.tolerance >= 0:
        raise CoordinatorError(f"tolerance is {event.tolerance}; use a share >= 0, e.g. 0.2")
    if not 0 <= event.margin < 1:
        raise CoordinatorError(f"margin is {event.margin}; use a share in [0, 1), e.g. 0.1")
    if not event.migration_weight >= 0:
        raise CoordinatorError(f"migration_weight is {event.migration_weight}; use a number >= 0")
    moves = event.max_moves
    if moves is not None and (isinstance(moves, bool) or not isinstance(moves, int) or moves < 1):
        raise CoordinatorError(f"max_moves is {moves!r}; use a whole number >= 1, or None")


def _backlog_s(agent: AgentRecord) -> float:
    return (agent.load + agent.leased_load) / agent.speed


def threshold(coord: CoordinatorState, now: float, tolerance: float) -> Outcome:
    """Agents above mean backlog * (1 + tolerance) give tail tasks to the least loaded.

    The mean is speed-weighted (total work over total speed). A move happens only if
    it leaves the receiver below the giver, so a second run moves nothing back.
    O(n log n + moves log n).
    """
    agents = [a for a in coord.agent_list if available(a)]
    speed = sum(a.speed for a in agents)
    if not agents or speed <= 0:
        return Outcome("threshold", 0, False, "no available agents")
    mean_s = sum(a.load + a.leased_load for a in agents) / speed
    limit_s = mean_s * (1.0 + tolerance)
    under = [(_backlog_s(a), a.index, a) for a in agents if _backlog_s(a) < mean_s]
    heapq.heapify(under)
    moved = 0
    for giver in sorted(agents, key=_backlog_s, reverse=True):
        if _backlog_s(giver) <= limit_s or not under:
            break
        while _backlog_s(giver) > limit_s and under and len(giver.queue):
            task = giver.queue.steal_one()
            assert task is not None
            giver.load -= task.est
            _b, _i, taker = heapq.heappop(under)
            gives = (
                taker is not giver
                and eligible(taker, task)
                and _backlog_s(taker) + task.est / taker.speed < _backlog_s(giver)
            )
            if not gives:
                giver.queue.unsteal(task)
                giver.load += task.est
                heapq.heappush(under, (_backlog_s(taker), taker.index, taker))
                break
            coord.detach_stolen(giver, task)
            coord._migrated(task, giver, taker, now, "rebalance")
            moved += 1
            if _backlog_s(taker) < mean_s:
                heapq.heappush(under, (_backlog_s(taker), taker.index, taker))
    return Outcome("threshold", moved, moved > 0, f"mean backlog {mean_s:.3g} s")
