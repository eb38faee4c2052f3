"""Verify a workflow schedule: precedence with transfer delays, one task at a time per agent.

A schedule is a start time per task (the agent comes from the assignment; the finish is
start + work / speed). `derive_schedule` builds one from an assignment alone, so a plan
from an engine that only assigns is still scored on a real schedule.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from models.compiled import CompiledProblem
from models.workflow import WorkflowArrays

__all__ = [
    "ScheduleCheck",
    "ScheduleIssue",
    "check_schedule",
    "derive_schedule",
    "edge_transfer",
    "upward_rank",
]

_MAX_MESSAGES = 20  # per kind; a broken schedule can break thousands of edges


@dataclass(frozen=True)
class ScheduleIssue:
    """One broken scheduling rule, with a reason a person can act on."""

    kind: str  # "precedence", "overlap" or "schedule"
    message: str
    task: str | None = None
    agent: str | None = None


@dataclass
class ScheduleCheck:
    """What a schedule achieves and what it breaks."""

    finish: np.ndarray  # float64[n]; 0 for unassigned tasks
    makespan: float  # latest finish
    issues: list[ScheduleIssue]


def _tolerance(value: np.ndarray) -> np.ndarray:
    # Durations are float32 in compiled arrays; allow their rounding, nothing more.
    return 1e-6 * np.maximum(1.0, np.abs(value))


def edge_transfer(flow: WorkflowArrays, a: np.ndarray) -> np.ndarray:
    """float64[e] seconds each edge delays its successor under assignment `a` (all placed)."""
    ap, as_ = a[flow.pred], a[flow.succ]
    delay = flow.data * flow.per_data[ap, as_] + flow.fixed[ap, as_]
    return np.where(ap == as_, 0.0, delay)


def check_schedule(
    problem: CompiledProblem, assignment: np.ndarray, start: np.ndarray
) -> ScheduleCheck:
    """Check `start` (float64[n]) for `assignment`. O(n log n + e)."""
    flow = problem.workflow
    a = np.asarray(assignment, dtype=np.int64)
    s = np.asarray(start, dtype=np.float64)
    placed = a >= 0
    tasks = problem.task_ids
    issues: list[ScheduleIssue] = []
    if s.shape != a.shape:
        raise ValueError(f"schedule has {s.shape[0]} start times; the problem has {len(a)} tasks")
    dur = np.where(placed, problem.duration[np.maximum(a, 0), np.arange(len(a))], 0.0)
    finish = np.where(placed, s + dur, 0.0)
    bad_start = np.flatnonzero(placed & ~(np.isfinite(s) & (s >= 0)))
    for j in bad_start[:_MAX_MESSAGES]:
        why = (
            "use a time >= 0"
            if np.isfinite(s[j])
            else "give a finite start (inf: no network path delivers its inputs to its agent)"
        )
        issues.append(
            ScheduleIssue("schedule", f"task {tasks[j]} has start {s[j]}; {why}", task=tasks[j])
        )
    if len(bad_start):
        return ScheduleCheck(finish, float("inf"), issues)
    if flow is not None:
        issues.extend(_precedence_issues(problem, flow, a, s, finish))
    issues.extend(_overlap_issues(problem, a, s, finish))
    makespan = float(finish[placed].max()) if placed.any() else 0.0
    return ScheduleCheck(finish, makespan, issues)


def _precedence_issues(
    problem: CompiledProblem,
    flow: WorkflowArrays,
    a: np.ndarray,
    s: np.ndarray,
    finish: np.ndarray,
) -> list[ScheduleIssue]:
    tasks = problem.task_ids
    out: list[ScheduleIssue] = []
    succ_placed = a[flow.succ] >= 0
    orphan = np.flatnonzero(succ_placed & (a[flow.pred] < 0))
    for e in orphan[:_MAX_MESSAGES]:
        p, j = int(flow.pred[e]), int(flow.succ[e])
        out.append(
            ScheduleIssue(
                "precedence",
                f"task {tasks[j]} is placed but its predecessor {tasks[p]} is unassigned; "
                "place both or neither",
                task=tasks[j],
            )
        )
    both = np.flatnonzero(succ_placed & (a[flow.pred] >= 0))
    sub = WorkflowArrays(
        flow.pred[both], flow.succ[both], flow.data[both], flow.per_data, flow.fixed
    )
    ready = finish[sub.pred] + edge_transfer(sub, a)
    early = np.flatnonzero(s[sub.succ] < ready - _tolerance(ready))
    for k in early[:_MAX_MESSAGES]:
        p, j = int(sub.pred[k]), int(sub.succ[k])
        out.append(
            ScheduleIssue(
                "precedence",
                f"task {tasks[j]} starts at {s[j]:.6g} but its predecessor {tasks[p]} "
                f"finishes at {finish[p]:.6g} and its data arrives at {ready[k]:.6g}; "
                "start it later",
                task=tasks[j],
            )
        )
    if len(early) > _MAX_MESSAGES:
        out.append(ScheduleIssue("precedence", f"... and {len(early) - _MAX_MESSAGES} more"))
    return out


def _overlap_issues(
    problem: CompiledProblem, a: np.ndarray, s: np.ndarray, finish: np.ndarray
) -> list[ScheduleIssue]:
    tasks, agents = problem.task_ids, problem.agent_ids
    idx = np.flatnonzero(a >= 0)
    order = idx[np.lexsort((finish[idx], s[idx], a[idx]))]
    same_agent = a[order[1:]] == a[order[:-1]]
    prev_finish = finish[order[:-1]]
    clash = np.flatnonzero(same_agent & (s[order[1:]] < prev_finish - _tolerance(prev_finish)))
    out: list[ScheduleIssue] = []
    for k in clash[:_MAX_MESSAGES]:
        first, second = int(order[k]), int(order[k + 1])
        out.append(
            ScheduleIssue(
                "overlap",
                f"agent {agents[a[first]]} runs {tasks[first]} until {finish[first]:.6g} "
                f"and {tasks[second]} from {s[second]:.6g}; an agent runs one task at a time",
                task=tasks[second],
                agent=agents[a[first]],
            )
        )
    if len(clash) > _MAX_MESSAGES:
        out.append(ScheduleIssue("overlap", f"... and {len(clash) - _MAX_MESSAGES} more"))
    return out


def upward_rank(problem: CompiledProblem, duration: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """float64[n]: the longest path from each task to an exit, its own duration included.

    `duration` is float64[n] per task, `delay` float64[e] per edge.
    """
    n = problem.n_tasks
    rank = np.asarray(duration, dtype=np.float64).copy()
    flow = problem.workflow
    if flow is None:
        return rank
    out_edges: list[list[int]] = [[] for _ in range(n)]
    for e, p in enumerate(flow.pred.tolist()):
        out_edges[p].append(e)
    succ = flow.succ.tolist()
    for j in reversed(flow.topological_order(n)):
        best = 0.0
        for e in out_edges[j]:
            best = max(best, delay[e] + rank[succ[e]])
        rank[j] += best
    return rank


def derive_schedule(problem: CompiledProblem, assignment: np.ndarray) -> np.ndarray:
    """Start times for an assignment: tasks in upward-rank order, each in the earliest
    idle gap of its agent that holds it once its inputs have arrived.

    Unassigned tasks get NaN; an unassigned predecessor is ignored here (the check
    reports it). O(n log n + e).
    """
    a = np.asarray(assignment, dtype=np.int64)
    n = problem.n_tasks
    placed = a >= 0
    dur = np.where(placed, problem.duration[np.maximum(a, 0), np.arange(n)], 0.0)
    flow = problem.workflow
    start = np.full(n, np.nan)
    if flow is None:
        return start
    delay = edge_transfer(flow, np.maximum(a, 0))
    rank = upward_rank(problem, dur, delay)
    topo_pos = np.empty(n, dtype=np.int64)
    topo_pos[flow.topological_order(n)] = np.arange(n)
    # Ranks never increase along an edge; ties go by topological position, so this order
    # is topological.
    order = np.lexsort((topo_pos, -rank))
    in_edges = flow.in_edges(n)
    pred = flow.pred.tolist()
    starts: list[list[float]] = [[] for _ in range(problem.n_agents)]
    finishes: list[list[float]] = [[] for _ in range(problem.n_agents)]
    finish = np.zeros(n)
    for j in order.tolist():
        if not placed[j]:
            continue
        ready = 0.0
        for e in in_edges[j]:
            if placed[pred[e]]:
                ready = max(ready, finish[pred[e]] + delay[e])
        begin, slot = _earliest_gap(starts[a[j]], finishes[a[j]], ready, float(dur[j]))
        start[j], finish[j] = begin, begin + dur[j]
        starts[a[j]].insert(slot, begin)
        finishes[a[j]].insert(slot, begin + float(dur[j]))
    return start


def _earliest_gap(
    starts: list[float], finishes: list[float], ready: float, length: float
) -> tuple[float, int]:
    """(start, slot) of the earliest idle gap from `ready` that holds `length`.

    Runs are sorted by start and so by finish; those ending by `ready` are skipped at once.
    """
    k = bisect_right(finishes, ready)
    begin = ready
    while k < len(starts) and begin + length > starts[k]:
        begin = finishes[k]
        k += 1
    return begin, k
