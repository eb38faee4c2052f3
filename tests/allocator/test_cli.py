"""The CLI as a user runs it (a real subprocess): exit codes and one readable error line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allocator.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


def _write(tmp_path: Path, name: str, body: object) -> Path:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


def test_solve_json_prints_one_document_with_the_contract_fields(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    proc = _cli(
        "solve",
        str(EXAMPLES / "gap_c0560.json"),
        "--time-limit",
        "3",
        "--json",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["problem"]["n_tasks"] == 60
    for run in doc["solvers"]:
        for key in (
            "name",
            "status",
            "objective",
            "objectives",
            "bound",
            "gap",
            "verified",
            "wall_time_s",
            "time_to_first_s",
            "time_to_best_s",
            "error",
        ):
            assert key in run
    chosen = doc["chosen"]
    assert {"solver", "reason", "plan"} <= chosen.keys()
    assert len(chosen["plan"]["assignments"]) == 60
    assert json.loads(out.read_text())["assignments"] == chosen["plan"]["assignments"]
    assert "pareto_front" in doc


def test_compare_writes_json_and_html_reports(tmp_path: Path) -> None:
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    proc = _cli(
        "compare",
        str(EXAMPLES / "gap_c0560.txt"),
        "--time-limit",
        "3",
        "--report",
        str(html),
        "--json-report",
        str(js),
    )
    assert proc.returncode == 0, proc.stderr
    assert "chosen:" in proc.stdout
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    assert json.loads(js.read_text())["status"] == "solved"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("{not json", "invalid JSON at line 1"),
        ({"agents": [], "tasks": [{"id": "t"}]}, "field agents"),
        (
            {"agents": [{"id": "a"}], "tasks": [{"id": "t", "demand": {"gpu": 1}}]},
            "unknown resource 'gpu'",
        ),
        (
            {"agents": [{"id": "a"}], "tasks": [{"id": "t"}], "options": {"time_limit_s": -1}},
            "time_limit_s",
        ),
    ],
)
def test_bad_problem_files_exit_2_with_one_line(tmp_path: Path, body: object, needle: str) -> None:
    path = _write(tmp_path, "bad.json", body)
    proc = _cli("solve", str(path), "--time-limit", "1")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0] and "bad.json" in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_file_unknown_solver_and_bad_options_exit_2(tmp_path: Path) -> None:
    missing = _cli("solve", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "file not found" in missing.stderr
    good = str(EXAMPLES / "gap_c0560.json")
    unknown = _cli("solve", good, "--solver", "gurobi")
    assert unknown.returncode == 2 and "unknown solver 'gurobi'" in unknown.stderr
    negative = _cli("solve", good, "--time-limit", "-3")
    assert negative.returncode == 2 and "time_limit_s" in negative.stderr
    for proc in (missing, unknown, negative):
        assert "Traceback" not in proc.stderr


def test_infeasible_exits_3_with_the_diagnosis(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "inf.json",
        {"agents": [{"id": "a"}], "tasks": [{"id": "t17", "requires": ["gpu"]}]},
    )
    proc = _cli("solve", str(path), "--time-limit", "1")
    assert proc.returncode == 3
    assert "task t17 requires capability gpu that no agent has" in proc.stdout


def test_convert_splits_a_gap_file_and_rejects_garbage(tmp_path: Path) -> None:
    multi = _write(tmp_path, "multi.txt", "2\n1 2\n5 6\n1 1\n2\n1 2\n7 8\n1 1\n2\n")
    proc = _cli("convert", str(multi), "--out-dir", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["multi-1.json", "multi-2.json"]
    garbage = _write(tmp_path, "garbage.txt", "hello world")
    bad = _cli("convert", str(garbage))
    assert bad.returncode == 2 and "garbage.txt" in bad.stderr and "Traceback" not in bad.stderr


def test_schema_prints_the_json_schema() -> None:
    proc = _cli("schema")
    assert proc.returncode == 0
    assert "agents" in json.loads(proc.stdout)["properties"]


def test_export_lp_and_mps_and_bad_format(tmp_path: Path) -> None:
    good = str(EXAMPLES / "gap_c0560.json")
    for fmt in ("lp", "mps"):
        out = tmp_path / f"model.{fmt}"
        proc = _cli("export", good, "--format", fmt, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert out.stat().st_size > 1000
    bad = _cli("export", good, "--format", "xlsx", "--out", str(tmp_path / "m"))
    assert bad.returncode == 2 and "use lp or mps" in bad.stderr


def test_usage_errors_exit_2() -> None:
    proc = _cli("solve")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_compare_instances_runs_a_batch(tmp_path: Path) -> None:
    folder = tmp_path / "instances"
    folder.mkdir()
    for seed in (1, 2):
        _write(folder, f"g{seed}.txt", f"1 3\n{seed} 5 6\n1 1 1\n3\n")
    html = tmp_path / "batch.html"
    proc = _cli(
        "compare",
        "--instances",
        str(folder),
        "--time-limit",
        "1",
        "--solver",
        "greedy",
        "--solver",
        "cpsat",
        "--report",
        str(html),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["instances"]) == 2
    assert html.exists()
    both = _cli("compare", str(EXAMPLES / "gap_c0560.json"), "--instances", str(folder))
    assert both.returncode == 2 and "not both" in both.stderr
