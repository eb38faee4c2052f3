"""EDF admission control that is honest about which bound it applies.

U <= 1 is exact only for one preemptive processor, and n(2^(1/n) - 1) is Liu &
Layland's rate-monotonic bound, not EDF's. Our agents run tasks non-preemptively
and tasks are one-shot jobs with deadlines, so:
- per agent (partitioned), the exact demand test for non-preemptive EDF: in deadline
  order every job must finish by its deadline after the blocking term B (the
  non-preemptible work the agent already holds) and the jobs ahead of it;
- across the pool (global EDF), the Goossens-Funk-Baruah bound on densities:
  sum(u) <= M - (M - 1) * u_max, with u = runtime at mean speed / relative deadline.
A rejected task's reason names the bound it broke and the numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sortedcontainers import SortedList

from allocator.coordinator.errors import AdmissionError
from allocator.coordinator.records import AgentRecord, TaskRecord

if TYPE_CHECKING:
    from allocator.coordinator.state import CoordinatorState

__all__ = ["EdfAdmission", "admit_or_reject"]


class EdfAdmission:
    """Admission state: densities of admitted deadline tasks still queued or running."""

    __slots__ = ("_densities", "_sum", "check_agent", "check_pool")

    def __init__(self, *, check_pool: bool = True, check_agent: bool = True) -> None:
        self.check_pool = check_pool
        self.check_agent = check_agent
        self._densities: SortedList = SortedList()
        self._sum = 0.0

    @property
    def total_density(self) -> float:
        return self._sum

    def pool_reason(
        self, task: TaskRecord, now: float, agents: int, mean_speed: float, max_speed: float
    ) -> str | None:
        """Why the pool cannot take `task` (None: admitted so far). O(log n)."""
        if task.deadline is None:
            return None
        window = task.deadline - now
        if window <= 0 or max_speed <= 0:
            return f"deadline {task.deadline:g} is not after now ({now:g}) or no agent is up"
        if task.est / max_speed > window:
            return (
                f"needs {task.est / max_speed:.3g} s even on the fastest agent but only "
                f"{window:.3g} s remain before its deadline"
            )
        if not self.check_pool:
            return None
        density = task.est / mean_speed / window
        u_max = max(density, self._densities[-1] if self._densities else 0.0)
        bound = agents - (agents - 1) * u_max
        if self._sum + density > bound:
            return (
                f"global EDF density bound (GFB) broken: total {self._sum + density:.3f} > "
                f"M - (M-1) u_max = {bound:.3f} with M={agents}, u_max={u_max:.3f}"
            )
        return None

    def agent_reason(self, task: TaskRecord, agent: AgentRecord, now: float) -> str | None:
        """Exact non-preemptive EDF demand test on `agent` with `task` added. O(k log k)."""
        if not self.check_agent or task.deadline is None:
            return None
        blocking_s = agent.leased_load / agent.speed  # running work cannot be preempted
        jobs = [t for t in agent.queue.tasks() if t.deadline is not None]
        jobs.append(task)
        jobs.sort(key=lambda t: t.deadline if t.deadline is not None else 0.0)
        finish = now + blocking_s
        for job in jobs:
            finish += job.est / agent.speed
            assert job.deadline is not None
            if finish > job.deadline:
                return (
                    f"non-preemptive EDF demand test on agent {agent.id} fails: task {job.id} "
                    f"would finish at {finish:.3g} after its deadline {job.deadline:.3g} "
                    f"(blocking term {blocking_s:.3g} s)"
                )
        return None

    def admit(self, task: TaskRecord, now: float, mean_speed: float) -> None:
        """Count an admitted deadline task. O(log n)."""
        if task.deadline is None:
            return
        task.density = task.est / mean_speed / max(task.deadline - now, 1e-9)
        self._densities.add(task.density)
        self._sum += task.density

    def release(self, task: TaskRecord) -> None:
        """The task completed or was dead-lettered. O(log n)."""
        if task.density:
            self._densities.remove(task.density)
            self._sum -= task.density
            task.density = 0.0


def admit_or_reject(
    state: CoordinatorState, admission: EdfAdmission, task: TaskRecord, now: float
) -> None:
    """Apply the pool bound, then (when work is placed at submit) the agent test.

    Raises AdmissionError naming the bound; counts the task's density when admitted.
    """
    up = [a for a in state.agent_list if a.closed]
    mean_speed = sum(a.speed for a in up) / len(up) if up else 1.0
    reason = admission.pool_reason(task, now, len(up), mean_speed, state.max_speed)
    if reason is None and state.cfg.placement != "global":
        target = state.dispatcher.place(task)
        if target is not None:
            reason = admission.agent_reason(task, target, now)
    if reason is not None:
        state.kpi.rejected += 1
        raise AdmissionError(task.id, reason)
    admission.admit(task, now, mean_speed)
