"""`allocator simulate`: default comparison table, one JSON document, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from allocator.commands.simulate import register

app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:
    """Keep `simulate` a sub-command, as in the real CLI."""


runner = CliRunner()


def test_no_arguments_compares_every_steal_policy() -> None:
    result = runner.invoke(app, ["simulate"])
    assert result.exit_code == 0, result.output
    for name in ("round-robin", "seed", "heaviest", "locality", "steal-half", "late-binding"):
        assert name in result.output


def test_json_is_one_document() -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            "--json",
            "--tasks",
            "300",
            "--agents",
            "6",
            "-p",
            "late-binding",
            "-p",
            "seed",
        ],
    )
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [r["policy"] for r in doc["results"]] == ["late-binding", "seed"]
    assert doc["results"][0]["lost"] == 0


def test_trace_input(tmp_path: Path) -> None:
    trace = tmp_path / "arrivals.jsonl"
    trace.write_text("\n".join(json.dumps({"at_s": i * 0.1, "work": 1.0}) for i in range(50)))
    result = runner.invoke(app, ["simulate", "--trace", str(trace), "--json", "-p", "heaviest"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"][0]["tasks"] == 50


def test_bad_input_exits_2_with_one_line() -> None:
    for args in (
        ["-p", "nope"],
        ["--tasks", "0"],
        ["--workload", "weird"],
        ["--trace", "/no/such.csv"],
    ):
        result = runner.invoke(app, ["simulate", *args])
        assert result.exit_code == 2, args
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.output
