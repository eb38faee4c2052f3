"""CLI: `allocator compare-batch --instances DIR`: every solver on every problem file, with tests.

Writes a self-contained HTML page and a JSON document (to ./out/ unless told otherwise,
never over an existing file without --force); `--json` also prints the JSON.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocator.cli_files import prepare_outputs, write_text_atomic
from allocator.cli_options import RunFlags, run_options
from allocator.cli_rich import new_console, new_table
from allocator.reports.svg_axes import fmt_number
from models import InputError, RunOptions

if TYPE_CHECKING:
    from rich.console import Console

    from allocator.reports.batch import BatchReport
    from models.report import ComparisonReport

__all__ = ["BatchOutputs", "compare_batch", "compare_batch_run", "register"]


def _print_summary(batch: BatchReport, console: Console) -> None:
    table = new_table(title=f"{batch.name}: {len(batch.instances)} instances")
    cols = ("solver", "solved", "mean gap", "median gap", "reached", "sgm to target s", "w/t/l")
    for col in cols:
        table.add_column(col, justify="left" if col == "solver" else "right")
    for a in batch.aggregates:
        table.add_row(
            a.solver,
            f"{a.n_solved}/{a.n_instances}",
            "-" if a.mean_rel_gap is None else f"{100 * a.mean_rel_gap:.3f}%",
            "-" if a.median_rel_gap is None else f"{100 * a.median_rel_gap:.3f}%",
            f"{a.n_reached_target}/{a.n_instances}",
            fmt_number(a.sgm_time_to_target_s),
            f"{a.wins}/{a.ties}/{a.losses}",
        )
    console.print(table)
    console.print(
        f"reached / to target: plan within {100 * batch.target_tolerance:g} % of the best on the "
        "instance, seconds from the request's start; never reached counts as "
        f"{fmt_number(batch.unreached_time_s)} s (2 x limit)",
        highlight=False,
    )
    for t in batch.tests:
        if "better" in t.verdict:
            console.print(
                f"{t.metric}: {t.verdict} ({t.solver_a} vs {t.solver_b}, "
                f"Holm p={fmt_number(t.p_holm)}, r={fmt_number(t.effect_size, 2)})"
            )


@dataclass(frozen=True)
class BatchOutputs:
    """Output flags of a batch: explicit paths, the folder for the rest, and --force."""

    plans: Path | None
    report: Path | None
    json_report: Path | None
    out_dir: Path
    force: bool

    def wanted(self, instances: Path) -> dict[str, Path | None]:
        html = self.report or self.out_dir / f"{instances.name}.batch.html"
        return {
            "plan": self.plans,
            "html": html,
            "json": self.json_report or html.with_suffix(".json"),
        }


def compare_batch_run(
    instances: Path,
    flags: RunFlags,
    outputs: BatchOutputs,
    *,
    as_json: bool,
    maximise: bool,
    dask: str | None = None,
) -> None:
    """The batch behind `compare --instances` and `compare-batch`: paths checked first."""
    options = run_options(None, *flags)
    if not instances.is_dir():
        raise InputError(
            "is not a directory; give the folder holding problem files", source=str(instances)
        )
    files = prepare_outputs(
        outputs.wanted(instances), force=outputs.force, together=("html", "json")
    )
    err = new_console(stderr=True)
    for line in files.renamed:
        err.print(line, highlight=False)
    plans: dict[str, object] = {}
    batch = _run(instances, options, dask, as_json=as_json, maximise=maximise, plans=plans)
    if not batch.instances:
        raise InputError("holds no problem files (JSON or GAP)", source=str(instances))
    from allocator.reports.batch_html import render_batch_html

    written = []
    for role, text in (
        ("html", render_batch_html(batch)),
        ("json", batch.model_dump_json(indent=1)),
        ("plan", json.dumps(plans, indent=1)),
    ):
        path = files.get(role)
        if path is not None:
            write_text_atomic(path, text)
            written.append(str(path))
    if as_json:
        sys.stdout.write(batch.model_dump_json() + "\n")
        return
    _print_summary(batch, new_console())
    err.print(f"wrote {', '.join(written)}", highlight=False)


def _run(
    instances: Path,
    options: RunOptions,
    dask: str | None,
    *,
    as_json: bool,
    maximise: bool,
    plans: dict[str, object],
) -> BatchReport:
    """Run the batch locally or on Dask; `plans` collects each instance's chosen plan."""
    err = new_console(stderr=True)

    def progress(name: str, index: int, total: int) -> None:
        if not as_json:
            err.print(f"[{index + 1}/{total}] {name}", highlight=False)

    def keep_plan(name: str, report: ComparisonReport) -> None:
        if report.chosen is not None:
            plans[name] = report.chosen.plan.model_dump(mode="json")

    # scipy.stats and the solvers load only when a batch actually runs.
    from allocator.reports.batch import run_batch

    if not dask:
        return run_batch(
            instances, options, on_instance=progress, on_report=keep_plan, maximise=maximise
        )
    from allocator.executors import executor_from_env
    from allocator.executors.batch import run_batch_on

    executor = executor_from_env(dask)
    try:
        return run_batch_on(
            executor,
            instances,
            options,
            on_instance=progress,
            on_report=keep_plan,
            maximise=maximise,
        )
    finally:
        executor.close()


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
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write every instance's chosen plan (one JSON object)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="HTML report path (default: OUT_DIR/DIR.batch.html)."),
    ] = None,
    json_report: Annotated[
        Path | None,
        typer.Option("--json-report", help="JSON report path (default: beside the HTML one)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for reports not named by --report/...")
    ] = Path("out"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing files (default: name.1.ext).")
    ] = False,
    maximise: Annotated[
        bool, typer.Option("--maximise", help="GAP files hold profits (gap1-gap12).")
    ] = False,
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
    outputs = BatchOutputs(out, report, json_report, out_dir, force)
    flags = (solver, time_limit, seed, workers, False)
    compare_batch_run(instances, flags, outputs, as_json=as_json, maximise=maximise, dask=dask)


def register(app: typer.Typer) -> None:
    """Add `compare-batch` to the main CLI."""
    app.command("compare-batch")(compare_batch)
