"""Score any plan against a compiled problem: objectives, violations, loads, fairness.

Every solver's plan is re-checked here before it is reported, so comparisons are
apples to apples and a buggy solver cannot win. Cost: O(n log n + m * d), plus,
when the problem has a topology and communicating tasks, routing the plan's traffic over
the links (`models.placement_network`; a plan over a link's bandwidth is a violation).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from models.compiled import CompiledProblem, ObjectiveSpec
from models.placement_network import LinkUse, link_use, node_traffic, routed_transfers
from models.schedule_check import check_schedule, derive_schedule
from models.schema import OBJECTIVE_NAMES

__all__ = [
    "Evaluation",
    "Violation",
    "evaluate_plan",
    "objective_vector",
    "scalar_score",
    "with_plan_routes",
]

_CAPACITY_TOLERANCE = 1e-6
#: Finish time reported for a workflow task that can never start (seconds).
_NEVER = 1e300


@dataclass(frozen=True)
class Violation:
    """One broken hard constraint, with a reason a person can act on."""

    kind: str
    message: str
    task: str | None = None
    agent: str | None = None


@dataclass
class Evaluation:
    """Everything a plan scores: objective values, violations, per-agent loads."""

    objectives: dict[str, float]
    score: float
    violations: list[Violation]
    agent_load_s: np.ndarray  # float64[m] busy seconds
    agent_usage: np.ndarray  # float64[m, d]
    utilisation: np.ndarray  # float64[m] max over dims of usage / capacity
    jain_fairness: float
    load_variance: float
    n_unassigned: int
    completion_s: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    # Links the plan's communication crosses, routed within bandwidth where it can be;
    # None without a topology or when no traffic leaves a node.
    link_use: LinkUse | None = None

    @property
    def feasible(self) -> bool:
        return not self.violations

    def lex_key(self, order: tuple[str, ...]) -> tuple[float, ...]:
        return tuple(self.objectives[name] for name in order)


def scalar_score(objectives: dict[str, float], spec: ObjectiveSpec) -> float:
    """The weighted sum of objectives (lexicographic/pareto modes use unit weights)."""
    return float(sum(spec.weight(name) * objectives[name] for name in OBJECTIVE_NAMES))


def objective_vector(evaluation: Evaluation, names: tuple[str, ...]) -> np.ndarray:
    return np.array([evaluation.objectives[n] for n in names], dtype=np.float64)


def evaluate_plan(
    problem: CompiledProblem, assignment: np.ndarray, start: np.ndarray | None = None
) -> Evaluation:
    """Score `assignment` (int[n]: agent index per task, -1 for unassigned).

    A workflow (tasks with dependencies) is scored on its schedule: `start` (float64[n]
    start times) when given, else the one `derive_schedule` builds; its precedence and
    one-task-at-a-time rules are checked, and makespan, completion and tardiness come
    from it.
    """
    a = np.asarray(assignment, dtype=np.int64).ravel()
    m, n = problem.n_agents, problem.n_tasks
    violations: list[Violation] = []
    if a.shape[0] != n:
        raise ValueError(f"plan has {a.shape[0]} entries; the problem has {n} tasks")
    out_of_range = (a < -1) | (a >= m)
    for j in np.flatnonzero(out_of_range)[:20]:
        violations.append(
            Violation("unknown_agent", f"task {problem.task_ids[j]} names agent index {a[j]}")
        )
    a = np.where(out_of_range, -1, a)
    placed = a >= 0
    idx = np.flatnonzero(placed)
    ag = a[idx]

    cost = float(problem.cost[ag, idx].astype(np.float64).sum())
    durations = problem.duration[ag, idx].astype(np.float64)
    load = np.bincount(ag, weights=durations, minlength=m).astype(np.float64)
    usage = np.zeros((m, problem.n_dims), dtype=np.float64)
    for k in range(problem.n_dims):
        usage[:, k] = np.bincount(
            ag, weights=problem.usage[ag, idx, k].astype(np.float64), minlength=m
        )
    counts = np.bincount(ag, minlength=m)

    completion = _completion_times(problem, a, idx, ag, durations)
    makespan = float(load.max()) if m else 0.0
    links = _link_use(problem, a)
    if links is not None and not links.fits:
        violations.append(Violation("bandwidth", links.shortfall_sentence()))
    if problem.workflow is not None:
        timed = _with_routed_transfers(problem, links)
        if start is None:
            start = derive_schedule(timed, a)
        check = check_schedule(timed, a, start)
        # A task that never starts (its data can never arrive) is reported as a violation;
        # capping its finish keeps every sum and weighted score a number, never NaN.
        completion = np.minimum(check.finish, _NEVER)
        makespan = min(check.makespan, _NEVER)
        violations.extend(Violation(i.kind, i.message, i.task, i.agent) for i in check.issues)
    w = problem.task_weight
    weighted_completion = (
        float((w[idx] * completion[idx]).sum() / w[idx].sum()) if len(idx) else 0.0
    )
    tardiness = float((w[idx] * np.maximum(0.0, completion[idx] - problem.deadline[idx])).sum())

    cap = problem.capacity.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cap > 0, usage / np.where(cap > 0, cap, 1.0), 0.0)
    dims_with_cap = np.maximum((cap > 0).sum(axis=1), 1)
    mean_util = ratio.sum(axis=1) / dims_with_cap
    used = counts > 0
    consolidation = float((1.0 - np.minimum(mean_util[used], 1.0)).sum())
    utilisation = ratio.max(axis=1) if problem.n_dims else np.zeros(m)

    unassigned_mask = ~placed
    unassigned_value = float(w[unassigned_mask].sum() * problem.unassigned_penalty)
    migrations = float(((problem.current >= 0) & (a != problem.current)).sum())
    communication = _communication(problem, a)

    objectives = {
        "cost": cost,
        "makespan": makespan,
        "weighted_completion": weighted_completion,
        "consolidation": consolidation,
        "imbalance": float(load.max() - load.mean()) if m else 0.0,
        "unassigned": unassigned_value,
        "migrations": migrations,
        "tardiness": tardiness,
        "communication": communication,
    }
    violations.extend(_hard_constraint_violations(problem, a, idx, ag, usage, counts))
    sq = float((load**2).sum())
    jain = float(load.sum() ** 2 / (m * sq)) if sq > 0 else 1.0
    return Evaluation(
        objectives=objectives,
        score=scalar_score(objectives, problem.objectives),
        violations=violations,
        agent_load_s=load,
        agent_usage=usage,
        utilisation=utilisation,
        jain_fairness=jain,
        load_variance=float(load.var()),
        n_unassigned=int(unassigned_mask.sum()),
        completion_s=completion,
        link_use=links,
    )


def _completion_times(
    problem: CompiledProblem,
    a: np.ndarray,
    idx: np.ndarray,
    ag: np.ndarray,
    durations: np.ndarray,
) -> np.ndarray:
    """Each agent runs its tasks in priority-then-deadline order, one after another."""
    completion = np.zeros(problem.n_tasks, dtype=np.float64)
    if not len(idx):
        return completion
    order = np.lexsort((idx, problem.deadline[idx], problem.priority_rank[idx], ag))
    sorted_agents = ag[order]
    cum = np.cumsum(durations[order])
    starts = np.flatnonzero(np.r_[True, sorted_agents[1:] != sorted_agents[:-1]])
    offset = np.repeat(cum[starts] - durations[order][starts], np.diff(np.r_[starts, len(idx)]))
    completion[idx[order]] = cum - offset
    return completion


def _communication(problem: CompiledProblem, a: np.ndarray) -> float:
    if problem.latency is None or not len(problem.comm_pairs):
        return 0.0
    left = a[problem.comm_pairs[:, 0]]
    right = a[problem.comm_pairs[:, 1]]
    both = (left >= 0) & (right >= 0)
    lat = problem.latency[left[both], right[both]]
    return float((problem.comm_volume[both] * lat).sum())


def _link_use(problem: CompiledProblem, a: np.ndarray) -> LinkUse | None:
    """The plan's traffic routed over the links; nothing is computed without a network."""
    if problem.network is None:
        return None
    return link_use(
        problem.network, node_traffic(problem.network, problem.comm_pairs, problem.comm_volume, a)
    )


