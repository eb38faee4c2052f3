"""The `allocator` command line: solve, compare, convert, schema, export, and more.

Exit codes: 0 solved, 2 bad input (one readable line), 3 infeasible (with the
diagnosis), 4 no plan found within the time limit, 5 a plan, but the time limit was
missed: the command's start alone used it up (see `cli_options` for what the limit
covers), so only the greedy's first plan was computed (a re-plan: in the least time).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from allocator.cli_files import OutputFiles, prepare_outputs
from allocator.cli_options import (
    EXIT_LIMIT_MISSED,
    CommandClock,
    RunFlags,
    count_from_process_start,
    run_options,
    solve_budget,
)
from allocator.cli_output import print_report, report_json, write_outputs
from allocator.cli_progress import solve_with_progress
from allocator.commands import register_all
from allocator.problem_files import load_request
from allocator.reports.objective_sense import MINIMISE, ObjectiveSense, profit_sense
from models import InputError, Problem, RunOptions, gap_to_problem, read_gap_file
from solvers.registry import SOLVER_NAMES, UnknownSolverError

__all__ = ["app", "main"]

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4
# Reports of `compare` go here unless --out-dir or an explicit path says otherwise.
DEFAULT_OUT_DIR = Path("out")

app = typer.Typer(
    name="allocator",
    help="Decide which agent does which task, prove how good it is, and apply it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _note(line: str) -> None:
    """One plain line on stderr (no Rich: `solve --json` does not load it, see cli_rich)."""
    sys.stderr.write(line + "\n")


SolverOpt = Annotated[
    list[str] | None, typer.Option("--solver", "-s", help="Solver to run (repeatable).")
]
TimeOpt = Annotated[float | None, typer.Option("--time-limit", help="Wall-clock seconds.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="CPU cores to use (default: all this process may use)."),
]
DeterministicOpt = Annotated[
    bool, typer.Option("--deterministic", help="Same plan and statuses on every run (see docs).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Overwrite existing files (default: write name.1.ext, ...)."),
]
MaximiseOpt = Annotated[
    bool,
    typer.Option(
        "--maximise",
        help="OR-Library GAP file holds profits (gap1-gap12): maximise total profit.",
    ),
]


@dataclass
class _SolveOutput:
    """Set once `solve` or `compare` has printed and written everything."""

    done: bool = False


_solve_output = _SolveOutput()


@dataclass(frozen=True)
class _Run:
    """What the user asked for one problem file: the solve and where its results go."""

    problem_file: Path
    options: RunOptions
    problem: Problem
    outputs: OutputFiles
    sense: ObjectiveSense
    as_json: bool
    compare_all: bool
    limit_missed: bool = False


def _prepare(
    problem_file: Path,
    flags: RunFlags,
    wanted: dict[str, Path | None],
    *,
    force: bool,
    maximise: bool,
    as_json: bool,
    compare_all: bool,
) -> _Run:
    """Read the problem and check every output path; all of it before any solving.

    The solve's limit is what the command has left (`cli_options.solve_budget`)."""
    clock = CommandClock.now()
    loading = time.perf_counter()
    problem, base = load_request(problem_file, maximise=maximise)
    clock = CommandClock(clock.started, time.perf_counter() - loading)
    requested = run_options(base, *flags)
    for name in requested.solvers or []:
        if name not in SOLVER_NAMES:  # before a short budget swaps them for the greedy
            raise UnknownSolverError(name)
    outputs = prepare_outputs(wanted, force=force, together=("html", "json"))
    budget = solve_budget(requested, clock, len(problem.tasks) * len(problem.agents))
    _note(budget.line())
    sense = profit_sense() if maximise else MINIMISE
    return _Run(
        problem_file,
        budget.options,
        problem,
        outputs,
        sense,
        as_json,
        compare_all,
        budget.missed,
    )


def _execute(run: _Run) -> None:
    solving = time.perf_counter()
    result = solve_with_progress(
        run.problem, run.options, compare_all=run.compare_all, quiet=run.as_json, sense=run.sense
    )
    solved_s = time.perf_counter() - solving
    _note(f"solved in {solved_s:.2f} s of {run.options.time_limit_s:.2f} s")
    written = write_outputs(result, run.outputs, sense=run.sense)
    for line in run.outputs.renamed + written.fallbacks:
        _note(line)
    if run.as_json:
        sys.stdout.write(report_json(result, run.sense, indent=None) + "\n")
    else:
        print_report(result, written=written.paths, sense=run.sense)
    _solve_output.done = True
    if result.status == "infeasible":
        if run.as_json:
            _note(f"infeasible: {'; '.join(result.diagnosis) or 'proven by a solver'}")
        raise typer.Exit(EXIT_INFEASIBLE)
    if result.status == "no_solution":
        raise typer.Exit(EXIT_NO_SOLUTION)
    if run.limit_missed:
        _note("time limit missed: the command's start alone took longer")
        raise typer.Exit(EXIT_LIMIT_MISSED)


