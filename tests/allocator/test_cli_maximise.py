"""`--maximise` for OR-Library GAP profit files: profits are maximised and shown as profits."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allocator.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )


def _profit_file(path: Path, seed: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gap1-12 style file (m n, profit, usage, capacity) small enough to brute-force."""
    rng = np.random.default_rng(seed)
    m, n = 3, 7
    profit = rng.integers(10, 50, size=(m, n))
    usage = rng.integers(5, 25, size=(m, n))
    capacity = np.floor(1.1 * usage.sum(axis=1) / m).astype(int)
    rows = [f"{m} {n}"] + [" ".join(map(str, r)) for r in (*profit, *usage)]
    path.write_text("\n".join([*rows, " ".join(map(str, capacity))]) + "\n")
    return profit, usage, capacity


def _best_profit(profit: np.ndarray, usage: np.ndarray, capacity: np.ndarray) -> float:
    m, n = profit.shape
    best = -np.inf
    for agents in itertools.product(range(m), repeat=n):
        load = np.zeros(m)
        for j, i in enumerate(agents):
            load[i] += usage[i, j]
        if np.all(load <= capacity):
            best = max(best, sum(profit[i, j] for j, i in enumerate(agents)))
    return float(best)


def test_maximise_reports_the_total_profit_of_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "gapx.txt"
    profit, usage, capacity = _profit_file(path)
    report, plan = tmp_path / "r.json", tmp_path / "plan.json"
    proc = _cli(
        "solve",
        str(path),
        "--maximise",
        "--time-limit",
        "5",
        "--solver",
        "cpsat",
        "--json-report",
        str(report),
        "--out",
        str(plan),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(report.read_text())
    assignments = json.loads(plan.read_text())["assignments"]
    earned = sum(profit[int(a[1:]), int(t[1:])] for t, a in assignments.items())
    sense = doc["objective_sense"]
    assert sense["sense"] == "maximise" and sense["name"] == "profit"
    # The number called profit is exactly the plan's total profit from the file...
    assert sense["chosen_profit"] == earned
    # ...the solvers' value is its negation, and the upper bound sits above it.
    assert doc["chosen"]["objective"] == -earned
    assert sense["best_upper_bound"] is None or sense["best_upper_bound"] >= earned - 1e-6
    # Maximised, not minimised: CP-SAT's proven optimum is the brute-force best profit.
    if doc["solvers"][0]["status"] == "optimal":
        assert earned == _best_profit(profit, usage, capacity)
    text = " ".join(proc.stdout.split())
    assert f"profit {earned}" in text and "higher is better" in text


def test_maximise_flips_the_html_figures(tmp_path: Path) -> None:
    path = tmp_path / "gapx.txt"
    _profit_file(path, seed=5)
    proc = _cli(
        "compare", str(path), "--maximise", "--time-limit", "3", "-s", "cpsat", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "gapx.report.html").read_text()
    doc = json.loads((tmp_path / "out" / "gapx.report.json").read_text())
    profit = doc["objective_sense"]["chosen_profit"]
    assert profit > 0 and doc["chosen"]["objective"] == -profit
    assert 'id="objective-meaning"' in page and "Upper bound" in page
    assert f'<div class="v">{profit:g}</div>' in page


def test_maximise_refuses_a_json_problem(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"agents": [{"id": "a"}], "tasks": [{"id": "t"}]}))
    proc = _cli("solve", str(path), "--maximise", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--maximise reads OR-Library GAP profit files" in proc.stderr


def test_batch_maximise_reads_profits_and_keeps_the_plans(tmp_path: Path) -> None:
    folder = tmp_path / "profits"
    folder.mkdir()
    tables = {name: _profit_file(folder / f"{name}.txt", seed=k) for k, name in enumerate("ab")}
    proc = _cli(
        "compare",
        "--instances",
        str(folder),
        "--maximise",
        "--time-limit",
        "3",
        "-s",
        "cpsat",
        "--out",
        str(tmp_path / "plans.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    batch = json.loads((tmp_path / "out" / "profits.batch.json").read_text())
    plans = json.loads((tmp_path / "plans.json").read_text())
    assert batch["maximise"] is True
    for inst in batch["instances"]:
        profit = tables[inst["instance"]][0]
        earned = sum(
            profit[int(a[1:]), int(t[1:])]
            for t, a in plans[inst["instance"]]["assignments"].items()
        )
        assert inst["outcomes"][0]["objective"] == -earned  # negated profit, min is best
    assert "Profit instances (--maximise)" in (tmp_path / "out" / "profits.batch.html").read_text()
