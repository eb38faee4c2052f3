"""MILP solver: one tiny test per constraint family, objectives against brute force, status."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pulp
import pytest

from models import CompiledProblem, Problem, compile_problem, evaluate_plan
from solvers.base import SolveOptions, SolveStatus
from solvers.milp.solver import MilpBackendError, MilpSolver, export_model

BACKENDS = ["highs", "cbc"]
GAPD = Path(__file__).resolve().parents[3] / "shared" / "bench" / "gap" / "orlib" / "gapd.txt"


def _compile(doc: dict[str, Any]) -> CompiledProblem:
    return compile_problem(Problem.model_validate(doc))


def _solve(problem: CompiledProblem, backend: str = "highs", **kw: Any) -> Any:
    options = SolveOptions(time_limit_s=kw.pop("time_limit_s", 10.0), backend=backend, **kw)
    return MilpSolver().solve(problem, options)


def _brute_force(problem: CompiledProblem) -> tuple[float, list[np.ndarray]]:
    """Best weighted score over every plan (tiny instances only) and the plans reaching it."""
    choices = list(range(problem.n_agents)) + ([-1] if problem.allow_unassigned else [])
    best, plans = np.inf, []
    for combo in itertools.product(choices, repeat=problem.n_tasks):
        plan = np.array(combo, dtype=np.int32)
        evaluation = evaluate_plan(problem, plan)
        if not evaluation.feasible:
            continue
        if evaluation.score < best - 1e-9:
            best, plans = evaluation.score, [plan]
        elif abs(evaluation.score - best) <= 1e-9:
            plans.append(plan)
    return best, plans


def _gap_doc(cost: list[list[float]], usage: list[list[float]], capacity: list[float]) -> dict:
    return {
        "resources": ["cpu"],
        "agents": [{"id": f"a{i}", "capacity": {"cpu": c}} for i, c in enumerate(capacity)],
        "tasks": [{"id": f"t{j}"} for j in range(len(cost[0]))],
        "cost": cost,
        "usage": usage,
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_task_once_takes_cheapest_agent(backend: str) -> None:
    problem = _compile(_gap_doc([[1, 5, 2], [3, 1, 4]], [[1, 1, 1], [1, 1, 1]], [9, 9]))
    result = _solve(problem, backend)
    assert result.status is SolveStatus.OPTIMAL
    assert result.assignment.tolist() == [0, 1, 0]
    assert result.objective == pytest.approx(4.0)
    assert result.bound == pytest.approx(4.0, abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_agent_capacity_forces_a_split(backend: str) -> None:
    # Agent 0 is cheaper for all, but holds only two of the three tasks.
    problem = _compile(_gap_doc([[1, 1, 1], [5, 6, 7]], [[3, 3, 3], [3, 3, 3]], [6, 9]))
    result = _solve(problem, backend)
    assert result.status is SolveStatus.OPTIMAL
    assert np.bincount(result.assignment, minlength=2).tolist() == [2, 1]
    assert result.objective == pytest.approx(7.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_eligibility_by_capability(backend: str) -> None:
    problem = _compile(
        {
            "agents": [
                {"id": "cheap", "capacity": {"cpu": 10}, "cost_rate": 1},
                {"id": "gpu", "capacity": {"cpu": 10}, "cost_rate": 9, "capabilities": ["gpu"]},
            ],
            "tasks": [{"id": "t0", "requires": ["gpu"]}, {"id": "t1"}],
        }
    )
    result = _solve(problem, backend)
    assert result.assignment.tolist() == [1, 0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_tasks(backend: str) -> None:
    doc = _gap_doc([[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [1, 1, 1]], [9, 9])
    doc["agents"][0]["max_tasks"] = 1
    result = _solve(_compile(doc), backend)
    assert np.bincount(result.assignment, minlength=2).tolist() == [1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_anti_affinity(backend: str) -> None:
    doc = _gap_doc([[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [1, 1, 1]], [9, 9])
    doc["groups"] = [{"kind": "anti_affinity", "tasks": ["t0", "t1"]}]
    result = _solve(_compile(doc), backend)
    assert result.assignment[0] != result.assignment[1]
    assert result.objective == pytest.approx(4.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_co_location(backend: str) -> None:
    # t0 prefers a0 and t1 prefers a1; together they go where the pair is cheaper.
    doc = _gap_doc([[1, 5, 1], [4, 1, 1]], [[1, 1, 1], [1, 1, 1]], [9, 9])
    doc["groups"] = [{"kind": "co_location", "tasks": ["t0", "t1"]}]
    result = _solve(_compile(doc), backend)
    assert result.assignment[0] == result.assignment[1] == 1
    assert result.objective == pytest.approx(6.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_allow_unassigned_leaves_the_cheapest_penalty_out(backend: str) -> None:
    doc = _gap_doc([[1, 1]], [[5, 5]], [5])
    doc["allow_unassigned"] = True
    doc["unassigned_penalty"] = 100.0
    doc["tasks"][1]["priority"] = "low"
    result = _solve(_compile(doc), backend)
    assert result.assignment.tolist() == [0, -1]
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(1.0 + 100.0 * 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_infeasible_capacity_is_proven(backend: str) -> None:
    problem = _compile(_gap_doc([[1, 1]], [[4, 4]], [5]))
    assert _solve(problem, backend).status is SolveStatus.INFEASIBLE


def test_task_without_eligible_agent_is_infeasible_before_solving() -> None:
    problem = _compile(
        {"agents": [{"id": "a", "capacity": {"cpu": 4}}], "tasks": [{"id": "t", "requires": ["x"]}]}
    )
    result = _solve(problem)
    assert result.status is SolveStatus.INFEASIBLE
    assert any("task t has no eligible agent" in note for note in result.notes)


def _mixed_doc(weights: dict[str, float]) -> dict[str, Any]:
    """3 agents x 5 tasks with two dimensions, current agents and a small topology."""
    return {
        "resources": ["cpu", "mem"],
        "agents": [
            {"id": "a0", "capacity": {"cpu": 4, "mem": 8}, "speed": 1.0, "node": "n0"},
            {"id": "a1", "capacity": {"cpu": 6, "mem": 4}, "speed": 2.0, "node": "n1"},
            {"id": "a2", "capacity": {"cpu": 3, "mem": 6}, "speed": 1.5, "cost_rate": 0.5},
        ],
        "tasks": [
            {"id": f"t{j}", "demand": {"cpu": 1 + j % 3, "mem": 1 + (j * 2) % 3}, "work": 1 + j}
            for j in range(5)
        ],
        "communication": [{"a": "t0", "b": "t1", "volume": 3.0}],
        "topology": {
            "nodes": [{"id": "n0"}, {"id": "n1"}],
            "links": [{"a": "n0", "b": "n1", "latency_ms": 2.0}],
        },
        "objectives": {"mode": "weighted", "weights": weights},
    }


def _with_current(doc: dict[str, Any]) -> dict[str, Any]:
    doc["tasks"][0]["current_agent"] = "a1"
    doc["tasks"][3]["current_agent"] = "a0"
    doc["agents"][2]["node"] = None
    return doc


OBJECTIVE_MIXES = [
    {"cost": 1.0, "consolidation": 3.0},
    {"makespan": 1.0, "cost": 0.1},
    {"imbalance": 1.0, "migrations": 0.5},
    {"cost": 1.0, "communication": 1.0},
]


@pytest.mark.parametrize("weights", OBJECTIVE_MIXES, ids=lambda w: "+".join(w))
def test_linear_objectives_match_brute_force(weights: dict[str, float]) -> None:
    problem = _compile(_with_current(_mixed_doc(weights)))
    best, _ = _brute_force(problem)
    result = _solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert evaluate_plan(problem, result.assignment).score == pytest.approx(best, abs=1e-6)
    assert result.bound <= best + 1e-6


def test_cbc_matches_brute_force_on_a_mixed_objective() -> None:
    problem = _compile(_with_current(_mixed_doc({"cost": 1.0, "imbalance": 2.0})))
    best, _ = _brute_force(problem)
    result = _solve(problem, "cbc")
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lexicographic_fixes_the_first_objective(backend: str) -> None:
    doc = _with_current(_mixed_doc({}))
    doc["objectives"] = {"mode": "lexicographic", "order": ["makespan", "cost"]}
    problem = _compile(doc)
    feasible = []
    for combo in itertools.product(range(3), repeat=5):
        ev = evaluate_plan(problem, np.array(combo))
        if ev.feasible:
            feasible.append((ev.objectives["makespan"], ev.objectives["cost"]))
    best_key = min(feasible)
    result = _solve(problem, backend)
    ev = evaluate_plan(problem, result.assignment)
    assert result.status is SolveStatus.OPTIMAL
    assert ev.objectives["makespan"] == pytest.approx(best_key[0], rel=1e-5)
    assert ev.objectives["cost"] == pytest.approx(best_key[1], rel=1e-5)


def test_unmodelled_objective_is_noted_and_not_called_optimal() -> None:
    problem = _compile(_mixed_doc({"cost": 1.0, "weighted_completion": 1.0}))
    result = _solve(problem)
    assert result.status is SolveStatus.FEASIBLE
    assert any("weighted_completion" in note for note in result.notes)
    # The bound on the modelled part stays a valid bound on the whole score.
    assert result.bound <= result.objective + 1e-6


def test_warm_start_is_reported_as_incumbent() -> None:
    problem = _compile(_with_current(_mixed_doc({"cost": 1.0})))
    _, plans = _brute_force(problem)
    seen: list[float] = []
    options = SolveOptions(
        time_limit_s=5, hints=[plans[0]], on_incumbent=lambda a, v: seen.append(v)
    )
    result = MilpSolver().solve(problem, options)
    assert result.status is SolveStatus.OPTIMAL
    assert seen and seen[-1] == pytest.approx(result.objective)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_time_limit_is_not_reported_optimal(backend: str) -> None:
    from models import gap_to_problem, read_gap_file

    if not GAPD.exists():
        pytest.skip("OR-Library gapd.txt not found")
    problem = compile_problem(gap_to_problem(read_gap_file(GAPD)[0]))
    limit = 0.5
    result = _solve(problem, backend, time_limit_s=limit, workers=1)
    assert result.wall_time_s < limit + 2.5
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    if result.status is SolveStatus.FEASIBLE:
        assert evaluate_plan(problem, result.assignment).feasible
        if result.bound is not None:
            assert result.bound < result.objective  # the gap is open: optimal would be a lie
        assert result.trace and result.trace[-1][1] == pytest.approx(result.objective)


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export_writes_a_readable_model(tmp_path: Path, fmt: str) -> None:
    doc = _with_current(_mixed_doc({"cost": 1.0, "makespan": 1.0}))
    doc["groups"] = [{"kind": "anti_affinity", "tasks": ["t0", "t1"]}]
    problem = _compile(doc)
    path = export_model(problem, tmp_path / f"model.{fmt}", fmt)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    assert highs.readModel(str(path)) == highspy.HighsStatus.kOk
    highs.run()
    reference = _solve(problem)
    # Constants kept outside the file are zero here (no unassigned, migrations not weighted).
    assert highs.getInfo().objective_function_value == pytest.approx(reference.objective)
    if fmt == "mps":
        _, lp = pulp.LpProblem.fromMPS(str(path))
        assert len(lp.variables()) == int(problem.eligible.sum()) + 1  # x plus max_load
        assert len(lp.constraints()) > problem.n_tasks


def test_unknown_backend_is_a_typed_error() -> None:
    problem = _compile(_gap_doc([[1]], [[1]], [1]))
    with pytest.raises(MilpBackendError, match="use one of: highs, cbc"):
        _solve(problem, "gurobi")


def test_unknown_export_format_is_rejected(tmp_path: Path) -> None:
    problem = _compile(_gap_doc([[1]], [[1]], [1]))
    with pytest.raises(ValueError, match="use one of: lp, mps"):
        export_model(problem, tmp_path / "m.txt", "txt")


def test_overrunning_process_is_stopped_from_outside() -> None:
    import subprocess
    import sys
    import time

    from solvers.milp.backends import BackendOutcome
    from solvers.milp.cbc import CBC_KILL_AFTER_S, wait_or_stop

    # A stand-in for CBC that ignores SIGINT, as CBC does inside a long root LP.
    stubborn = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", stubborn])
    time.sleep(0.3)  # let it install its handler
    began = time.perf_counter()
    outcome = BackendOutcome()
    assert wait_or_stop(proc, 0.2, outcome) is True
    assert time.perf_counter() - began < 0.2 + CBC_KILL_AFTER_S + 1.0
    assert proc.poll() is not None
    assert any("killed" in note for note in outcome.notes)