@app.command()
def solve(
    problem_file: Annotated[Path, typer.Argument(help="Problem JSON or OR-Library GAP file.")],
    solver: SolverOpt = None,
    time_limit: TimeOpt = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    deterministic: DeterministicOpt = False,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan JSON.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json-report", help="Write the JSON report.")
    ] = None,
    force: ForceOpt = False,
    maximise: MaximiseOpt = False,
    from_plan: Annotated[
        Path | None, typer.Option("--from-plan", help="Re-plan from this plan (solve --out).")
    ] = None,
    max_moves: Annotated[
        int | None, typer.Option("--max-moves", help="With --from-plan: moves of kept tasks.")
    ] = None,
    pin: Annotated[
        list[str] | None, typer.Option("--pin", help="With --from-plan: task that stays.")
    ] = None,
) -> None:
    """Solve a problem with the portfolio (solvers chosen by size unless named).

    With --from-plan, re-plan instead: keep the previous plan where it still fits,
    move at most --max-moves of its other tasks, and print the diff.
    """
    from allocator.commands.decisions import has_replan_fields, replan_command

    if from_plan is not None or has_replan_fields(problem_file):
        replan_command(problem_file, from_plan, max_moves, pin, time_limit, as_json, out)
        return
    wanted = {"plan": out, "html": report, "json": json_report}
    flags = (solver, time_limit, seed, workers, deterministic)
    run = _prepare(
        problem_file,
        flags,
        wanted,
        force=force,
        maximise=maximise,
        as_json=as_json,
        compare_all=False,
    )
    _execute(run)


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
    deterministic: DeterministicOpt = False,
    as_json: JsonOpt = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the chosen plan JSON (a batch: every instance's)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="HTML report path (default: OUT_DIR/<name>.report.html)."),
    ] = None,
    json_report: Annotated[
        Path | None,
        typer.Option("--json-report", help="JSON report path (default: beside the HTML one)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for reports not named by --report/...")
    ] = DEFAULT_OUT_DIR,
    force: ForceOpt = False,
    maximise: MaximiseOpt = False,
) -> None:
    """Run every solver side by side and write JSON and HTML comparison reports to ./out/.

    With --instances DIR, compare over every problem file in DIR instead, with
    per-solver aggregates and paired significance tests (same as compare-batch).
    Existing files are never overwritten unless --force: the next free number is used.
    """
    if (problem_file is None) == (instances is None):
        raise InputError("give either a PROBLEM file or --instances DIR (not both)")
    flags = (solver, time_limit, seed, workers, deterministic)
    if instances is not None:
        from allocator.commands.reports import BatchOutputs, compare_batch_run

        paths = BatchOutputs(out, report, json_report, out_dir, force)
        compare_batch_run(instances, flags, paths, as_json=as_json, maximise=maximise)
        return
    assert problem_file is not None
    html = report or out_dir / f"{problem_file.stem}.report.html"
    wanted = {"plan": out, "html": html, "json": json_report or html.with_suffix(".json")}
    run = _prepare(
        problem_file,
        flags,
        wanted,
        force=force,
        maximise=maximise,
        as_json=as_json,
        compare_all=True,
    )
    _execute(run)


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
        _note(f"wrote {target} ({inst.shape[0]} agents x {inst.shape[1]} tasks)")


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
    _note(f"wrote {out}")


register_all(app)


def _error_line(message: str) -> None:
    # Plain write, not Rich: one line must stay one line whatever the terminal width.
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")


def main() -> None:
    """Console entry point: typed errors become one line and exit code 2."""
    count_from_process_start()  # --time-limit covers this process from its start
    code = _run()
    if _solve_output.done:
        # Everything is printed and written, solver processes are joined: skip the
        # interpreter's teardown (0.1-0.3 s on the loaded 2-core machine, counted
        # against --time-limit). Other commands (serve, ...) exit normally.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # a reader that closed the pipe early
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _run() -> int:
    """Run the command; its exit code."""
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        return code if isinstance(code, int) else 0
    except InputError as exc:
        _error_line(str(exc))
        return EXIT_BAD_INPUT
    except (typer.Exit, SystemExit) as exc:
        code = exc.exit_code if isinstance(exc, typer.Exit) else exc.code
        return code if isinstance(code, int) else 0
    except typer.Abort:
        return 130
    except typer.TyperException as exc:  # usage errors: missing argument, bad option value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _error_line(str(exc))
        return EXIT_BAD_INPUT
    except Exception as exc:
        if exc.__class__.__name__ == "UnknownSolverError":
            _error_line(str(exc))
            return EXIT_BAD_INPUT
        raise


if __name__ == "__main__":
    main()
