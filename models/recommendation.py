"""Where should a new task go (ranked agents), and which tasks should go to an agent.

`score_delta` is exactly score(problem + task, plan + task on agent) - score(problem,
plan) as `evaluate_plan` computes it, built from incremental deltas: a warm
`Recommender` answers without re-evaluating the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.compiled import CompiledProblem, compile_problem
from models.errors import InputError
from models.inverse_deltas import move_all_to_agent
from models.placement_reasons import (
    Reason,
    TaskFacts,
    feasible_mask,
    placement_reasons,
    task_facts,
)
from models.plan_state import PlanState, TaskColumn, column_of
from models.schema import OBJECTIVE_NAMES, PRIORITY_WEIGHT, Communication, Problem, Task

__all__ = ["Recommendation", "Recommender", "problem_with_task"]

_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}


@dataclass
class Recommendation:
    """One candidate placement and what it changes."""

    agent: str
    task: str
    feasible: bool
    score_delta: float
    objectives_delta: dict[str, float]
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "task": self.task,
            "feasible": self.feasible,
            "score_delta": self.score_delta,
            "objectives_delta": self.objectives_delta,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def problem_with_task(
    problem: Problem, task: Task, communication: list[Communication] | None = None
) -> Problem:
    """The request with one more task (and its traffic): what a delta is measured against."""
    doc = problem.model_dump()
    doc["tasks"].append(task.model_dump())
    doc["communication"].extend(c.model_dump() for c in communication or [])
    return Problem.model_validate(doc)


class Recommender:
    """A plan held warm: per-agent aggregates and agent arrays for new-task columns."""

    def __init__(
        self, problem: Problem, assignment: np.ndarray, compiled: CompiledProblem | None = None
    ) -> None:
        self.problem = problem
        self.compiled = compiled or compile_problem(problem)
        self.state = PlanState(self.compiled, assignment)
        self._speed = np.array([a.speed for a in problem.agents], dtype=np.float64)
        self._rate = np.array([a.cost_rate for a in problem.agents], dtype=np.float64)
        self._agent_caps = [set(a.capabilities) for a in problem.agents]
        self._agent_index = {a: i for i, a in enumerate(self.compiled.agent_ids)}
        self._task_index = {t: j for j, t in enumerate(self.compiled.task_ids)}

    # -- one new task -> ranked agents -------------------------------------------

    def recommend(
        self, task: Task, top: int | None = None, communication: list[Communication] | None = None
    ) -> list[Recommendation]:
        """Every agent for `task`, feasible first, each group by score_delta ascending."""
        if task.id in self._task_index:
            raise InputError(f"task id {task.id!r} is already in the problem", field="task.id")
        if self.state.needs_full_evaluation:
            return self._recommend_in_workflow(task, top, communication or [])
        col = self.new_task_column(task, communication or [])
        facts = TaskFacts(tuple(task.requires), task.pinned_agent)
        agents = np.arange(self.compiled.n_agents)
        return self._ranked(col, facts, task.id, agents, top)

    def new_task_column(self, task: Task, communication: list[Communication]) -> TaskColumn:
        """The column compile_problem would build for `task` appended to the problem."""
        if self.problem.cost is not None or self.problem.usage is not None:
            raise InputError(
                "the problem gives explicit cost/usage matrices, so a new task has no "
                "cost column; recommend tasks of problems priced by work and speed",
                field="task",
            )
        dims = set(self.compiled.resources)
        for dim in task.demand:
            if dim not in dims:
                raise InputError(f"unknown resource {dim!r}", field=f"task.demand.{dim}")
        if task.pinned_agent is not None and task.pinned_agent not in self._agent_index:
            raise InputError(f"unknown agent {task.pinned_agent!r}", field="task.pinned_agent")
        if task.current_agent is not None and task.current_agent not in self._agent_index:
            raise InputError(f"unknown agent {task.current_agent!r}", field="task.current_agent")
        duration = (task.work / self._speed).astype(np.float32)
        cost = (duration * self._rate).astype(np.float32)
        demand = np.array([task.demand.get(r, 0.0) for r in self.compiled.resources], np.float32)
        usage = np.broadcast_to(demand, (self.compiled.n_agents, len(demand)))
        eligible = np.array([set(task.requires) <= caps for caps in self._agent_caps])
        if task.pinned_agent is not None:
            pinned = self._agent_index[task.pinned_agent]
            keep = eligible[pinned]
            eligible[:] = False
            eligible[pinned] = keep
        eligible &= np.all(usage <= self.compiled.capacity + 1e-9, axis=1)
        other, volume = self._traffic(task.id, communication)
        return TaskColumn(
            index=self.compiled.n_tasks,
            cost=cost.astype(np.float64),
            duration=duration.astype(np.float64),
            usage=usage.astype(np.float64),
            eligible=eligible,
            weight=PRIORITY_WEIGHT[task.priority] * task.weight,
            rank=_RANK[task.priority.value],
            deadline=task.deadline if task.deadline is not None else np.inf,
            current=self._agent_index[task.current_agent] if task.current_agent else -1,
            comm_other=other,
            comm_volume=volume,
        )

    def _traffic(
        self, task_id: str, communication: list[Communication]
    ) -> tuple[np.ndarray, np.ndarray]:
        other: list[int] = []
        volume: list[float] = []
        for k, c in enumerate(communication):
            if task_id not in (c.a, c.b):
                raise InputError(f"must involve the task {task_id!r}", field=f"communication.{k}")
            peer = c.b if c.a == task_id else c.a
            if peer == task_id:
                continue
            if peer not in self._task_index:
                raise InputError(f"unknown task {peer!r}", field=f"communication.{k}")
            other.append(self._task_index[peer])
            volume.append(c.volume)
        if self.compiled.latency is None:
            other, volume = [], []
        return np.array(other, dtype=np.int64), np.array(volume, dtype=np.float64)

    def _recommend_in_workflow(
        self, task: Task, top: int | None, communication: list[Communication]
    ) -> list[Recommendation]:
        """Workflows: the bigger problem is compiled and each placement evaluated in full."""
        try:
            bigger = Recommender(
                problem_with_task(self.problem, task, communication),
                np.r_[self.state.assignment, -1],
            )
        except ValueError as exc:
            raise InputError(str(exc), field="task") from exc
        ranked = bigger._ranked(
            column_of(bigger.state, self.compiled.n_tasks),
            TaskFacts(tuple(task.requires), task.pinned_agent),
            task.id,
            np.arange(self.compiled.n_agents),
            top,
        )
        # The bigger problem's base holds the task unassigned; re-base on this plan.
        shift = bigger.state.evaluation.objectives
        base = self.state.evaluation.objectives
        for rec in ranked:
            for name in OBJECTIVE_NAMES:
                rec.objectives_delta[name] += shift[name] - base[name]
            rec.score_delta += bigger.state.evaluation.score - self.state.evaluation.score
        return ranked

    # -- one agent -> ranked tasks ------------------------------------------------

    def recommend_for_agent(self, agent_id: str, top: int | None = None) -> list[Recommendation]:
        """Tasks that would best go to `agent_id`: feasible first, unassigned before moves,
        then by score_delta. Vectorised over tasks (one pass), reasons only for those shown."""
        if agent_id not in self._agent_index:
            raise InputError(f"unknown agent {agent_id!r}", field="agent")
        i = self._agent_index[agent_id]
        state = self.state
        if state.needs_full_evaluation:
            return self._recommend_for_agent_by_evaluation(i, top)
        tasks, deltas, feasible = move_all_to_agent(state, i)
        scores = state.score_deltas(deltas)
        placed = state.assignment[tasks] >= 0
        order = np.lexsort((scores, placed, ~feasible))
        if top:
            order = order[:top]
        target = np.array([i])
        recs: list[Recommendation] = []
        for row in order.tolist():
            j = int(tasks[row])
            col = column_of(state, j)
            reasons = placement_reasons(
                self.problem, state, col, task_facts(self.problem, j), target
            )
            recs.append(
                Recommendation(
                    agent=agent_id,
                    task=self.compiled.task_ids[j],
                    feasible=bool(feasible[row]),
                    score_delta=float(scores[row]),
                    objectives_delta=dict(zip(OBJECTIVE_NAMES, deltas[row].tolist(), strict=True)),
                    reasons=reasons[0],
                )
            )
        return recs

    def _recommend_for_agent_by_evaluation(self, i: int, top: int | None) -> list[Recommendation]:
        target = np.array([i])
        found: list[tuple[int, Recommendation]] = []
        for j in np.flatnonzero(self.state.assignment != i).tolist():
            col = column_of(self.state, j)
            rec = self._ranked(col, task_facts(self.problem, j), self.compiled.task_ids[j], target)
            found.append((int(self.state.assignment[j] >= 0), rec[0]))
        found.sort(key=lambda pair: (not pair[1].feasible, pair[0], pair[1].score_delta))
        recs = [rec for _, rec in found]
        return recs[:top] if top else recs

    # -- shared ------------------------------------------------------------------

    def _ranked(
        self,
        col: TaskColumn,
        facts: TaskFacts,
        task_id: str,
        agents: np.ndarray,
        top: int | None = None,
    ) -> list[Recommendation]:
        state = self.state
        detached = state.detach(col)
        agents = agents[agents != detached.from_agent]
        if state.needs_full_evaluation:
            deltas = state.evaluated_deltas(col.index, agents)
        else:
            deltas = state.place_deltas(detached, agents)
        scores = state.score_deltas(deltas)
        feasible = feasible_mask(state, col, agents)
        order = np.lexsort((scores, ~feasible))
        if top:
            order = order[:top]
        reasons = placement_reasons(self.problem, state, col, facts, agents[order])
        ids = self.compiled.agent_ids
        return [
            Recommendation(
                agent=ids[agents[k]],
                task=task_id,
                feasible=bool(feasible[k]),
                score_delta=float(scores[k]),
                objectives_delta=dict(zip(OBJECTIVE_NAMES, deltas[k].tolist(), strict=True)),
                reasons=reasons[row],
            )
            for row, k in enumerate(order.tolist())
        ]
