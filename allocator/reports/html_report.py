"""The comparison report as one self-contained HTML page: tables plus inline SVG charts.

No CDN and no fetch: styles, charts and the report's JSON are all inside the file.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from markupsafe import Markup

from allocator.reports.svg_axes import PALETTE, fmt_number
from allocator.reports.svg_charts import (
    HLine,
    Series,
    downsample,
    parallel_coordinates,
    scatter_chart,
    step_chart,
)
from allocator.reports.svg_load import load_bars
from allocator.reports.templating import template_env
from models.report import AgentLoad, ComparisonReport

__all__ = [
    "MAX_AGENT_ROWS",
    "MAX_TRACE_POINTS",
    "MAX_UNASSIGNED_ROWS",
    "render_report_html",
    "solver_colours",
]

# Caps keep a 2,000-task, many-agent report well under 3 MB and quick to paint.
MAX_TRACE_POINTS = 150
MAX_AGENT_ROWS = 120
MAX_UNASSIGNED_ROWS = 200
MAX_FRONT_ROWS = 60


@dataclass
class _ReasonGroup:
    reason: str
    count: int
    examples: list[str]


def solver_colours(report: ComparisonReport) -> dict[str, str]:
    """One stable colour per solver, in the order the request named them."""
    names = list(dict.fromkeys([*report.settings.solvers, *(r.name for r in report.solvers)]))
    names += [p.solver for p in report.pareto_front if p.solver not in names]
    return {name: PALETTE[k % len(PALETTE)] for k, name in enumerate(dict.fromkeys(names))}


def _objective_label(report: ComparisonReport) -> str:
    mode = report.problem.mode
    if mode == "lexicographic" and report.problem.objectives:
        return f"objective ({report.problem.objectives[0]}, lower is better)"
    return "objective (weighted score, lower is better)"


def _trace_chart(report: ComparisonReport, colours: dict[str, str]) -> str:
    series = []
    for run in report.solvers:
        points = list(run.trace)
        if not points and run.objective is not None:
            points = [(run.time_to_best_s or run.wall_time_s, run.objective)]
        if not points:
            continue
        series.append(
            Series(
                run.name, colours[run.name], downsample(points, MAX_TRACE_POINTS), run.wall_time_s
            )
        )
    if not series:
        return ""
    hlines = [HLine(report.best_bound, "best bound")] if report.best_bound is not None else []
    return step_chart(
        series, chart="trace", x_label="seconds", y_label=_objective_label(report), hlines=hlines
    )


def _pareto_chart(report: ComparisonReport, colours: dict[str, str]) -> str:
    front = report.pareto_front
    if not front:
        return ""
    axes = list(front[0].objectives)
    knee = next((p for p in front if p.knee), None)
    if len(axes) == 2:
        by_solver: dict[str, Series] = {}
        for p in front:
            s = by_solver.setdefault(p.solver, Series(p.solver, colours[p.solver], []))
            s.points.append((p.objectives[axes[0]], p.objectives[axes[1]]))
        pts = [(p.objectives[axes[0]], p.objectives[axes[1]]) for p in front]
        return scatter_chart(
            list(by_solver.values()),
            chart="pareto",
            x_label=axes[0],
            y_label=axes[1],
            front_line=pts,
            highlight=(knee.objectives[axes[0]], knee.objectives[axes[1]]) if knee else None,
            highlight_label="knee (chosen)",
        )
    lines = [(p.solver, colours[p.solver], [p.objectives[a] for a in axes], p.knee) for p in front]
    return parallel_coordinates(axes, lines, chart="pareto-parallel")


def _agent_rows(agents: list[AgentLoad]) -> tuple[list[AgentLoad], str]:
    if len(agents) <= MAX_AGENT_ROWS:
        return agents, ""
    busiest = sorted(agents, key=lambda a: a.utilisation, reverse=True)[:MAX_AGENT_ROWS]
    note = (
        f"Showing the {MAX_AGENT_ROWS} most utilised of {len(agents)} agents; "
        "the JSON report holds them all."
    )
    return busiest, note


def _reason_groups(reasons: dict[str, str]) -> list[_ReasonGroup]:
    counts = Counter(reasons.values())
    groups = []
    for reason, count in counts.most_common():
        examples = [t for t, r in reasons.items() if r == reason][:8]
        groups.append(_ReasonGroup(reason, count, examples))
    return groups


def _embedded_json(report: ComparisonReport) -> Markup:
    """The report's JSON, minus per-point front plans (they would dominate the file size)."""
    data = report.model_dump(mode="json", exclude={"pareto_front": {"__all__": {"plan"}}})
    text = json.dumps(data, separators=(",", ":"))
    # "</script" or "<!--" inside a <script> block would confuse the HTML parser;
    # \u003c is the same character to JSON.parse.
    return Markup(text.replace("<", "\\u003c"))


def render_report_html(report: ComparisonReport) -> str:
    """Render the whole comparison as one offline HTML page.

    Cost: linear in solvers x trace points + agents + unassigned tasks, each capped,
    so a 2,000-task, 4-solver report stays a few hundred kilobytes.
    """
    colours = solver_colours(report)
    chosen = report.chosen
    agents, agent_note = _agent_rows(chosen.agents) if chosen else ([], "")
    resources = list(report.problem.resources)
    objective_names = list(
        dict.fromkeys(k for r in report.solvers if r.objectives for k in r.objectives)
    )
    reasons = chosen.unassigned_reasons if chosen else {}
    unassigned = chosen.plan.unassigned if chosen else []
    context = {
        "report": report,
        "colours": colours,
        "objective_names": objective_names,
        "trace_chart": Markup(_trace_chart(report, colours)),
        "pareto_chart": Markup(_pareto_chart(report, colours)),
        "front_rows": report.pareto_front[:MAX_FRONT_ROWS],
        "front_more": max(0, len(report.pareto_front) - MAX_FRONT_ROWS),
        "load_chart": Markup(load_bars(agents, resources)) if agents else Markup(""),
        "agent_note": agent_note,
        "reason_groups": _reason_groups(reasons),
        "unassigned_rows": [(t, reasons.get(t, "")) for t in unassigned[:MAX_UNASSIGNED_ROWS]],
        "unassigned_more": max(0, len(unassigned) - MAX_UNASSIGNED_ROWS),
        "n_unassigned": len(unassigned),
        "report_json": _embedded_json(report),
        "fmt": fmt_number,
    }
    return template_env().get_template("report.html.j2").render(**context)
