"""Rich tables for people and files (plan, JSON report, HTML report) for tools."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from allocator.cli_files import OutputFiles, write_text_atomic
from allocator.cli_rich import new_console, new_table
from allocator.reports.objective_sense import (
    MINIMISE,
    ObjectiveSense,
    in_user_sense,
    sense_document,
)
from models.report import ComparisonReport, SolverRun

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["WrittenFiles", "print_report", "report_json", "write_outputs"]


def _fmt(value: float | None, digits: int = 6) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def _recorded_start(run: SolverRun) -> float | None:
    from allocator.reports.html_report import recorded_start  # lazily: see write_outputs

    return recorded_start(run)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.3f}%"


def print_report(
    report: ComparisonReport,
    written: list[Path] | None = None,
    sense: ObjectiveSense = MINIMISE,
) -> None:
    """The comparison as a table, then the chosen plan and why (figures in the user's sense)."""
    console = new_console()
    if not console.is_terminal:
        console = new_console(width=160)  # pipes and CI logs: do not squeeze the table to 80
    shown = in_user_sense(report, sense)
    p = report.problem
    console.print(
        f"[bold]{p.name}[/bold]: {p.n_tasks} tasks x {p.n_agents} agents, "
        f"{p.n_resources} resource(s), mode {p.mode} over {', '.join(p.objectives)}; "
        f"limit {report.settings.time_limit_s:g} s, seed {report.settings.seed}"
    )
    if sense.maximise:
        console.print(f"{sense.name}: {sense.meaning}", highlight=False)
    console.print(_solver_table(shown, sense))
    if shown.chosen is not None:
        c = shown.chosen
        # The reason names the minimised score; a profit is said in its own words.
        value = f"{sense.name} {_fmt(c.objective)}; " if sense.maximise else ""
        console.print(
            f"chosen: [bold]{c.solver}[/bold] ({c.reason}); {value}"
            f"best {sense.bound_name} {_fmt(shown.best_bound)}; "
            f"Jain's fairness {c.jain_fairness:.3f}; {len(c.plan.unassigned)} unassigned"
        )
        # Every value, zeros included: a zero is an answer, not a missing figure.
        objs = ", ".join(f"{k}={_fmt(v)}" for k, v in c.objectives.items())
        console.print(f"objectives: {objs}")
        if c.links:  # the plan's communication on the topology (issue 15)
            top = c.links[0]
            console.print(
                f"links: {len(c.links)} carry traffic; busiest {top.a}-{top.b} at "
                f"{top.utilisation:.0%} of its bandwidth",
                highlight=False,
            )
    if report.pareto_front:
        console.print(f"Pareto front: {len(report.pareto_front)} plans (knee marked in report)")
    if report.status != "solved":
        console.print(f"[bold red]{report.status}[/bold red]")
        for line in report.diagnosis:
            console.print(f"  - {line}")
    for path in written or []:
        console.print(f"wrote {path}", highlight=False)


def _solver_table(shown: ComparisonReport, sense: ObjectiveSense) -> Table:
    table = new_table(
        title="Solvers compared (every plan re-checked by the evaluator)",
        caption="start, first, best: seconds from the request's start; wall: run time from start",
    )
    numeric = {sense.name, sense.bound_name, "gap"}
    for col in ("solver", "status", "stopped", sense.name, sense.bound_name, "gap", "verified"):
        table.add_column(col, justify="right" if col in numeric else "left")
    table.add_column("start s", justify="right")
    table.add_column("first s", justify="right")
    table.add_column("best s", justify="right")
    table.add_column("wall s", justify="right")
    table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=48)
    chosen = shown.chosen.solver if shown.chosen else None
    for run in shown.solvers:
        name = f"[bold green]{run.name} *[/bold green]" if run.name == chosen else run.name
        note = run.error or (run.notes[0] if run.notes else "")
        verified = "yes" if run.verified else ("INVALID" if run.objective is not None else "-")
        table.add_row(
            name,
            run.status,
            run.stop_reason,
            _fmt(run.objective),
            _fmt(run.bound),
            _pct(run.gap),
            verified,
            _fmt(_recorded_start(run), 3),
            _fmt(run.time_to_first_s, 3),
            _fmt(run.time_to_best_s, 3),
            _fmt(run.wall_time_s, 3),
            note,
        )
    return table


@dataclass
class WrittenFiles:
    """Files written, and a line per file that had to go elsewhere."""

    paths: list[Path] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)


def report_json(report: ComparisonReport, sense: ObjectiveSense, indent: int | None = 1) -> str:
    """The JSON report; a profit report carries an `objective_sense` block saying what is what."""
    if not sense.maximise:
        return report.model_dump_json(indent=indent)
    document = report.model_dump(mode="json")
    document["objective_sense"] = sense_document(report, sense)
    return json.dumps(document, indent=indent)


def _write(path: Path, text: str, written: WrittenFiles) -> None:
    """Write `path`; if that fails after the solve, keep the result in a fresh temp folder."""
    try:
        write_text_atomic(path, text)
        written.paths.append(path)
    except OSError as exc:
        # The paths were checked before solving; this is a late failure (disk full, a
        # folder removed meanwhile). The solve is not thrown away for it.
        rescue = Path(tempfile.mkdtemp(prefix="allocator-")) / path.name
        rescue.write_text(text, encoding="utf-8")
        written.paths.append(rescue)
        written.fallbacks.append(
            f"could not write {path} ({exc.strerror or exc}); wrote {rescue} instead"
        )


def write_outputs(
    report: ComparisonReport,
    outputs: OutputFiles,
    sense: ObjectiveSense = MINIMISE,
) -> WrittenFiles:
    """Write the plan, JSON report and HTML report the user asked for (paths already checked)."""
    written = WrittenFiles()
    plan_path, json_path, html_path = outputs.get("plan"), outputs.get("json"), outputs.get("html")
    if plan_path is not None and report.chosen is not None:
        _write(plan_path, json.dumps(report.chosen.plan.model_dump(), indent=1), written)
    if json_path is not None:
        _write(json_path, report_json(report, sense), written)
    if html_path is not None:
        # Jinja2 and the charts load only when an HTML report is asked for: a solve's
        # process start counts against its time limit.
        from allocator.reports.html_report import render_report_html

        _write(html_path, render_report_html(report, sense=sense), written)
    return written
