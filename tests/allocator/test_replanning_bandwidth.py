"""`replan` on a topology: a re-plan within bandwidth is feasible; one the move budget
cannot fit is reported infeasible and says by how much it falls short."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from allocator.commands.decisions import EXIT_VIOLATIONS
from allocator.replanning import replan
from models import compile_problem, evaluate_plan, plan_from_array
from tests.solvers.test_replan_bandwidth import shrunk_link_problem


def _run(max_moves: int | None, pinned: list[str] | None = None, bandwidth: float = 11):
    problem, previous = shrunk_link_problem(bandwidth)
    plan = plan_from_array(compile_problem(problem), previous)
    return problem, replan(problem, plan, max_moves=max_moves, pinned=pinned, time_limit_s=1.0)


def test_a_budget_that_fits_the_links_gives_a_feasible_replan() -> None:
    _, result = _run(max_moves=1)
    assert result["feasible"] and result["moves_used"] == 1
    assert not any(v["code"] == "bandwidth" for v in result["violations"])
    assert any("so every link fits" in note for note in result["notes"])


def test_a_budget_too_small_is_infeasible_and_says_by_how_much() -> None:
    problem, result = _run(max_moves=0)
    assert not result["feasible"] and result["moves_used"] == 0
    assert [v["code"] for v in result["violations"]] == ["bandwidth"]
    # The evaluator agrees: the returned plan overloads the link.
    compiled = compile_problem(problem)
    tasks = compiled.task_ids
    assignment = np.array(
        [compiled.agent_ids.index(result["plan"]["assignments"][t]) for t in tasks]
    )
    assert not evaluate_plan(compiled, assignment).feasible
    text = " ".join(result["notes"])
    assert "moving 1 kept task(s) fits every link (max_moves 1)" in text
    # 15 units over a link 11 wide: the portfolio's shortfall, with the budget named.
    assert "with at most 0 move(s) of kept tasks, no plan found keeps every link" in text
    assert "needs 136.4% of its bandwidth" in text


def test_pins_no_plan_can_carry_are_reported_with_the_shortfall() -> None:
    _, result = _run(max_moves=None, pinned=["p1", "q1"], bandwidth=4)
    assert not result["feasible"]
    assert result["plan"]["assignments"]["p1"] == "B" and result["plan"]["assignments"]["q1"] == "C"
    assert "needs 125.0% of its bandwidth" in " ".join(result["notes"])  # 5 over 4


def test_a_problem_without_a_topology_has_no_bandwidth_notes() -> None:
    problem, _ = shrunk_link_problem()
    bare = problem.model_copy(update={"topology": None})
    previous = plan_from_array(compile_problem(bare), np.array([0, 0, 0, 1, 1, 1]))
    result = replan(bare, previous, max_moves=0, time_limit_s=0.5)
    assert result["feasible"] and result["notes"] == []


def test_the_cli_prints_the_shortfall_and_exits_with_violations(tmp_path: Path) -> None:
    problem, previous = shrunk_link_problem()
    plan = plan_from_array(compile_problem(problem), previous)
    (tmp_path / "problem.json").write_text(problem.model_dump_json(exclude_none=True))
    (tmp_path / "plan.json").write_text(plan.model_dump_json(exclude_none=True))
    command = [sys.executable, "-m", "allocator.cli", "solve", "problem.json"]
    command += ["--from-plan", "plan.json", "--max-moves", "0", "--time-limit", "3"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = " ".join(done.stdout.split())  # the console wraps long lines
    assert done.returncode == EXIT_VIOLATIONS, done.stderr
    assert "[bandwidth]" in out
    assert "note: with at most 0 move(s) of kept tasks" in out
    assert "needs 136.4% of its bandwidth" in out
