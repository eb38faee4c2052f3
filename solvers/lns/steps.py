"""How the LNS paces itself: neighbourhood sizes that adapt to how fast sub-solves
prove, and how many sub-solves run side by side ("lanes") with what time each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import CompiledProblem
from solvers.lns.neighbourhoods import TASK_RULES

__all__ = ["MAX_LANES", "TARGET_TASKS", "Lanes", "Step", "StepSizes"]

#: Tasks per sub-problem to aim for at the start; adapted by how fast sub-solves prove.
TARGET_TASKS = 80
#: Parallel sub-solves at most (one CP-SAT worker each).
MAX_LANES = 4


@dataclass
class StepSizes:
    """Agents freed by an agent rule, and tasks freed by the spread-task rule."""

    agents: int
    tasks: int
    n_agents: int
    n_tasks: int

    @classmethod
    def initial(cls, problem: CompiledProblem) -> StepSizes:
        m, n = problem.n_agents, problem.n_tasks
        agents = int(np.clip(round(TARGET_TASKS * m / max(n, 1)), 2, m))
        return cls(agents, min(n, TARGET_TASKS), m, n)

    @property
    def whole_model(self) -> bool:
        """Each agent step frees every agent: the request is small."""
        return self.agents == self.n_agents

    def after_agent_step(self, proved: bool, fast: bool) -> None:
        if proved and fast:
            self.agents = min(self.n_agents, self.agents + 1)
        elif not proved:
            self.agents = max(2, self.agents - 1)

    def after_task_step(self, proved: bool, fast: bool) -> None:
        # Task steps adapt their own size: many agents, few tasks each.
        if proved and fast:
            self.tasks = min(self.n_tasks, int(self.tasks * 1.15) + 1)
        elif not proved:
            self.tasks = max(10, int(self.tasks * 0.85))


@dataclass(frozen=True)
class Step:
    """The k-th cut: which rule it uses, and whether it frees spread tasks."""

    number: int
    rule: str
    spread_tasks: bool

    @classmethod
    def numbered(cls, number: int, rule: str, sizes: StepSizes, allow_unassigned: bool) -> Step:
        # Task rules need agents left out and every task placed; else they free agents.
        spread = rule in TASK_RULES and not sizes.whole_model and not allow_unassigned
        return cls(number, rule, spread)

    @property
    def agent_rule(self) -> str:
        """The agent picker's rule (a task-rule step that cannot spread frees random agents)."""
        return "random" if self.rule in TASK_RULES else self.rule


@dataclass(frozen=True)
class Lanes:
    """Sub-solves run at once, the time each may take, and CP-SAT workers each."""

    count: int
    sub_limit_s: float
    sub_workers: int

    @classmethod
    def plan(cls, time_limit_s: float, left_s: float, workers: int, sizes: StepSizes) -> Lanes:
        if sizes.whole_model:  # each step is the whole model: give it the time
            return cls(1, left_s, workers)
        # Small sub-models prove several times faster on one CP-SAT worker than on two
        # (measured on D-type GAP neighbourhoods), and CP-SAT releases the GIL, so each
        # worker runs its own sub-solve in a thread.
        count = max(1, min(workers, MAX_LANES))
        sub_limit = float(np.clip(time_limit_s / 40, 0.1, 2.0))
        return cls(count, sub_limit, 1 if count > 1 else workers)
