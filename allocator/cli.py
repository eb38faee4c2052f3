"""The `allocator` command line: solve, compare, convert, schema, export, and more.

Exit codes: 0 solved, 2 bad input (one readable line), 3 infeasible (with the
diagnosis), 4 no plan found within the time limit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from allocator.cli_options import run_options
from allocator.cli_output import print_report, write_outputs
from allocator.cli_progress import solve_with_progress
from allocator.commands import register_all
from allocator.problem_files import load_request
from models import InputError, Problem, gap_to_problem, read_gap_file

__all__ = ["app", "main"]

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4

app = typer.Typer(
    name="allocator",
    help="Decide which agent does which task, prove how good it is, and apply it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

SolverOpt = Annotated[
    list[str] | None, typer.Option("--solver", "-s", help="Solver to run (repeatable).")
]
TimeOpt = Annotated[float | None, typer.Option("--time-limit", help="Wall-clock seconds.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="CPU cores to use.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _run(
    problem_file: Path,
    solvers: list[str] | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    as_json: bool,
    out: Path | None,
    report: Path | None,
    json_report: Path | None,
    compare_all: bool,
) -> None:
    problem, base = load_request(problem_file)
    options = run_options(base, solvers, time_limit, seed, workers)
    result = solve_with_progress(problem, options, compare_all=compare_all, quiet=as_json)
    write_outputs(problem, result, plan_path=out, html_path=report, json_path=json_report)
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
    else:
        print_report(result, written=[p for p in (out, report, json_report) if p])
    if result.status == "infeasible":
        if as_json:
            err.print(f"infeasible: {'; '.join(result.diagnosis) or 'proven by a solver'}")
        raise typer.Exit(EXIT_INFEASIBLE)
    if result.status == "no_solution":
        raise typer.Exit(EXIT_NO_SOLUTION)


@app.command()
def solve(
    problem_file: Annotated[Path, typer.Argument(help="Problem JSON or OR-Library GAP file.")],
    solver: SolverOpt = None,
    time_limit: TimeOpt = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan JSON.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json-report", help="Write the JSON report.")
    ] = None,
) -> None:
    """Solve a problem with the portfolio (solvers chosen by size unless named)."""
    _run(problem_file, solver, time_limit, seed, workers, as_json, out, report, json_report, False)


@app.command()
def compare(
    problem_file: Annotated[
        Path | None, typer.Argument(help="Problem JSON or OR-Library GAP file.")
    ] = None,
    instances: Annotated[
        Path | None,
        typer.Option("--instances", help="Folder of problem files: a batch comparison."),
    ] = None,
    solver: SolverOpt = None,
    time_limit: TimeOpt = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan JSON.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="HTML report path (default: next to input).")
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json-report", help="JSON report path (default: next to it).")
    ] = None,
) -> None:
    """Run every solver side by side and write JSON and HTML comparison reports.

    With --instances DIR, compare over every problem file in DIR instead, with
    per-solver aggregates and paired significance tests (same as compare-batch).
    """
    if (problem_file is None) == (instances is None):
        raise InputError("give either a PROBLEM file or --instances DIR (not both)")
    if instances is not None:
        from allocator.commands.reports import compare_batch

        compare_batch(instances, solver, time_limit, seed, workers, report, as_json, dask=None)
        return
    assert problem_file is not None
    stem = problem_file.with_suffix("")
    report = report or Path(f"{stem}.report.html")
    json_report = json_report or Path(f"{stem}.report.json")
    _run(problem_file, solver, time_limit, seed, workers, as_json, out, report, json_report, True)


@app.command()
def convert(
    gap_file: Annotated[Path, typer.Argument(help="OR-Library GAP file (one or more problems).")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write JSON files.")] = Path(
        "."
    ),
    maximise: Annotated[
        bool, typer.Option("--maximise", help="Treat values as profits (gap1-gap12 convention).")
    ] = False,
) -> None:
    """Convert an OR-Library GAP file into our JSON, one file per instance."""
    instances = read_gap_file(gap_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    for inst in instances:
        problem = gap_to_problem(inst, maximise=maximise)
        target = out_dir / f"{problem.name}.json"
        target.write_text(problem.model_dump_json(exclude_defaults=True, indent=1))
        err.print(f"wrote {target} ({inst.shape[0]} agents x {inst.shape[1]} tasks)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of a problem document."""
    sys.stdout.write(json.dumps(Problem.model_json_schema(), indent=2) + "\n")


@app.command()
def export(
    problem_file: Annotated[Path, typer.Argument(help="Problem JSON or OR-Library GAP file.")],
    out: Annotated[Path, typer.Option("--out", help="Model file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="lp or mps.")] = "lp",
) -> None:
    """Write the MILP model as LP or MPS so another solver can take it."""
    from allocator.model_export import export_problem

    if fmt not in ("lp", "mps"):
        raise InputError(f"--format is {fmt!r}; use lp or mps")
    problem, _ = load_request(problem_file)
    export_problem(problem, out, fmt)
    err.print(f"wrote {out}")


register_all(app)


def _error_line(message: str) -> None:
    # Plain write, not Rich: one line must stay one line whatever the terminal width.
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")


def main() -> None:
    """Console entry point: typed errors become one line and exit code 2."""
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except InputError as exc:
        _error_line(str(exc))
        sys.exit(EXIT_BAD_INPUT)
    except (typer.Exit, SystemExit) as exc:
        code = exc.exit_code if isinstance(exc, typer.Exit) else exc.code
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: missing argument, bad option value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _error_line(str(exc))
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:
        if exc.__class__.__name__ == "UnknownSolverError":
            _error_line(str(exc))
            sys.exit(EXIT_BAD_INPUT)
        raise


if __name__ == "__main__":
    main()
