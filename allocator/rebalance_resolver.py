"""The solves behind `adaptive` rebalancing: re-planning with a move budget, or the portfolio.

The coordinator core never imports solvers or solves: it emits `ResolveRequested`,
and the swarm runtime runs one of these on the request with the swarm's lock
released, then feeds the plan back (`answer_request` judges it first). The service
uses `replan_resolver`: it starts from where the tasks are queued and moves at most
the budget, instead of solving the queued work from scratch.
"""

from __future__ import annotations

from allocator.coordinator import Resolver
from allocator.facade import solve
from allocator.replanning import replan
from models import Plan, Problem, RunOptions

__all__ = ["portfolio_resolver", "replan_resolver"]


def _current_plan(problem: Problem) -> Plan:
    return Plan(
        assignments={t.id: t.current_agent for t in problem.tasks if t.current_agent},
        unassigned=[t.id for t in problem.tasks if not t.current_agent],
    )


def replan_resolver(time_limit_s: float = 2.0) -> Resolver:
    """Re-plan from the current queues, moving at most the request's `max_moves` tasks.

    The problem carries each task's `current_agent` and a migration objective, so a
    move is made only when it pays for itself.
    """

    def resolve(problem: Problem, max_moves: int | None) -> Plan:
        result = replan(
            problem, _current_plan(problem), max_moves=max_moves, time_limit_s=time_limit_s
        )
        return Plan.model_validate(result["plan"])

    return resolve


def portfolio_resolver(
    time_limit_s: float = 2.0, solvers: tuple[str, ...] = ("greedy", "cpsat")
) -> Resolver:
    """A full re-solve of the queued work by the portfolio; keeps tasks put if it finds nothing.

    It does not take the move budget into the solve: `answer_request` trims its plan
    to the best `max_moves` single moves.
    """

    def resolve(problem: Problem, max_moves: int | None) -> Plan:
        report = solve(problem, RunOptions(time_limit_s=time_limit_s, solvers=list(solvers)))
        return report.chosen.plan if report.chosen is not None else _current_plan(problem)

    return resolve
