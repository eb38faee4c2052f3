"""Solve with a Rich progress bar that shows the best objective and bound so far
(Rich is imported only for the bar: `--json` runs quiet)."""

from __future__ import annotations

from allocator.facade import ProgressEvent, compare, solve
from allocator.reports.objective_sense import MINIMISE, ObjectiveSense
from models import Problem, RunOptions
from models.report import ComparisonReport

__all__ = ["solve_with_progress"]


def solve_with_progress(
    problem: Problem,
    options: RunOptions,
    *,
    compare_all: bool,
    quiet: bool,
    sense: ObjectiveSense = MINIMISE,
) -> ComparisonReport:
    """Run the portfolio; unless quiet, a bar shows the best value and bound in the user's sense."""
    run = compare if compare_all else solve
    if quiet:
        return run(problem, options)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    best: dict[str, float | None] = {"objective": None, "bound": None}
    with Progress(
        TextColumn("[bold]solving[/bold] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        bar = progress.add_task("", total=options.time_limit_s)

        def on_progress(event: ProgressEvent) -> None:
            if event.objective is not None and event.kind == "incumbent":
                cur = best["objective"]
                if cur is None or event.objective < cur:
                    best["objective"] = event.objective
            if event.bound is not None:
                cur = best["bound"]
                if cur is None or event.bound > cur:
                    best["bound"] = event.bound
            obj, bnd = sense.shown(best["objective"]), sense.shown(best["bound"])
            text = problem.name
            if obj is not None:
                text += f": best {sense.name} {obj:.6g}"
            if bnd is not None:
                text += f", {sense.bound_name} {bnd:.6g}"
            progress.update(bar, completed=min(event.elapsed_s, options.time_limit_s))
            progress.update(bar, description=f"{text} ({event.solver} {event.kind})")

        return run(problem, options, on_progress=on_progress)
