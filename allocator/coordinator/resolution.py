"""Adaptive rebalancing as a round trip: request a re-solve, judge its plan, apply it.

The core only builds the request (the queued work as a `models.Problem`, each task's
`current_agent` set and a migration cost in the objective) and later applies the
answer. `answer_request` runs the resolver and judges its plan; callers run it outside
the core and outside any lock, so a slow solve never holds up pulls or heartbeats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocator.coordinator.dispatch import available
from allocator.coordinator.events import ApplyPlan, Rebalance, ResolveDeclined, ResolveRequested
from allocator.coordinator.plans import apply_plan
from allocator.coordinator.rebalancing import Outcome
from models import (
    Agent,
    CompiledProblem,
    Objectives,
    Plan,
    Problem,
    Task,
    compile_problem,
    evaluate_plan,
)
from models import plan_to_array as _plan_to_array

if TYPE_CHECKING:
    from allocator.coordinator.state import CoordinatorState

__all__ = [
    "PendingResolve",
    "Resolver",
    "answer_request",
    "build_problem",
    "finish_resolve",
    "judge_plan",
    "request_resolve",
]

#: Re-solve function: (queued work with current_agent set, move budget or None) -> a plan.
Resolver = Callable[[Problem, int | None], Plan]
_PRIORITY_NAMES = ("critical", "high", "normal", "low")
# Makespan alone is flat under single moves (only the busiest agent counts), which
# leaves a move-budgeted re-plan without a direction; mean completion time (what
# queue latency measures) gives every move a signal. Makespan still dominates.
_COMPLETION_WEIGHT = 0.2


@dataclass(frozen=True, slots=True)
class PendingResolve:
    """The re-solve in flight: its id, when it was asked for, how many tasks it covers."""

    request_id: int
    requested_at: float
    tasks: int


def build_problem(coord: CoordinatorState, migration_weight: float = 0.05) -> Problem | None:
    """Queued work on local queues as a `models.Problem` (current_agent set). O(n + m)."""
    agents = [a for a in coord.agent_list if available(a)]
    queued = [t for a in agents for t in a.queue.tasks()]
    if not agents or not queued:
        return None
    dims = sorted(
        {d for a in agents for d in a.capacity} | {d for t in queued for d in t.demand or {}}
    )
    mean_runtime = (
        sum(t.est for t in queued) / len(queued) / (sum(a.speed for a in agents) / len(agents))
    )
    return Problem(
        name="rebalance",
        resources=dims or ["cpu"],
        agents=[
            Agent(
                id=a.id,
                capacity=dict(a.capacity),
                speed=a.speed,
                capabilities=sorted(a.capabilities),
                node=None,
            )
            for a in agents
        ],
        tasks=[
            Task(
                id=t.id,
                demand=dict(t.demand or {}),
                work=t.est,
                priority=_PRIORITY_NAMES[min(max(t.priority, 0), 3)],  # type: ignore[arg-type]
                requires=sorted(t.requires),
                tenant=t.tenant,
                weight=t.weight,
                kind=t.kind,
                pinned_agent=t.pinned,
                current_agent=t.agent.id if t.agent is not None else None,
            )
            for t in queued
        ],
        objectives=Objectives(
            mode="weighted",
            weights={
                "makespan": 1.0,
                "weighted_completion": _COMPLETION_WEIGHT,
                "migrations": migration_weight * mean_runtime,
            },
        ),
    )


def request_resolve(coord: CoordinatorState, now: float, event: Rebalance) -> Outcome:
    """Ask for a re-solve of the queued work; at most one is in flight. O(n + m)."""
    pending = coord.pending_resolve
    if pending is not None:
        return Outcome(
            "adaptive",
            0,
            False,
            f"re-solve request {pending.request_id} is still in flight; wait for its plan",
        )
    problem = build_problem(coord, event.migration_weight)
    if problem is None:
        return Outcome("adaptive", 0, False, "nothing queued on agents")
    coord.resolve_seq += 1
    request = ResolveRequested(coord.resolve_seq, problem, event.margin, event.max_moves)
    coord.pending_resolve = PendingResolve(request.request_id, now, len(problem.tasks))
    detail = f"re-solve {request.request_id} requested for {len(problem.tasks)} queued tasks"
    return Outcome("adaptive", 0, False, detail, request=request)


def finish_resolve(
    coord: CoordinatorState, answer: ApplyPlan | ResolveDeclined, now: float
) -> Outcome:
    """Close the pending request with its answer; a plan moves only tasks still queued."""
    pending = coord.pending_resolve
    if pending is None or pending.request_id != answer.request_id:
        return Outcome(
            "adaptive", 0, False, f"no re-solve {answer.request_id} is pending; answer ignored"
        )
    coord.pending_resolve = None
    if isinstance(answer, ResolveDeclined):
        return Outcome("adaptive", 0, False, answer.reason)
    result = apply_plan(coord, answer.plan, now, reason="rebalance")
    detail = answer.note or f"plan of re-solve {pending.request_id} applied"
    if result.skipped:
        # Leased, finished or moved out of reach while the solver ran: left where they are.
        detail += f"; {len(result.skipped)} planned tasks skipped (no longer movable)"
    return Outcome("adaptive", result.migrations, True, detail, plan=result)


def judge_plan(request: ResolveRequested, plan: Plan) -> ApplyPlan | ResolveDeclined:
    """Accept `plan` only if it is feasible and beats the current placement by the margin.

    Both are scored on the request's problem (the queue as it was when asked). Over the
    request's `max_moves`, only the best single moves are kept (each scored alone
    against the current placement). The `ApplyPlan` names only tasks that move, so
    tasks it leaves alone are not pulled back if they moved meanwhile. Pure.
    """
    request_id = request.request_id
    compiled = compile_problem(request.problem)
    current = np.asarray(compiled.current)
    try:
        proposed = _plan_to_array(compiled, plan)
    except ValueError as exc:
        return ResolveDeclined(request_id, f"re-solve plan unusable: {exc}")
    proposed, trimmed = _within_budget(compiled, current, proposed, request.max_moves)
    before = evaluate_plan(compiled, current)
    after = evaluate_plan(compiled, proposed)
    if after.violations:
        return ResolveDeclined(
            request_id, f"re-solve plan infeasible: {after.violations[0].message}"
        )
    if after.score > (1.0 - request.margin) * before.score:
        return ResolveDeclined(
            request_id,
            f"kept current plan: {after.score:.4g} vs {before.score:.4g} is under the "
            f"{request.margin:.0%} improvement margin{trimmed}",
        )
    moved = np.flatnonzero(proposed != current)
    ids, agents = compiled.task_ids, compiled.agent_ids
    moves = Plan(assignments={ids[j]: agents[proposed[j]] for j in moved if proposed[j] >= 0})
    return ApplyPlan(
        moves, request_id, f"objective {before.score:.4g} -> {after.score:.4g}{trimmed}"
    )


def _within_budget(
    compiled: CompiledProblem, current: np.ndarray, proposed: np.ndarray, max_moves: int | None
) -> tuple[np.ndarray, str]:
    """`proposed` with at most `max_moves` changes from `current`, and a note if it was cut."""
    moved = np.flatnonzero(proposed != current)
    if max_moves is None or len(moved) <= max_moves:
        return proposed, ""
    base = evaluate_plan(compiled, current).score
    gains = []
    for j in moved.tolist():
        trial = current.copy()
        trial[j] = proposed[j]
        gains.append((evaluate_plan(compiled, trial).score - base, j))
    best = [j for gain, j in sorted(gains)[:max_moves] if gain < 0]
    kept = current.copy()
    kept[best] = proposed[best]
    return kept, f" (the best {len(best)} of its {len(moved)} moves: max_moves {max_moves})"


def answer_request(request: ResolveRequested, resolver: Resolver) -> ApplyPlan | ResolveDeclined:
    """Run `resolver` on the request and judge its plan: the event to feed back.

    Call it outside the coordinator and its lock. A resolver that raises becomes a
    `ResolveDeclined` with the error, so the request is always answered.
    """
    try:
        plan = resolver(request.problem, request.max_moves)
    except Exception as exc:  # a failed solve must still close the request
        return ResolveDeclined(request.request_id, f"re-solve failed: {exc}")
    return judge_plan(request, plan)
