"""Property test: on random small problems in all three modes, the report's figures agree
with brute-force optima: no plan beats the optimum, no bound exceeds it, "optimal" is
within rel_gap of it, and the clock invariant holds for every solver."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import CompiledProblem, Problem, RunOptions, compile_problem, evaluate_plan
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio
from tests.solvers.report_invariants import all_breaches

_OBJECTIVES = {
    "weighted": {"mode": "weighted", "weights": {"cost": 1.0, "makespan": 0.5}},
    "lexicographic": {"mode": "lexicographic", "order": ["makespan", "cost"]},
    "pareto": {"mode": "pareto", "pareto": ["cost", "makespan"]},
}
_SOLVERS = {
    "weighted": ["greedy", "cpsat", "milp", "lp_bound"],
    "lexicographic": ["greedy", "cpsat", "milp", "lp_bound"],
    "pareto": ["greedy", "cpsat", "nsga2", "lp_bound"],
}
_TOL = 1e-6


@st.composite
def small_problems(draw: st.DrawFn) -> dict:
    m = draw(st.integers(2, 3))
    n = draw(st.integers(3, 5))
    agents = [
        {
            "id": f"a{i}",
            "capacity": {"cpu": draw(st.integers(3, 8))},
            "speed": draw(st.sampled_from([1.0, 1.5, 2.0])),
            "cost_rate": draw(st.sampled_from([1.0, 2.0, 3.0])),
        }
        for i in range(m)
    ]
    tasks = [
        {"id": f"t{j}", "demand": {"cpu": draw(st.integers(1, 3))}, "work": draw(st.integers(1, 4))}
        for j in range(n)
    ]
    return {"name": "random-small", "resources": ["cpu"], "agents": agents, "tasks": tasks}


def _feasible_objectives(compiled: CompiledProblem) -> list[dict[str, float]]:
    plans = itertools.product(range(compiled.n_agents), repeat=compiled.n_tasks)
    out = []
    for plan in plans:
        ev = evaluate_plan(compiled, np.array(plan))
        if ev.feasible:
            out.append({**ev.objectives, "score": ev.score})
    return out


def _check_against_brute_force(mode: str, report, feasible: list[dict[str, float]]) -> None:
    verified = [r for r in report.solvers if r.verified and r.objectives is not None]
    rel_gap = report.settings.rel_gap
    if mode == "pareto":
        for name in ("cost", "makespan"):
            best = min(f[name] for f in feasible)
            assert all(r.objectives[name] >= best - _TOL for r in verified)
            ideal = (report.ideal_point or {}).get(name)
            assert ideal is None or ideal <= best + _TOL * max(1.0, abs(best))
        return
    key = "score" if mode == "weighted" else "makespan"
    best = min(f[key] for f in feasible)
    slack = _TOL * max(1.0, abs(best))
    for run in verified:
        assert run.objective is not None and run.objective >= best - slack, run.name
        if run.status == "optimal":
            assert run.objective <= best + rel_gap * abs(best) + slack, run.name
    for bound in [report.best_bound, *(r.bound for r in report.solvers)]:
        assert bound is None or bound <= best + slack, f"bound {bound} > optimum {best}"


@pytest.mark.parametrize("mode", sorted(_OBJECTIVES))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=small_problems())
def test_report_agrees_with_brute_force(mode: str, data: dict) -> None:
    problem = Problem.model_validate({**data, "objectives": _OBJECTIVES[mode]})
    compiled = compile_problem(problem)
    feasible = _feasible_objectives(compiled)
    report = run_portfolio(
        problem,
        RunOptions(time_limit_s=1.5, solvers=_SOLVERS[mode]),
        breaker=SolverBreaker(),
    )
    assert all_breaches(report) == []
    if not feasible:
        assert report.status != "solved"
        return
    assert report.status == "solved"
    _check_against_brute_force(mode, report, feasible)
