"""The comparison report as one self-contained HTML page: tables plus inline SVG charts.

No CDN and no fetch: styles, charts and the report's JSON are all inside the file.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from markupsafe import Markup

from allocator.reports.objective_sense import (
    MINIMISE,
    ObjectiveSense,
    in_user_sense,
    sense_document,
)
from allocator.reports.svg_axes import PALETTE, fmt_number
from allocator.reports.svg_charts import (
    HLine,
    Series,
    downsample,
    parallel_coordinates,
    scatter_chart,
    step_chart,
)
from allocator.reports.svg_gantt import gantt_chart
from allocator.reports.svg_load import load_bars
from allocator.reports.templating import template_env
from models.report import AgentLoad, ComparisonReport, SolverRun

__all__ = [
    "MAX_AGENT_ROWS",
    "MAX_TRACE_POINTS",
    "MAX_UNASSIGNED_ROWS",
    "recorded_start",
    "render_report_html",
    "solver_colours",
    "started_at",
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


def _objective_label(report: ComparisonReport, sense: ObjectiveSense) -> str:
    if sense.maximise:
        return f"{sense.name} ({sense.better} is better)"
    mode = report.problem.mode
    if mode == "lexicographic" and report.problem.objectives:
        return f"objective ({report.problem.objectives[0]}, lower is better)"
    return "objective (weighted score, lower is better)"


def recorded_start(run: SolverRun) -> float | None:
    """Seconds from the request's start to this solver's start, if the report records it.

    `started_at_s` arrives with the one-clock change of the portfolio (issue 11); a
    report without it, or a solver that never started, has no start to show.
    """
    value = getattr(run, "started_at_s", None)
    if value is None or run.stop_reason == "not_started":
        return None
    return float(value)


def started_at(run: SolverRun) -> float:
    """The solver's start for drawing: the recorded start, else the request's start (0)."""
    start = recorded_start(run)
    return 0.0 if start is None else start


def _trace_chart(shown: ComparisonReport, colours: dict[str, str], sense: ObjectiveSense) -> str:
    """Each solver's best value over time on the request's clock, from its start to its end.

    Trace times and time to best count from the request's start; wall time counts
    from the solver's own start, so the line ends at started_at + wall time.
    """
    series = []
    for run in shown.solvers:
        points = list(run.trace)
        if not points and run.objective is not None:
            points = [(run.time_to_best_s or started_at(run) + run.wall_time_s, run.objective)]
        if not points:
            continue
        start = started_at(run)
        series.append(
            Series(
                run.name,
                colours[run.name],
                downsample(points, MAX_TRACE_POINTS),
                end_x=start + run.wall_time_s,
                start_x=start,
            )
        )
    if not series:
        return ""
    hlines = []
    if shown.best_bound is not None:
        hlines = [HLine(shown.best_bound, f"best {sense.bound_name}")]
    return step_chart(
        series,
        chart="trace",
        x_label="seconds from the request's start",
        y_label=_objective_label(shown, sense),
        hlines=hlines,
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


def _embedded_json(report: ComparisonReport, sense: ObjectiveSense) -> Markup:
    """The report's JSON, minus per-point front plans (they would dominate the file size).

    Values stay as the solvers minimised them, like the JSON report; a profit report
    says so in its `objective_sense` block.
    """
    data = report.model_dump(mode="json", exclude={"pareto_front": {"__all__": {"plan"}}})
    if sense.maximise:
        data["objective_sense"] = sense_document(report, sense)
    text = json.dumps(data, separators=(",", ":"))
    # "</script" or "<!--" inside a <script> block would confuse the HTML parser;
    # \u003c is the same character to JSON.parse.
    return Markup(text.replace("<", "\\u003c"))


def render_report_html(report: ComparisonReport, sense: ObjectiveSense = MINIMISE) -> str:
    """Render the whole comparison as one offline HTML page, figures in the user's `sense`.

    Cost: linear in solvers x trace points + agents + unassigned tasks, each capped,
    so a 2,000-task, 4-solver report stays a few hundred kilobytes.
    """
    colours = solver_colours(report)
    original = report
    report = in_user_sense(report, sense)
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
        "sense": sense,
        "trace_chart": Markup(_trace_chart(report, colours, sense)),
        "pareto_chart": Markup(_pareto_chart(report, colours)),
        "front_rows": report.pareto_front[:MAX_FRONT_ROWS],
        "front_more": max(0, len(report.pareto_front) - MAX_FRONT_ROWS),
        "load_chart": Markup(load_bars(agents, resources)) if agents else Markup(""),
        "agent_note": agent_note,
        "reason_groups": _reason_groups(reasons),
        "unassigned_rows": [(t, reasons.get(t, "")) for t in unassigned[:MAX_UNASSIGNED_ROWS]],
        "unassigned_more": max(0, len(unassigned) - MAX_UNASSIGNED_ROWS),
        "n_unassigned": len(unassigned),
        "report_json": _embedded_json(original, sense),
        "fmt": fmt_number,
        "recorded_start": recorded_start,
        "gantt": gantt_chart(chosen.plan.schedule or {}) if chosen else None,
    }
    return template_env().get_template("report.html.j2").render(**context)
