"""Where a task would enter each agent's run queue, for all agents at once in O(m log n).

evaluate_plan runs each agent's tasks by (priority rank, deadline, task index). Placed
tasks are kept in one array sorted by (agent, that key) with running sums of busy time
and weight, so the time queued before a task and the weight queued after it on any
agent are two differences of prefix sums. Tardiness added to later tasks is summed
only over tasks whose slack (deadline - completion) is below the added time.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["QueueIndex"]


class QueueIndex:
    """Placed tasks in run order across agents, with prefix sums."""

    def __init__(
        self,
        problem: CompiledProblem,
        assignment: np.ndarray,
        own_duration: np.ndarray,
        completion: np.ndarray,
    ) -> None:
        n, m = problem.n_tasks, problem.n_agents
        self._deadlines = np.unique(problem.deadline)
        self._rank_span = 2 * len(self._deadlines) + 1
        self._task_span = n + 1  # a new task has index n
        self._agent_span = 4 * self._rank_span * self._task_span
        placed = np.flatnonzero(assignment >= 0)
        owner = assignment[placed]
        keys = owner * self._agent_span + self._within(
            problem.priority_rank[placed], problem.deadline[placed], placed
        )
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        tasks = placed[order]
        self.prefix_duration = np.r_[0.0, np.cumsum(own_duration[tasks])]
        self.prefix_weight = np.r_[0.0, np.cumsum(problem.task_weight[tasks])]
        bounds = np.arange(m + 1, dtype=np.int64) * self._agent_span
        edges = np.searchsorted(self.keys, bounds)
        self.start, self.end = edges[:-1], edges[1:]
        # Tasks that could turn (more) tardy, sorted by slack.
        due = np.flatnonzero(np.isfinite(problem.deadline[tasks]))
        slack = problem.deadline[tasks[due]] - completion[tasks[due]]
        by_slack = np.argsort(slack, kind="stable")
        self.slack = slack[by_slack]
        self.slack_pos = due[by_slack]  # position in run order
        self.slack_task = tasks[due[by_slack]]
        self.slack_owner = assignment[self.slack_task]

    def _within(self, rank: np.ndarray, deadline: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Key inside one agent; a deadline not seen before sorts between its neighbours."""
        pos = np.searchsorted(self._deadlines, deadline)
        seen = (pos < len(self._deadlines)) & (
            self._deadlines[np.minimum(pos, len(self._deadlines) - 1)] == deadline
        )
        ordinal = np.asarray(rank, dtype=np.int64) * self._rank_span + 2 * pos + seen
        return ordinal * self._task_span + np.asarray(index, dtype=np.int64)

    def entry(
        self, rank: int, deadline: float, index: int, agents: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per agent: position in run order, busy time queued before, weight queued after."""
        within = self._within(np.array([rank]), np.array([deadline]), np.array([index]))[0]
        pos = np.searchsorted(self.keys, agents * self._agent_span + within)
        before = self.prefix_duration[pos] - self.prefix_duration[self.start[agents]]
        after_w = self.prefix_weight[self.end[agents]] - self.prefix_weight[pos]
        return pos, before, after_w

    def tardiness_added(
        self,
        m: int,
        agents: np.ndarray,
        pos: np.ndarray,
        added: np.ndarray,
        completion: np.ndarray,
        deadline: np.ndarray,
        weight: np.ndarray,
    ) -> np.ndarray:
        """Per agent: tardiness of the tasks queued after the entry once `added` s run first."""
        if not len(self.slack) or not len(added):
            return np.zeros(len(agents), dtype=np.float64)
        tight = int(np.searchsorted(self.slack, float(added.max()), side="left"))
        if tight == 0:
            return np.zeros(len(agents), dtype=np.float64)
        owner = self.slack_owner[:tight]
        entry_at = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        entry_at[agents] = pos
        shift = np.zeros(m, dtype=np.float64)
        shift[agents] = added
        late = self.slack_pos[:tight] >= entry_at[owner]
        t = self.slack_task[:tight][late]
        o = owner[late]
        c, dl = completion[t], deadline[t]
        extra = weight[t] * (np.maximum(0.0, c + shift[o] - dl) - np.maximum(0.0, c - dl))
        return np.bincount(o, extra, minlength=m)[agents]
