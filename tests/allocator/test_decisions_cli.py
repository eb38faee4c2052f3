"""`allocator evaluate/explain/recommend/diff` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allocator.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def _problem() -> dict[str, Any]:
    return {
        "resources": ["cpu"],
        "agents": [
            {"id": "a", "capacity": {"cpu": 4}, "cost_rate": 1.0},
            {"id": "b", "capacity": {"cpu": 4}, "cost_rate": 2.0, "capabilities": ["gpu"]},
        ],
        "tasks": [
            {"id": "t0", "demand": {"cpu": 2}, "work": 2},
            {"id": "t1", "demand": {"cpu": 2}, "work": 1, "requires": ["gpu"]},
            {"id": "t2", "demand": {"cpu": 1}, "work": 3},
        ],
        "objectives": {"weights": {"cost": 1.0, "makespan": 0.5}},
    }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    bodies: dict[str, Any] = {
        "problem": _problem(),
        "good": {"assignments": {"t0": "a", "t1": "b", "t2": "a"}, "unassigned": []},
        "bad": {"assignments": {"t0": "a", "t1": "a", "t2": "a"}},
        "unknown": {"assignments": {"t0": "zz"}},
        "task": {"id": "new", "demand": {"cpu": 1}, "work": 2},
        "bigtask": {"id": "big", "demand": {"cpu": 2}, "work": 2},
        "badtask": {"id": "new", "demand": {"cpu": -1}},
    }
    out = {}
    for name, body in bodies.items():
        out[name] = tmp_path / f"{name}.json"
        out[name].write_text(json.dumps(body))
    return out


def test_evaluate_exit_codes_and_json(files: dict[str, Path]) -> None:
    ok = _cli("evaluate", files["problem"], files["good"], "--json")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["feasible"] and doc["objectives"]["cost"] == pytest.approx(2 + 2 + 3)
    broken = _cli("evaluate", files["problem"], files["bad"], "--json")
    assert broken.returncode == 3
    codes = {v["code"] for v in json.loads(broken.stdout)["violations"]}
    assert codes == {"capability", "capacity"}
    unknown = _cli("evaluate", files["problem"], files["unknown"])
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "unknown agent 'zz'" in unknown.stderr


def test_recommend_ranks_with_exact_deltas(files: dict[str, Path]) -> None:
    proc = _cli("recommend", files["problem"], files["good"], "--task", files["task"], "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["task"] == "new"
    first = doc["recommendations"][0]
    assert set(first) == {"agent", "feasible", "score_delta", "objectives_delta", "reasons"}
    # a: cost +2, its load 5 -> 7 is the makespan (+2 x 0.5); b: cost 2 x 2, load 1 -> 3
    assert first["agent"] == "a" and first["score_delta"] == pytest.approx(2 + 0.5 * 2)
    second = doc["recommendations"][1]
    assert second["agent"] == "b" and second["score_delta"] == pytest.approx(4.0)
    assert first["feasible"] and second["feasible"]
    big = _cli("recommend", files["problem"], files["good"], "--task", files["bigtask"], "--json")
    ranked = json.loads(big.stdout)["recommendations"]
    assert [(r["agent"], r["feasible"]) for r in ranked] == [("b", True), ("a", False)]
    assert ranked[1]["reasons"] == [{"code": "capacity", "message": "cpu short by 1"}]
    bad = _cli("recommend", files["problem"], files["good"], "--task", files["badtask"])
    assert bad.returncode == 2 and "task.demand" in bad.stderr
    inverse = _cli("recommend", files["problem"], files["good"], "--agent", "b", "--json")
    assert inverse.returncode == 0, inverse.stderr
    assert {r["task"] for r in json.loads(inverse.stdout)["recommendations"]} == {"t0", "t2"}
    neither = _cli("recommend", files["problem"], files["good"])
    assert neither.returncode == 2


def test_explain_and_diff_shapes(files: dict[str, Path]) -> None:
    proc = _cli("explain", files["problem"], files["good"], "--task", "t0", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc["tasks"]) == {"t0"} and set(doc["agents"]) == {"a", "b"}
    assert doc["tasks"]["t0"]["agent"] == "a"
    assert doc["tasks"]["t0"]["contribution"]["cost"] == pytest.approx(2.0)
    diff = _cli("diff", files["problem"], files["good"], files["bad"], "--json")
    assert diff.returncode == 0, diff.stderr
    assert json.loads(diff.stdout)["moved"] == [{"task": "t1", "from": "b", "to": "a"}]
    human = _cli("explain", files["problem"], files["good"])
    assert human.returncode == 0 and "t1 on b" in human.stdout
