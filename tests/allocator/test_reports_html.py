"""The comparison report page: charts carry the report's data points, the page is offline."""

from __future__ import annotations

import json
import re

import pytest

from allocator.reports.html_report import (
    MAX_TRACE_POINTS,
    render_report_html,
)
from allocator.reports.objective_sense import profit_sense
from allocator.reports.svg_charts import downsample
from models.report import ComparisonReport, ProblemSummary, RunSettings, SolverRun
from tests.allocator.html_elements import parse_elements
from tests.synthetic_report import synthetic_report


def _points(page: str, chart: str) -> list[dict[str, str]]:
    return [e.attrs for e in parse_elements(page) if e.chart == chart and "pt" in e.classes]


def test_trace_chart_has_every_solver_and_the_bound() -> None:
    report = synthetic_report(60, 5, trace_points=20, seed=1)
    page = render_report_html(report)
    pts = _points(page, "trace")
    by_value = {(float(p["data-x"]), float(p["data-y"])) for p in pts}
    for run in report.solvers:
        for t, v in run.trace:
            assert (float(f"{t:.6g}"), float(f"{v:.6g}")) in by_value
    assert len(pts) == sum(len(r.trace) for r in report.solvers)
    assert report.best_bound is not None
    assert f"best bound {report.best_bound:.4g}" in page


def test_long_traces_are_downsampled_keeping_ends() -> None:
    report = synthetic_report(60, 5, trace_points=500, seed=2)
    pts = _points(render_report_html(report), "trace")
    assert len(pts) <= MAX_TRACE_POINTS * len(report.solvers)
    ys = {float(p["data-y"]) for p in pts}
    for run in report.solvers:
        assert float(f"{run.trace[-1][1]:.6g}") in ys
    assert downsample([(float(i), 0.0) for i in range(10)], 4) == [
        (0.0, 0.0),
        (3.0, 0.0),
        (6.0, 0.0),
        (9.0, 0.0),
    ]


def test_pareto_scatter_marks_the_knee() -> None:
    report = synthetic_report(60, 5, front_size=12, seed=3)
    page = render_report_html(report)
    pts = _points(page, "pareto")
    assert len(pts) == 12
    knee = next(p for p in report.pareto_front if p.knee)
    cost, makespan = knee.objectives["cost"], knee.objectives["makespan"]
    assert {"data-x": f"{cost:.6g}", "data-y": f"{makespan:.6g}"}.items() <= next(
        p for p in pts if p["data-x"] == f"{cost:.6g}"
    ).items()
    assert 'class="knee"' in page


def test_three_objectives_use_parallel_coordinates() -> None:
    report = synthetic_report(60, 5, n_objectives=3, front_size=9, seed=4)
    elements = [
        e for e in parse_elements(render_report_html(report)) if e.chart == "pareto-parallel"
    ]
    lines = [e for e in elements if e.tag == "polyline"]
    assert len(lines) == 9
    assert sum(1 for e in lines if "knee" in e.classes) == 1
    assert all(len(e.attrs["data-values"].split(",")) == 3 for e in lines)


def test_load_bars_one_per_agent_and_resource_with_overload_in_red() -> None:
    report = synthetic_report(60, 7, seed=5)
    assert report.chosen is not None
    agent = report.chosen.agents[0]
    agent.usage["cpu"] = agent.capacity["cpu"] * 1.5
    page = render_report_html(report)
    bars = _points(page, "agent-load")
    assert len(bars) == 7 * 2
    first = next(b for b in bars if b["data-resource"] == "cpu")
    assert float(first["data-x"]) == 1.5
    assert "#D62728" in page


def test_unassigned_grouped_by_reason() -> None:
    report = synthetic_report(60, 5, n_unassigned=5, seed=6)
    page = render_report_html(report)
    assert "Unassigned tasks: 5" in page
    assert re.search(r'<td class="n">3</td><td>no eligible agent has capability', page)


def test_infeasible_report_shows_the_diagnosis_without_charts() -> None:
    report = ComparisonReport(
        status="infeasible",
        problem=ProblemSummary(
            name="tight",
            n_agents=2,
            n_tasks=3,
            n_resources=1,
            resources=["cpu"],
            mode="weighted",
            objectives=["cost"],
            allow_unassigned=False,
        ),
        settings=RunSettings(solvers=["cpsat"], time_limit_s=1, seed=0, workers=1),
        solvers=[SolverRun(name="cpsat", status="infeasible", stop_reason="infeasible_proven")],
        diagnosis=["task t1 needs 5 cpu but the largest agent has 4"],
    )
    page = render_report_html(report)
    assert 'id="diagnosis"' in page and "largest agent has 4" in page
    assert "<svg" not in page


