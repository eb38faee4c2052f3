"""Re-planning after an agent goes down (examples/mixed.json): few moves, near a full re-solve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from allocator.facade import solve
from allocator.problem_files import load_problem
from allocator.replanning import replan, split_replan_fields
from models import InputError, Plan, Problem, RunOptions

ROOT = Path(__file__).resolve().parents[2]
MIXED = ROOT / "examples" / "mixed.json"
LIMIT_S = 2.0


@pytest.fixture(scope="module")
def before() -> tuple[Problem, Plan]:
    problem = load_problem(MIXED)
    # A good previous plan, the same on every run (a plan that depends on the load made
    # the re-plan below infeasible in some runs): the re-plan keeps most of it.
    report = solve(problem, RunOptions(time_limit_s=8.0, seed=1, deterministic=True))
    assert report.chosen is not None
    return problem, report.chosen.plan


def _without(problem: Problem, agent: str) -> Problem:
    return problem.model_copy(update={"agents": [a for a in problem.agents if a.id != agent]})


@pytest.mark.parametrize("lost_index", [3, 5, 17])
def test_losing_an_agent_moves_its_tasks_and_at_most_k_others(
    before: tuple[Problem, Plan], lost_index: int
) -> None:
    problem, plan = before
    lost = problem.agents[lost_index].id
    smaller = _without(problem, lost)
    result = replan(smaller, plan, max_moves=10, time_limit_s=LIMIT_S)
    orphans = {t for t, a in plan.assignments.items() if a == lost}
    changed = {m["task"] for m in result["diff"]["moved"]} | {
        a["task"] for a in result["diff"]["added"]
    }
    assert set(result["freed"]) == orphans
    assert len(changed - orphans) <= 10 and result["moves_used"] <= 10
    assert result["feasible"], result["violations"]
    assert set(result["plan"]["assignments"]) == {t.id for t in smaller.tasks}
    # Moves beyond the freed tasks are spent only when they pay: never worse than placing
    # the freed tasks alone. (The goal "within 1 % of a full re-solve at the same limit"
    # races two solvers against the clock, so it is checked by `python -m bench.decisions`,
    # which prints that ratio, not by a test a loaded machine can fail.)
    # (With no move allowed the freed tasks may not fit at all; then any feasible plan wins.)
    placed_only = replan(smaller, plan, max_moves=0, time_limit_s=LIMIT_S)
    if placed_only["feasible"]:
        assert result["score"] <= placed_only["score"] + 1e-6 * abs(placed_only["score"])


def test_pins_and_bad_fields(before: tuple[Problem, Plan]) -> None:
    problem, plan = before
    task = next(iter(plan.assignments))
    result = replan(problem, plan, max_moves=3, pinned=[task], time_limit_s=0.5)
    assert result["plan"]["assignments"][task] == plan.assignments[task]
    with pytest.raises(InputError, match="pinned"):
        replan(problem, plan, pinned=["no-such-task"])
    with pytest.raises(InputError, match="max_moves"):
        split_replan_fields({"previous_plan": {}, "max_moves": -1})
    rest, request = split_replan_fields({"name": "x", "max_moves": 2, "dry_run": True})
    assert rest == {"name": "x"} and request is not None and request.max_moves == 2


def test_cli_solve_from_plan(before: tuple[Problem, Plan], tmp_path: Path) -> None:
    problem, plan = before
    lost = problem.agents[5].id
    (tmp_path / "p.json").write_text(_without(problem, lost).model_dump_json())
    (tmp_path / "plan.json").write_text(json.dumps(plan.model_dump(exclude_none=True)))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.cli",
            "solve",
            str(tmp_path / "p.json"),
            "--from-plan",
            str(tmp_path / "plan.json"),
            "--max-moves",
            "10",
            "--json",
            "--time-limit",
            "4",  # counted from the process start: a loaded machine's start can take 1.3 s
            "--out",
            str(tmp_path / "new.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["moves_used"] <= 10 and doc["max_moves"] == 10
    assert json.loads((tmp_path / "new.json").read_text()) == doc["plan"]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.cli",
            "solve",
            str(tmp_path / "p.json"),
            "--from-plan",
            str(tmp_path / "missing.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    document = json.loads(_without(problem, lost).model_dump_json())
    document.update(previous_plan=plan.model_dump(exclude_none=True), max_moves=3)
    (tmp_path / "request.json").write_text(json.dumps(document))
    in_doc = subprocess.run(
        [sys.executable, "-m", "allocator.cli", "solve", str(tmp_path / "request.json"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert in_doc.returncode in (0, 3), in_doc.stderr
    assert json.loads(in_doc.stdout)["max_moves"] == 3