def with_plan_routes(problem: CompiledProblem, assignment: np.ndarray) -> CompiledProblem:
    """The problem whose workflow transfer delays follow the paths `assignment`'s
    communication is routed on: the problem itself when there is nothing to route or the
    traffic fits on shortest paths (the compiled delays). `evaluate_plan` checks a
    workflow schedule against exactly these delays."""
    a = np.asarray(assignment, dtype=np.int64)
    return _with_routed_transfers(
        problem, _link_use(problem, np.where(a < problem.n_agents, a, -1))
    )


def _with_routed_transfers(problem: CompiledProblem, links: LinkUse | None) -> CompiledProblem:
    """The problem whose workflow transfers follow this plan's routed paths (the same
    problem when its traffic is on shortest paths, which the compiled delays assume)."""
    if links is None or problem.workflow is None:
        return problem
    routed = routed_transfers(links, problem.workflow.per_data, problem.workflow.fixed)
    if routed is None:
        return problem
    flow = replace(problem.workflow, per_data=routed[0], fixed=routed[1])
    return replace(problem, workflow=flow)


def _hard_constraint_violations(
    problem: CompiledProblem,
    a: np.ndarray,
    idx: np.ndarray,
    ag: np.ndarray,
    usage: np.ndarray,
    counts: np.ndarray,
) -> list[Violation]:
    out: list[Violation] = []
    tasks, agents = problem.task_ids, problem.agent_ids
    if not problem.allow_unassigned:
        missing = np.flatnonzero(a < 0)
        for j in missing[:20]:
            out.append(
                Violation(
                    "unassigned",
                    f"task {tasks[j]} is unassigned and allow_unassigned is false",
                    task=tasks[j],
                )
            )
        if len(missing) > 20:
            out.append(Violation("unassigned", f"... and {len(missing) - 20} more unassigned"))
    bad = idx[~problem.eligible[ag, idx]]
    for j in bad[:20]:
        out.append(
            Violation(
                "ineligible",
                f"task {tasks[j]} is on agent {agents[a[j]]}, which lacks a required "
                "capability, is not its pinned agent, or cannot fit its demand",
                task=tasks[j],
                agent=agents[a[j]],
            )
        )
    cap = problem.capacity.astype(np.float64)
    over = usage > cap * (1 + _CAPACITY_TOLERANCE) + _CAPACITY_TOLERANCE
    for i, k in zip(*np.nonzero(over), strict=True):
        out.append(
            Violation(
                "capacity",
                f"agent {agents[i]} uses {usage[i, k]:.6g} of {problem.resources[k]}, "
                f"capacity {cap[i, k]:.6g} (over by {usage[i, k] - cap[i, k]:.6g})",
                agent=agents[i],
            )
        )
    for i in np.flatnonzero(counts > problem.max_tasks):
        out.append(
            Violation(
                "max_tasks",
                f"agent {agents[i]} has {counts[i]} tasks, max_tasks {problem.max_tasks[i]}",
                agent=agents[i],
            )
        )
    for group in problem.anti_affinity:
        placed = a[group][a[group] >= 0]
        if len(np.unique(placed)) < len(placed):
            names = ", ".join(tasks[j] for j in group)
            out.append(Violation("anti_affinity", f"anti-affinity group [{names}] shares an agent"))
    for group in problem.co_location:
        placed = a[group]
        if len(np.unique(placed)) > 1:
            names = ", ".join(tasks[j] for j in group)
            out.append(Violation("co_location", f"co-location group [{names}] is split"))
    return out
