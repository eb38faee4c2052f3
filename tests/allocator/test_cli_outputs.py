"""Where `compare` writes: ./out/ by default, checked before solving, never overwritten silently."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from allocator.cli_files import numbered, prepare_outputs
from allocator.cli_output import write_outputs
from models import InputError
from models.generators.instances import generate_attribute_problem
from tests.synthetic_report import synthetic_report

ROOT = Path(__file__).resolve().parents[2]

_GAP = "2 3\n1 2 3\n3 2 1\n1 1 1\n1 1 1\n3 3\n"


# Limits here are 3 s, not 1 s: `--time-limit` counts from the process start, and on a
# loaded machine the start alone can use 1 s (the command then exits 5).
def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allocator.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def _problem(folder: Path, name: str = "p.json") -> Path:
    path = folder / name
    problem = generate_attribute_problem(12, 3, seed=1)
    path.write_text(problem.model_dump_json(exclude_defaults=True))
    return path


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_compare_writes_to_out_by_default_then_numbers_then_forces(tmp_path: Path) -> None:
    problem = _problem(tmp_path)
    args = ("compare", str(problem), "--time-limit", "3", "--solver", "greedy")
    first = _cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["p.report.html", "p.report.json"]
    original = (out / "p.report.json").read_text()

    second = _cli(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (out / "p.report.1.html").exists() and (out / "p.report.1.json").exists()
    assert (out / "p.report.json").read_text() == original  # untouched
    assert "p.report.html exists; writing" in " ".join(second.stderr.split())

    forced = _cli(*args, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert not (out / "p.report.2.html").exists()
    assert json.loads((out / "p.report.json").read_text())["status"] == "solved"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_out_dir_and_explicit_paths(tmp_path: Path) -> None:
    problem = _problem(tmp_path)
    proc = _cli(
        "compare",
        str(problem),
        "--time-limit",
        "3",
        "--solver",
        "greedy",
        "--out-dir",
        str(tmp_path / "deep" / "reports"),
        "--json-report",
        str(tmp_path / "named.json"),
        "--out",
        str(tmp_path / "plan.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "deep" / "reports" / "p.report.html").exists()
    assert json.loads((tmp_path / "named.json").read_text())["status"] == "solved"
    assert json.loads((tmp_path / "plan.json").read_text())["assignments"]
    assert not (tmp_path / "out").exists()


def test_unwritable_out_dir_fails_before_solving(tmp_path: Path) -> None:
    problem = _problem(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    # A 60 s solve budget and a 30 s subprocess timeout: returning at all shows the check
    # came before the solve (root ignores permission bits, so a file blocks the folder).
    proc = _cli(
        "compare",
        str(problem),
        "--time-limit",
        "60",
        "--out-dir",
        str(blocker / "reports"),
        cwd=tmp_path,
        timeout=30,
    )
    line = _one_error_line(proc)
    assert str(blocker) in line and "choose another --out-dir" in line
    with pytest.raises(InputError, match="is a file, not a directory"):
        prepare_outputs({"html": blocker / "r.html"}, force=False)
    with pytest.raises(InputError, match="is a directory"):
        prepare_outputs({"json": tmp_path}, force=True)


def test_numbering_keeps_the_html_and_json_of_one_run_together(tmp_path: Path) -> None:
    html, js = tmp_path / "m.report.html", tmp_path / "m.report.json"
    js.write_text("{}")
    (tmp_path / "m.report.1.html").write_text("")
    files = prepare_outputs({"html": html, "json": js}, force=False, together=("html", "json"))
    assert files.paths == {"html": numbered(html, 2), "json": numbered(js, 2)}
    assert numbered(html, 2).name == "m.report.2.html"
    assert len(files.renamed) == 2
    assert prepare_outputs({"html": html}, force=True).paths == {"html": html}


def test_compare_instances_honours_every_output_flag(tmp_path: Path) -> None:
    folder = tmp_path / "instances"
    folder.mkdir()
    (folder / "g1.txt").write_text(_GAP)
    (folder / "g2.txt").write_text(_GAP.replace("1 2 3", "2 2 2"))
    proc = _cli(
        "compare",
        "--instances",
        str(folder),
        "--time-limit",
        "1",
        "--solver",
        "greedy",
        "--out-dir",
        str(tmp_path / "reports"),
        "--json-report",
        str(tmp_path / "batch.json"),
        "--out",
        str(tmp_path / "plans.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reports" / "instances.batch.html").exists()
    batch = json.loads((tmp_path / "batch.json").read_text())
    assert [i["instance"] for i in batch["instances"]] == ["g1", "g2"]
    plans = json.loads((tmp_path / "plans.json").read_text())
    assert sorted(plans) == ["g1", "g2"]
    assert all(len(plan["assignments"]) == 3 for plan in plans.values())
    again = _cli(
        "compare",
        "--instances",
        str(folder),
        "--time-limit",
        "1",
        "-s",
        "greedy",
        "--out-dir",
        str(tmp_path / "reports"),
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "reports" / "instances.batch.1.html").exists()


def test_summary_shows_objectives_that_are_exactly_zero(tmp_path: Path) -> None:
    problem = tmp_path / "z.json"
    problem.write_text(json.dumps({"agents": [{"id": "a"}], "tasks": [{"id": "t1"}]}))
    report = tmp_path / "z.report.json"
    proc = _cli(
        "solve",
        str(problem),
        "--time-limit",
        "3",
        "-s",
        "greedy",
        "--json-report",
        str(report),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    objectives = json.loads(report.read_text())["chosen"]["objectives"]
    zeros = [name for name, value in objectives.items() if value == 0]
    assert zeros, objectives  # one agent, one task: no tardiness, no migrations, ...
    line = next(x for x in proc.stdout.splitlines() if x.startswith("objectives:"))
    for name in zeros:
        assert f"{name}=0" in line


def test_a_write_that_fails_after_the_solve_keeps_the_result_elsewhere(tmp_path: Path) -> None:
    report = synthetic_report(30, 3, seed=2)
    folder = tmp_path / "reports"
    files = prepare_outputs({"json": folder / "r.json"}, force=False)
    shutil.rmtree(folder)
    folder.write_text("the folder was replaced by a file during the solve")
    written = write_outputs(report, files)
    assert len(written.paths) == 1 and written.paths[0] != folder / "r.json"
    assert json.loads(written.paths[0].read_text())["status"] == "solved"
    assert (
        "could not write" in written.fallbacks[0] and str(written.paths[0]) in written.fallbacks[0]
    )
    shutil.rmtree(written.paths[0].parent)