def test_page_is_offline_escaped_and_carries_the_json() -> None:
    report = synthetic_report(40, 4, seed=7)
    report.problem.name = "<script>alert(1)</script>"
    report.solvers[0].notes.append("</script><b>x</b>")
    page = render_report_html(report)
    assert "<script>alert(1)" not in page
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "@import" not in page and "url(" not in page
    blob = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert blob is not None
    data = json.loads(blob.group(1))
    assert data["problem"]["name"] == report.problem.name
    assert data["solvers"][0]["notes"][-1] == "</script><b>x</b>"
    assert all("plan" not in p for p in data["pareto_front"])


def test_large_report_stays_small() -> None:
    report = synthetic_report(2000, 60, trace_points=500, front_size=50, n_unassigned=300)
    page = render_report_html(report)
    assert len(page.encode()) < 3_000_000
    assert "more in the JSON report" in page  # unassigned rows capped with a note


def _series_spans(page: str) -> dict[str, tuple[float | None, float | None]]:
    spans = {}
    for e in parse_elements(page):
        if e.chart == "trace" and "series" in e.classes:
            start, end = e.attrs.get("data-start"), e.attrs.get("data-end")
            spans[e.attrs["data-series"]] = (
                float(start) if start is not None else None,
                float(end) if end is not None else None,
            )
    return spans


@pytest.mark.skipif(
    "started_at_s" not in SolverRun.model_fields,
    reason="SolverRun.started_at_s comes with the portfolio's one-clock change (issue 11)",
)
def test_trace_chart_draws_each_solver_from_its_start_to_its_end() -> None:
    # A solver started at 6 s that ran 3 s ends at 9 s on the request's clock, not at 3 s.
    report = synthetic_report(60, 5, solvers=("greedy", "cpsat"), trace_points=5, seed=8)
    late = report.solvers[1]
    late.started_at_s = 6.0
    late.wall_time_s = 3.0
    late.trace = [(6.4, 1200.0), (7.5, 1100.0)]
    late.time_to_first_s, late.time_to_best_s = 6.4, 7.5
    report.solvers[0].started_at_s = 0.0
    page = render_report_html(report)
    spans = _series_spans(page)
    assert spans["cpsat"] == (6.0, 9.0)
    assert spans["greedy"][0] == 0.0
    assert spans["greedy"][1] == pytest.approx(report.solvers[0].wall_time_s)
    assert "cpsat started at 6 s" in page
    row = page.split('data-solver="cpsat"', 1)[1].split("</tr>", 1)[0]
    assert "6.00 s" in row  # the Started column


def test_a_report_without_start_times_draws_from_zero_and_shows_no_start() -> None:
    report = synthetic_report(60, 5, solvers=("greedy", "cpsat"), trace_points=5, seed=9)
    for run in report.solvers:
        if hasattr(run, "started_at_s"):
            run.started_at_s = None
    spans = _series_spans(render_report_html(report))
    assert spans["cpsat"] == (0.0, pytest.approx(report.solvers[1].wall_time_s))


def test_summary_table_is_not_in_a_fixed_height_box() -> None:
    page = render_report_html(synthetic_report(60, 5, seed=10))
    opening = page.split('<table id="summary-table"', 1)[0].rsplit("<div", 1)[1]
    assert 'class="wide"' in opening
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    wide = css.split(".wide {", 1)[1].split("}", 1)[0]
    assert "max-height" not in wide and "overflow-y" not in wide


def test_profit_sense_flips_every_shown_value_and_leaves_the_report_alone() -> None:
    report = synthetic_report(60, 5, solvers=("greedy", "cpsat"), trace_points=5, seed=12)
    for run in report.solvers:  # a profit problem as the solvers saw it: cost = -profit
        run.objective = -(run.objective or 0.0)
        run.trace = [(t, -v) for t, v in run.trace]
        run.bound = None if run.bound is None else -run.bound
    assert report.chosen is not None
    report.chosen.objective = -report.chosen.objective
    report.best_bound = -(report.best_bound or 0.0)
    before = report.model_dump_json()
    page = render_report_html(report, sense=profit_sense())
    assert report.model_dump_json() == before
    ys = {float(p["data-y"]) for p in _points(page, "trace")}
    assert ys == {float(f"{-v:.6g}") for r in report.solvers for _, v in r.trace}
    assert f"best upper bound {-report.best_bound:.4g}" in page
    assert "profit (higher is better)" in page
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    assert data["solvers"][0]["objective"] == report.solvers[0].objective  # kept as minimised
    assert data["objective_sense"]["chosen_profit"] == -report.chosen.objective
