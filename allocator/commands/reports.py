"""CLI: `allocator compare-batch --instances DIR`: every solver on every problem file, with tests.

Writes a self-contained HTML page and a JSON document; `--json` also prints the JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from allocator.cli_options import run_options
from allocator.reports.svg_axes import fmt_number
from models import InputError

if TYPE_CHECKING:
    from allocator.reports.batch import BatchReport

__all__ = ["register"]


def _print_summary(batch: BatchReport, console: Console) -> None:
    table = Table(title=f"{batch.name}: {len(batch.instances)} instances")
    for col in ("solver", "solved", "mean gap", "median gap", "sgm time s", "win/tie/loss"):
        table.add_column(col, justify="left" if col == "solver" else "right")
    for a in batch.aggregates:
        table.add_row(
            a.solver,
            f"{a.n_solved}/{a.n_instances}",
            "-" if a.mean_rel_gap is None else f"{100 * a.mean_rel_gap:.3f}%",
            "-" if a.median_rel_gap is None else f"{100 * a.median_rel_gap:.3f}%",
            fmt_number(a.sgm_time_s),
            f"{a.wins}/{a.ties}/{a.losses}",
        )
    console.print(table)
    for t in batch.tests:
        if "better" in t.verdict:
            console.print(
                f"{t.metric}: {t.verdict} ({t.solver_a} vs {t.solver_b}, "
                f"Holm p={fmt_number(t.p_holm)}, r={fmt_number(t.effect_size, 2)})"
            )


def compare_batch(
    instances: Annotated[
        Path, typer.Option("--instances", help="Folder of problem files (JSON or OR-Library GAP).")
    ],
    solver: Annotated[
        list[str] | None, typer.Option("--solver", "-s", help="Solver to run (repeatable).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Wall-clock seconds per instance.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="CPU cores to use.")] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="HTML report path (default: DIR.batch.html beside DIR)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the batch JSON document on stdout.")
    ] = False,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            envvar="ALLOCATOR_DASK_ADDRESS",
            help="Dask scheduler address (tcp://host:8786): fan the instances out over it.",
        ),
    ] = None,
) -> None:
    """Compare solvers over every problem file in a folder, with paired significance tests."""
    options = run_options(None, solver, time_limit, seed, workers)
    err = Console(stderr=True)
    html_path = report or instances.parent / f"{instances.name}.batch.html"
    json_path = html_path.with_suffix(".json")

    def progress(name: str, index: int, total: int) -> None:
        if not as_json:
            err.print(f"[{index + 1}/{total}] {name}", highlight=False)

    # scipy.stats and the solvers load only when a batch actually runs.
    from allocator.reports.batch import run_batch
    from allocator.reports.batch_html import render_batch_html

    if dask:
        from allocator.executors import executor_from_env
        from allocator.executors.batch import run_batch_on

        executor = executor_from_env(dask)
        try:
            batch = run_batch_on(executor, instances, options, on_instance=progress)
        finally:
            executor.close()
    else:
        batch = run_batch(instances, options, on_instance=progress)
    if not batch.instances:
        raise InputError("holds no problem files (JSON or GAP)", source=str(instances))
    html_path.write_text(render_batch_html(batch), encoding="utf-8")
    json_path.write_text(batch.model_dump_json(indent=1), encoding="utf-8")
    if as_json:
        sys.stdout.write(batch.model_dump_json() + "\n")
        return
    _print_summary(batch, Console())
    err.print(f"wrote {html_path} and {json_path}")


def register(app: typer.Typer) -> None:
    """Add `compare-batch` to the main CLI."""
    app.command("compare-batch")(compare_batch)
