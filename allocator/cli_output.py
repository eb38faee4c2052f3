"""Rich tables for people and files (plan, JSON report, HTML report) for tools."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from allocator.reports.html_report import render_report_html
from models import Problem
from models.report import ComparisonReport

__all__ = ["print_report", "write_outputs"]


def _fmt(value: float | None, digits: int = 6) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.3f}%"


def print_report(report: ComparisonReport, written: list[Path] | None = None) -> None:
    """The comparison as a table, then the chosen plan and why."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # pipes and CI logs: do not squeeze the table to 80
    p = report.problem
    console.print(
        f"[bold]{p.name}[/bold]: {p.n_tasks} tasks x {p.n_agents} agents, "
        f"{p.n_resources} resource(s), mode {p.mode} over {', '.join(p.objectives)}; "
        f"limit {report.settings.time_limit_s:g} s, seed {report.settings.seed}"
    )
    table = Table(title="Solvers compared (every plan re-checked by the evaluator)")
    for col in ("solver", "status", "stopped", "objective", "bound", "gap", "verified"):
        table.add_column(col, justify="right" if col in ("objective", "bound", "gap") else "left")
    table.add_column("first s", justify="right")
    table.add_column("best s", justify="right")
    table.add_column("wall s", justify="right")
    table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=48)
    chosen = report.chosen.solver if report.chosen else None
    for run in report.solvers:
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
            _fmt(run.time_to_first_s, 3),
            _fmt(run.time_to_best_s, 3),
            _fmt(run.wall_time_s, 3),
            note,
        )
    console.print(table)
    if report.chosen is not None:
        c = report.chosen
        console.print(
            f"chosen: [bold]{c.solver}[/bold] ({c.reason}); best bound "
            f"{_fmt(report.best_bound)}; Jain's fairness {c.jain_fairness:.3f}; "
            f"{len(c.plan.unassigned)} unassigned"
        )
        objs = ", ".join(f"{k}={_fmt(v)}" for k, v in c.objectives.items() if v)
        console.print(f"objectives: {objs}")
    if report.pareto_front:
        console.print(f"Pareto front: {len(report.pareto_front)} plans (knee marked in report)")
    if report.status != "solved":
        console.print(f"[bold red]{report.status}[/bold red]")
        for line in report.diagnosis:
            console.print(f"  - {line}")
    for path in written or []:
        console.print(f"wrote {path}")


def write_outputs(
    problem: Problem,
    report: ComparisonReport,
    *,
    plan_path: Path | None = None,
    html_path: Path | None = None,
    json_path: Path | None = None,
) -> None:
    if plan_path is not None and report.chosen is not None:
        plan_path.write_text(json.dumps(report.chosen.plan.model_dump(), indent=1))
    if json_path is not None:
        json_path.write_text(report.model_dump_json(indent=1))
    if html_path is not None:
        html_path.write_text(render_report_html(report))
