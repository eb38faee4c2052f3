"""The LNS's own greedy start (issue 12): in a portfolio (a peer-plan channel) a short
run first, and the rest of the usual budget only when that gave no plan it keeps; alone,
one run with the whole budget. Whatever the channel, a feasible greedy plan is kept."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from solvers.base import SolveOptions
from solvers.lns.greedy_start import greedy_start
from tests.solvers.tiny_instances import tiny_gap


class _Keeper:
    """Keeps feasible plans, after turning down the first `refuse` offers."""

    def __init__(self, problem: CompiledProblem, refuse: int = 0):
        self.problem, self.refuse = problem, refuse
        self.offers: list[np.ndarray] = []
        self.kept: np.ndarray | None = None

    def __call__(self, plan: np.ndarray) -> bool:
        self.offers.append(plan)
        if len(self.offers) <= self.refuse or not evaluate_plan(self.problem, plan).feasible:
            return False
        self.kept = plan
        return True


def _options(peers: bool) -> SolveOptions:
    channel: Callable[[], list[np.ndarray]] | None = (lambda: []) if peers else None
    return SolveOptions(time_limit_s=5.0, seed=0, workers=1, peer_plans=channel)


def test_a_kept_short_run_is_the_only_run_in_a_portfolio() -> None:
    problem = compile_problem(tiny_gap(3, m=4, n=12))
    keep = _Keeper(problem)
    greedy_start(problem, _options(peers=True), left_s=5.0, accept=keep)
    assert len(keep.offers) == 1 and keep.kept is not None
    assert evaluate_plan(problem, keep.kept).feasible


def test_a_refused_short_run_is_followed_by_the_rest_of_the_budget() -> None:
    """A short run whose plan is not kept never leaves the LNS without a plan."""
    problem = compile_problem(tiny_gap(3, m=4, n=12))
    keep = _Keeper(problem, refuse=1)
    greedy_start(problem, _options(peers=True), left_s=5.0, accept=keep)
    assert len(keep.offers) == 2 and keep.kept is not None


def test_alone_the_greedy_runs_once_with_the_whole_budget() -> None:
    problem = compile_problem(tiny_gap(3, m=4, n=12))
    keep = _Keeper(problem, refuse=1)
    greedy_start(problem, _options(peers=False), left_s=5.0, accept=keep)
    assert len(keep.offers) == 1 and keep.kept is None  # refused, and no second run
