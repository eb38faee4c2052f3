"""Exact incremental objective deltas for taking one task out of a plan and placing it.

A delta here equals the difference of two `evaluate_plan` calls (to rounding): the
task is first detached (the plan with it unassigned), then placed on each candidate
agent. Only the agents a move touches are recomputed, so one candidate set costs
O(tasks on those agents + m * d) instead of a whole evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.compiled import CompiledProblem
from models.evaluation import Evaluation, evaluate_plan
from models.queue_index import QueueIndex
from models.schema import OBJECTIVE_NAMES

__all__ = ["Detached", "PlanState", "TaskColumn", "column_of", "objective_index"]

_CAPACITY_TOLERANCE = 1e-6  # the same tolerance evaluate_plan applies
_OBJ = {name: k for k, name in enumerate(OBJECTIVE_NAMES)}


def objective_index(name: str) -> int:
    return _OBJ[name]


@dataclass(frozen=True)
class TaskColumn:
    """One task as the arrays see it, per agent (index n for a task not yet in the problem)."""

    index: int
    cost: np.ndarray  # float64[m]
    duration: np.ndarray  # float64[m]
    usage: np.ndarray  # float64[m, d]
    eligible: np.ndarray  # bool[m]
    weight: float
    rank: int
    deadline: float
    current: int
    comm_other: np.ndarray  # int64[k] task indices it talks to
    comm_volume: np.ndarray  # float64[k]


def column_of(state: PlanState, j: int) -> TaskColumn:
    """The column of existing task j."""
    p = state.problem
    lo, hi = state.comm_ptr[j], state.comm_ptr[j + 1]
    return TaskColumn(
        index=j,
        cost=p.cost[:, j].astype(np.float64),
        duration=p.duration[:, j].astype(np.float64),
        usage=p.usage[:, j, :].astype(np.float64),
        eligible=p.eligible[:, j],
        weight=float(p.task_weight[j]),
        rank=int(p.priority_rank[j]),
        deadline=float(p.deadline[j]),
        current=int(p.current[j]),
        comm_other=state.comm_other[lo:hi],
        comm_volume=state.comm_volume[lo:hi],
    )


@dataclass(frozen=True)
class Detached:
    """The plan with one task taken out (left unassigned), as deltas from the plan."""

    column: TaskColumn
    from_agent: int  # -1 when the task was unassigned (or new)
    load: np.ndarray  # float64[m] loads without the task
    components: np.ndarray  # float64[9] objective deltas except makespan/imbalance/wc
    wc_sum: float  # sum of weight * completion over placed tasks, without the task
    w_sum: float  # sum of weights over placed tasks, without the task


class PlanState:
    """A plan with the per-agent aggregates the deltas need (built from one evaluation)."""

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray) -> None:
        self.problem = problem
        self.assignment = np.asarray(assignment, dtype=np.int64).copy()
        self.evaluation: Evaluation = evaluate_plan(problem, self.assignment)
        ev, a = self.evaluation, self.assignment
        m, n = problem.n_agents, problem.n_tasks
        placed = a >= 0
        self.load = ev.agent_load_s
        self.usage = ev.agent_usage
        self.counts = np.bincount(a[placed], minlength=m)
        self.completion = ev.completion_s
        self.capacity = problem.capacity.astype(np.float64)
        has_cap = self.capacity > 0
        self._inv_capacity = np.where(has_cap, 1.0 / np.where(has_cap, self.capacity, 1.0), 0.0)
        self._dims_with_capacity = np.maximum(has_cap.sum(axis=1), 1)
        self.own_duration = np.zeros(n, dtype=np.float64)
        self.own_duration[placed] = problem.duration[a[placed], np.flatnonzero(placed)]
        w = problem.task_weight
        self.w_sum = float(w[placed].sum())
        self.wc_sum = float((w[placed] * self.completion[placed]).sum())
        order = np.argsort(a, kind="stable")
        starts = np.searchsorted(a[order], np.arange(m + 1))
        self.agent_tasks = [order[starts[i] : starts[i + 1]] for i in range(m)]
        self.queue = QueueIndex(problem, a, self.own_duration, self.completion)
        self._build_comm(n)
        self._groups(n)

    def _build_comm(self, n: int) -> None:
        pairs, vol = self.problem.comm_pairs, self.problem.comm_volume
        if self.problem.latency is None or not len(pairs):
            self.comm_ptr = np.zeros(n + 2, dtype=np.int64)
            self.comm_other = np.zeros(0, dtype=np.int64)
            self.comm_volume = np.zeros(0, dtype=np.float64)
            return
        keep = pairs[:, 0] != pairs[:, 1]  # a task talking to itself never crosses a link
        src = np.r_[pairs[keep, 0], pairs[keep, 1]].astype(np.int64)
        dst = np.r_[pairs[keep, 1], pairs[keep, 0]].astype(np.int64)
        vols = np.r_[vol[keep], vol[keep]]
        order = np.argsort(src, kind="stable")
        self.comm_other, self.comm_volume = dst[order], vols[order]
        self.comm_ptr = np.r_[0, np.cumsum(np.bincount(src, minlength=n + 1))].astype(np.int64)

    def _groups(self, n: int) -> None:
        self.anti_groups: dict[int, list[np.ndarray]] = {}
        self.co_groups: dict[int, list[np.ndarray]] = {}
        for target, groups in (
            (self.anti_groups, self.problem.anti_affinity),
            (self.co_groups, self.problem.co_location),
        ):
            for group in groups:
                for j in group.tolist():
                    target.setdefault(j, []).append(group)

    # -- detaching -------------------------------------------------------------

    def detach(self, column: TaskColumn) -> Detached:
        """Take the task out of the plan (a new task is 'out' already, but now counts)."""
        p, j = self.problem, column.index
        comp = np.zeros(len(OBJECTIVE_NAMES), dtype=np.float64)
        is_new = j >= p.n_tasks
        src = -1 if is_new else int(self.assignment[j])
        had_migration = (column.current >= 0) and (src != column.current)
        comp[_OBJ["migrations"]] = float(column.current >= 0) - float(had_migration and not is_new)
        load = self.load.copy()
        wc_sum, w_sum = self.wc_sum, self.w_sum
        if src < 0:
            # A new task joins the problem unassigned; an unassigned one stays as it was.
            comp[_OBJ["unassigned"]] = column.weight * p.unassigned_penalty if is_new else 0.0
            return Detached(column, -1, load, comp, wc_sum, w_sum)
        d = column.duration[src]
        load[src] -= d
        comp[_OBJ["cost"]] = -column.cost[src]
        comp[_OBJ["unassigned"]] = column.weight * p.unassigned_penalty
        rows = np.stack([self.usage[src], self.usage[src] - column.usage[src]])
        terms = self.consolidation_terms(rows, self.counts[[src, src]] - [0, 1], [src, src])
        comp[_OBJ["consolidation"]] = terms[1] - terms[0]
        after = self._after(src, column)
        w = p.task_weight[after]
        c = self.completion[after]
        dl = p.deadline[after]
        c_j = self.completion[j]
        wc_sum -= column.weight * c_j + d * float(w.sum())
        w_sum -= column.weight
        comp[_OBJ["tardiness"]] = -column.weight * max(0.0, c_j - column.deadline) + float(
            (w * (np.maximum(0.0, c - d - dl) - np.maximum(0.0, c - dl))).sum()
        )
        comp[_OBJ["communication"]] = -self._comm(column, np.array([src]))[0]
        return Detached(column, src, load, comp, wc_sum, w_sum)

    def _after(self, agent: int, column: TaskColumn) -> np.ndarray:
        """Tasks on `agent` that run after the task, in evaluate_plan's order."""
        tasks = self.agent_tasks[agent]
        return tasks[~self._before_mask(tasks, column) & (tasks != column.index)]

    def _before_mask(self, tasks: np.ndarray, column: TaskColumn) -> np.ndarray:
        p = self.problem
        rank, dl = p.priority_rank[tasks], p.deadline[tasks]
        return (rank < column.rank) | (
            (rank == column.rank)
            & ((dl < column.deadline) | ((dl == column.deadline) & (tasks < column.index)))
        )

    # -- placing ---------------------------------------------------------------

    def place_deltas(self, detached: Detached, agents: np.ndarray) -> np.ndarray:
        """Objective deltas (float64[len(agents), 9]) of placing the detached task on each agent.

        Deltas are against this plan; `agents` must not contain the agent it came from.
        """
        p, col = self.problem, detached.column
        agents = np.asarray(agents, dtype=np.int64)
        m = p.n_agents
        k = len(agents)
        out = np.tile(detached.components, (k, 1))
        d = col.duration[agents]
        out[:, _OBJ["cost"]] += col.cost[agents]
        out[:, _OBJ["unassigned"]] -= col.weight * p.unassigned_penalty
        mig = (col.current >= 0) & (agents != col.current)
        out[:, _OBJ["migrations"]] += mig.astype(np.float64) - float(col.current >= 0)
        out[:, _OBJ["consolidation"]] += self.consolidation_terms(
            self.usage[agents] + col.usage[agents], self.counts[agents] + 1, agents
        ) - self.consolidation_terms(self.usage[agents], self.counts[agents], agents)
        out[:, _OBJ["communication"]] += self._comm(col, agents)
        before_sum, after_w, tard = self._queue_effects(col, agents, d)
        completion = before_sum + d
        out[:, _OBJ["tardiness"]] += tard + col.weight * np.maximum(0.0, completion - col.deadline)
        wc_sum = detached.wc_sum + col.weight * completion + d * after_w
        w_sum = detached.w_sum + col.weight
        ev = self.evaluation.objectives
        out[:, _OBJ["weighted_completion"]] = wc_sum / w_sum - ev["weighted_completion"]
        load = detached.load
        top = np.argsort(load)[::-1][:2] if m > 1 else np.array([0, 0])
        max_other = np.where(agents == top[0], load[top[-1]] if m > 1 else -np.inf, load[top[0]])
        makespan = np.maximum(max_other, load[agents] + d)
        out[:, _OBJ["makespan"]] = makespan - ev["makespan"]
        mean = (float(load.sum()) + d) / m
        out[:, _OBJ["imbalance"]] = makespan - mean - ev["imbalance"]
        return out

    def detach_deltas(self, detached: Detached) -> np.ndarray:
        """Objective deltas (float64[9]) of leaving the detached task unassigned."""
        out = detached.components.copy()
        ev = self.evaluation.objectives
        m = self.problem.n_agents
        wc = detached.wc_sum / detached.w_sum if detached.w_sum > 0 else 0.0
        out[_OBJ["weighted_completion"]] = wc - ev["weighted_completion"]
        makespan = float(detached.load.max())
        out[_OBJ["makespan"]] = makespan - ev["makespan"]
        out[_OBJ["imbalance"]] = makespan - float(detached.load.sum()) / m - ev["imbalance"]
        return out

    def _queue_effects(
        self, col: TaskColumn, agents: np.ndarray, d: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per candidate: busy time queued before the task, weight queued after, tardiness added."""
        p = self.problem
        pos, before_sum, after_w = self.queue.entry(col.rank, col.deadline, col.index, agents)
        tard = self.queue.tardiness_added(
            p.n_agents, agents, pos, d, self.completion, p.deadline, p.task_weight
        )
        return before_sum, after_w, tard

    def consolidation_terms(
        self, usage: np.ndarray, counts: np.ndarray, agents: np.ndarray | list[int]
    ) -> np.ndarray:
        """evaluate_plan's per-agent consolidation term (0 for an agent with no task)."""
        ratio = usage * self._inv_capacity[agents]  # 0 where a dimension has no capacity
        mean_util = ratio.sum(axis=1) / self._dims_with_capacity[agents]
        return np.where(np.asarray(counts) > 0, 1.0 - np.minimum(mean_util, 1.0), 0.0)

    def _comm(self, col: TaskColumn, agents: np.ndarray) -> np.ndarray:
        lat = self.problem.latency
        if lat is None or not len(col.comm_other):
            return np.zeros(len(agents), dtype=np.float64)
        other_agent = self.assignment[col.comm_other]
        live = (other_agent >= 0) & (col.comm_other != col.index)
        if not live.any():
            return np.zeros(len(agents), dtype=np.float64)
        return lat[np.ix_(agents, other_agent[live])] @ col.comm_volume[live]

    # -- feasibility -------------------------------------------------------------

    def capacity_short(self, col: TaskColumn, agents: np.ndarray) -> np.ndarray:
        """float64[len(agents), d]: how far past capacity each resource would go (<= 0 fits)."""
        used = self.usage[agents] + col.usage[agents]
        cap = self.capacity[agents]
        over = used > cap * (1 + _CAPACITY_TOLERANCE) + _CAPACITY_TOLERANCE
        return np.where(over, used - cap, 0.0)

    @property
    def needs_full_evaluation(self) -> bool:
        """Workflows: one move reshapes the whole schedule, so deltas come from evaluations."""
        return getattr(self.problem, "workflow", None) is not None

    def evaluated_deltas(self, j: int, agents: np.ndarray) -> np.ndarray:
        """Objective deltas of putting task j on each agent (-1: unassigned), by evaluation."""
        base = np.array([self.evaluation.objectives[k] for k in OBJECTIVE_NAMES])
        out = np.zeros((len(agents), len(OBJECTIVE_NAMES)), dtype=np.float64)
        for row, i in enumerate(np.asarray(agents).tolist()):
            trial = self.assignment.copy()
            trial[j] = i
            ev = evaluate_plan(self.problem, trial)
            out[row] = np.array([ev.objectives[k] for k in OBJECTIVE_NAMES]) - base
        return out

    def score_deltas(self, deltas: np.ndarray) -> np.ndarray:
        """Weighted score change per row of objective deltas."""
        return deltas @ self.problem.objectives.weights
