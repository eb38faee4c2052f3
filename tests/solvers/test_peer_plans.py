"""Plans flow between running solvers (issue 12): the portfolio passes a new best plan to
the other running solvers that take plans; the LNS cuts its next neighbourhoods around
a better one, and HiGHS (a solver-level option the portfolio does not use by default)
takes one as its incumbent."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator

import numpy as np
import pytest

from models import CompiledProblem, RunOptions, compile_problem, evaluate_plan, gap_to_problem
from models.generators.gap import generate_gap
from solvers import registry
from solvers.base import SolveOptions, TraceRecorder
from solvers.lns.solver import _Search
from solvers.portfolio import schedule_runner
from solvers.portfolio.schedule_runner import ScheduleRunner, _Member
from solvers.portfolio.solver_process import _IncumbentStream
from solvers.portfolio.strategy import Phase, Slot
from solvers.registry import get_solver


@pytest.fixture
def peer_echo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry._REGISTRY["peer_echo"] = ("tests.solvers.peer_echo_solver", "PeerEchoSolver")
    monkeypatch.setattr(schedule_runner, "PEER_PLAN_TAKERS", frozenset({"peer_echo"}))
    yield
    registry._REGISTRY.pop("peer_echo")


def test_a_plan_streamed_by_one_solver_reaches_a_running_peer(peer_echo: None) -> None:
    compiled = compile_problem(gap_to_problem(generate_gap("c", 5, 40, seed=3)))
    options = RunOptions(time_limit_s=4.0, workers=2, seed=0)
    runner = ScheduleRunner(compiled, options, time.perf_counter(), None, None)
    phase = Phase((Slot("greedy", core_share=0.5), Slot("peer_echo", core_share=0.5)))
    members = [_Member(s.solver, s, 0.0) for s in phase.slots]
    runner._run_phase(phase, members)
    echoed = runner.results["peer_echo"].assignment
    assert echoed is not None  # it had no hint: the plan came from greedy while both ran
    ev = evaluate_plan(compiled, echoed)
    greedy = runner.results["greedy"]
    assert ev.feasible and greedy.objective is not None
    assert ev.score >= greedy.objective - 1e-9  # one of greedy's plans, not a better one
    assert not runner.running  # finished solvers are no longer passed plans


def _optimum(compiled: CompiledProblem) -> tuple[np.ndarray, float]:
    exact = get_solver("milp").solve(compiled, SolveOptions(time_limit_s=20, workers=1))
    assert exact.status.value == "optimal" and exact.assignment is not None
    return exact.assignment, float(exact.objective or 0.0)


def test_highs_takes_a_peer_plan_as_its_incumbent() -> None:
    compiled = compile_problem(gap_to_problem(generate_gap("c", 8, 80, seed=5)))
    plan, optimum = _optimum(compiled)
    sent: list[int] = []

    def peers() -> list[np.ndarray]:
        sent.append(1)
        return [plan] if len(sent) == 1 else []

    options = SolveOptions(time_limit_s=5, workers=1, peer_plans=peers)
    result = get_solver("milp").solve(compiled, options)
    assert sent, "HiGHS never asked for the other solvers' plans"
    assert result.objective == pytest.approx(optimum)
    assert any("other solvers" in note for note in result.notes)


def test_the_lns_moves_to_a_better_peer_plan_and_ignores_a_worse_one() -> None:
    compiled = compile_problem(gap_to_problem(generate_gap("c", 8, 80, seed=5)))
    plan, optimum = _optimum(compiled)
    worse = get_solver("greedy").solve(compiled, SolveOptions(time_limit_s=0.5, workers=1))
    assert worse.assignment is not None and worse.objective is not None
    if worse.objective <= optimum + 1e-9:
        pytest.skip("the greedy plan is already optimal on this instance")
    inbox: list[np.ndarray] = [plan]

    def peers() -> list[np.ndarray]:
        out = list(inbox)
        inbox.clear()
        return out

    search = _Search(compiled, SolveOptions(peer_plans=peers), TraceRecorder())
    search.best, search.best_score = worse.assignment, float(worse.objective)
    search._take_peer_plans()
    assert search.best_score == pytest.approx(optimum) and search.peer_plans_taken == 1
    inbox.append(worse.assignment)
    search._take_peer_plans()
    assert search.best_score == pytest.approx(optimum) and search.peer_plans_taken == 1


def test_the_stream_sends_every_improvement_at_once_at_the_end_of_the_budget() -> None:
    plan = np.zeros(4, dtype=np.int32)
    sent: queue.Queue[tuple[str, tuple[np.ndarray, float, float]]] = queue.Queue()
    # 0.2 s of a 10.2 s budget left: inside the closing window, no interval applies.
    closing = _IncumbentStream(sent, time.perf_counter() - 10.0, budget_s=10.2)
    closing.offer(plan, 2.0)
    closing.offer(plan, 1.0)  # 0.25 s apart would be needed earlier in the budget
    assert [sent.get_nowait()[1][1] for _ in range(2)] == [2.0, 1.0]
