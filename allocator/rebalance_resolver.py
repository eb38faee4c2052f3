"""The re-solve behind `adaptive` rebalancing: the portfolio on the queued work.

The coordinator core never imports solvers or solves: it emits `ResolveRequested`,
and the swarm runtime runs this function on the request with the swarm's lock
released, then feeds the plan back (`answer_request` judges it first).
"""

from __future__ import annotations

from collections.abc import Callable

from allocator.facade import solve
from models import Plan, Problem, RunOptions

__all__ = ["portfolio_resolver"]


def portfolio_resolver(
    time_limit_s: float = 2.0, solvers: tuple[str, ...] = ("greedy", "cpsat")
) -> Callable[[Problem], Plan]:
    """A resolver for `answer_request` and `SwarmHub`; keeps tasks put when nothing better is found.

    The problem carries each task's `current_agent` and a migration objective, so the
    plan the portfolio picks moves as little as the weights say.
    """

    def resolve(problem: Problem) -> Plan:
        report = solve(problem, RunOptions(time_limit_s=time_limit_s, solvers=list(solvers)))
        if report.chosen is not None:
            return report.chosen.plan
        return Plan(
            assignments={t.id: t.current_agent for t in problem.tasks if t.current_agent},
            unassigned=[t.id for t in problem.tasks if not t.current_agent],
        )

    return resolve
