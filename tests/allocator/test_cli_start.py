"""The CLI's start: what `allocator` imports before a solve, and a limit its start
already used (exit 5 with the greedy's first plan). Speed itself is measured by
`python -m bench.time_limit`, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from allocator.commands import simulate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_SOLVE = (sys.executable, "-m", "allocator.cli", "solve")

#: Packages no `solve` needs before its solve starts (solver backends load in the
#: solver processes; the rest belongs to other commands or to networked requests).
HEAVY = (
    "ortools",
    "pandas",
    "pulp",
    "highspy",
    "deap",
    "networkx",
    "scipy",
    "fastapi",
    "starlette",
    "uvicorn",
    "dask",
    "sqlalchemy",
    "httpx",
    "jinja2",
    "matplotlib",
    "simpy",
    "mcp",
    "rich",
    "allocator.coordinator",
    "allocator.simulation",
)


def test_the_cli_imports_no_heavy_package_at_start() -> None:
    code = (
        "import json, sys\n"
        "import allocator.cli, allocator.facade\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_a_small_request_without_groups_solves_without_scipy() -> None:
    # The greedy runs in the command's own process; scipy's import alone was a third
    # of a 0.5 s limit. Requests with co-location or anti-affinity groups still use it.
    code = (
        "import sys\n"
        "from allocator.facade import solve\n"
        "from models import RunOptions\n"
        "from models.generators.instances import generate_attribute_problem\n"
        "problem = generate_attribute_problem(20, 5, seed=0)\n"
        "assert not problem.groups\n"
        "report = solve(problem, RunOptions(solvers=['greedy'], time_limit_s=5))\n"
        "assert report.status == 'solved', report.status\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_simulate_help_names_match_the_simulation() -> None:
    from allocator.simulation import POLICY_NAMES
    from allocator.simulation.workflows import WORKFLOW_SHAPES

    assert simulate.POLICY_NAMES == POLICY_NAMES
    assert simulate.WORKFLOW_SHAPES == WORKFLOW_SHAPES


def test_a_limit_the_start_used_up_exits_5_with_the_greedys_plan() -> None:
    # No Python process starts within 10 ms, so the limit is gone before the solve.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.cli",
            "solve",
            str(EXAMPLES / "gap_c0560.json"),
            "--time-limit",
            "0.01",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 5, proc.stderr
    assert "time limit missed" in proc.stderr
    report = json.loads(proc.stdout)
    assert [run["name"] for run in report["solvers"]] == ["greedy"]
    assert report["solvers"][0]["verified"] is True
    assert report["status"] == "solved"


def test_a_re_plan_whose_limit_the_start_used_up_exits_5_with_a_plan(tmp_path: Path) -> None:
    problem = EXAMPLES / "gap_c0560.json"
    plan = tmp_path / "plan.json"
    first = subprocess.run(
        [*_SOLVE, str(problem), "-s", "greedy", "--time-limit", "5", "--out", str(plan)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    again = subprocess.run(
        [*_SOLVE, str(problem), "--from-plan", str(plan), "--time-limit", "0.01", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert again.returncode == 5, again.stderr
    assert "re-planning in the least time" in again.stderr
    assert json.loads(again.stdout)["feasible"] is True
