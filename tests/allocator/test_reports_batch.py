"""Batch comparisons end to end: instance discovery, a real run, and the CLI command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from allocator.reports.batch import discover_instances, run_batch
from allocator.reports.batch_html import render_batch_html
from models import InputError, Problem, RunOptions
from models.generators.instances import generate_attribute_problem
from tests.allocator.html_elements import parse_elements

ROOT = Path(__file__).resolve().parents[2]

# Two GAP problems of 2 agents x 3 tasks: count, then m n, cost, usage, capacity each.
_GAP_TWO = """2
2 3
1 2 3
3 2 1
1 1 1
1 1 1
3 3
2 3
5 5 1
1 5 5
2 2 2
2 2 2
4 4
"""


def _folder(tmp_path: Path, n_json: int = 2) -> Path:
    folder = tmp_path / "instances"
    folder.mkdir()
    for k in range(n_json):
        problem = generate_attribute_problem(12 + 2 * k, 3, seed=k)
        (folder / f"gen{k}.json").write_text(problem.model_dump_json(exclude_defaults=True))
    return folder


def test_discover_expands_gap_files_and_skips_reports(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    (folder / "two.txt").write_text(_GAP_TWO)
    (folder / "junk.txt").write_text("hello world")
    (folder / "gen0.report.json").write_text("{}")
    (folder / "page.html").write_text("<html>")
    (folder / ".hidden.json").write_text("{}")
    found = {name: item for name, _, item in discover_instances(folder)}
    assert sorted(found) == ["gen0", "junk", "two#1", "two#2"]
    assert isinstance(found["two#2"], Problem) and len(found["two#2"].tasks) == 3
    assert isinstance(found["junk"], InputError)


def test_run_batch_with_real_solvers(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 2)
    (folder / "junk.txt").write_text("not a problem")
    seen: list[str] = []
    batch = run_batch(
        folder,
        RunOptions(solvers=["greedy", "cpsat"], time_limit_s=1.0, workers=1),
        on_instance=lambda name, i, n: seen.append(name),
    )
    assert seen == ["gen0", "gen1", "junk"]
    assert [i.instance for i in batch.instances] == seen
    assert batch.instances[2].error is not None
    assert {a.solver for a in batch.aggregates} == {"greedy", "cpsat"}
    assert all(a.n_solved == 2 for a in batch.aggregates)
    assert all(a.wins + a.ties + a.losses == 2 for a in batch.aggregates)
    page = render_batch_html(batch)
    charts = {e.chart for e in parse_elements(page) if "pt" in e.classes}
    assert {"profile-time", "profile-objective"} <= charts


def test_cli_compare_batch_writes_html_and_json(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 2)
    report = tmp_path / "out" / "batch.html"
    report.parent.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator.cli",
            "compare-batch",
            "--instances",
            str(folder),
            "--solver",
            "greedy",
            "--time-limit",
            "1",
            "--report",
            str(report),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [i["instance"] for i in doc["instances"]] == ["gen0", "gen1"]
    assert report.exists() and report.with_suffix(".json").exists()
    assert 'data-chart="profile-objective"' in report.read_text()


def test_cli_compare_batch_rejects_a_file(tmp_path: Path) -> None:
    not_dir = tmp_path / "x.json"
    not_dir.write_text("{}")
    proc = subprocess.run(
        [sys.executable, "-m", "allocator.cli", "compare-batch", "--instances", str(not_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "is not a directory" in " ".join(proc.stderr.split())
