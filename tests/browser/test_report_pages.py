"""The report pages in real headless Chromium: charts render, no errors, nothing leaves the page."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from allocator.reports.batch import summarise_batch
from allocator.reports.batch_html import render_batch_html
from allocator.reports.batch_models import InstanceResult, SolverOutcome
from allocator.reports.html_report import render_report_html
from models import RunOptions
from tests.browser.conftest import allowed_url, open_logged_page, screenshot
from tests.synthetic_report import synthetic_report


def _open(browser: Any, html: str, tmp_path: Path, name: str) -> tuple[Any, Any]:
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page, log = open_logged_page(browser)
    page.goto(path.as_uri(), wait_until="load")
    return page, log


def _assert_clean(log: Any) -> None:
    assert log.errors == [], f"console errors: {log.errors}"
    assert log.blocked == [], f"requests tried to leave the page: {log.blocked}"
    assert all(allowed_url(u) for u in log.requests), log.requests


def _visible_points(page: Any, selector: str) -> int:
    """Count data-point elements with a real on-screen size (so the SVG actually rendered)."""
    return int(
        page.eval_on_selector_all(
            selector,
            "els => els.filter(e => { const r = e.getBoundingClientRect();"
            " return r.width > 0 && r.height > 0; }).length",
        )
    )


def test_comparison_report_renders_its_charts(browser: Any, tmp_path: Path) -> None:
    report = synthetic_report(2000, 60, trace_points=500, front_size=50, n_unassigned=40)
    page, log = _open(browser, render_report_html(report), tmp_path, "comparison")
    try:
        assert _visible_points(page, 'svg[data-chart="trace"] .pt') >= len(report.solvers)
        assert _visible_points(page, 'svg[data-chart="pareto"] .pt') == 50
        assert page.locator('svg[data-chart="pareto"] g.knee').count() == 1
        assert _visible_points(page, 'svg[data-chart="agent-load"] .pt') == 60 * 2
        assert page.locator("#summary-table tbody tr").count() == len(report.solvers)
        with page.expect_download() as download:
            page.click("#download-json")
        assert download.value.suggested_filename == "report.json"
        screenshot(page, "comparison-report")
        _assert_clean(log)
    finally:
        page.context.close()


def test_parallel_coordinates_for_three_objectives(browser: Any, tmp_path: Path) -> None:
    report = synthetic_report(300, 10, n_objectives=3, front_size=30, seed=3)
    page, log = _open(browser, render_report_html(report), tmp_path, "pareto3")
    try:
        assert _visible_points(page, 'svg[data-chart="pareto-parallel"] polyline.pt') == 30
        screenshot(page, "comparison-report-3-objectives")
        _assert_clean(log)
    finally:
        page.context.close()


def test_batch_report_renders_profiles(browser: Any, tmp_path: Path) -> None:
    instances = [
        InstanceResult(
            instance=f"inst{k}",
            source=f"inst{k}.json",
            n_tasks=50,
            n_agents=5,
            status="solved",
            outcomes=[
                SolverOutcome(
                    solver="greedy",
                    status="feasible",
                    objective=100 + k % 3,
                    wall_time_s=0.1,
                    time_to_best_s=0.05,
                ),
                SolverOutcome(
                    solver="cpsat",
                    status="optimal",
                    objective=100.0,
                    wall_time_s=1.0 + k / 10,
                    time_to_best_s=0.5 + k / 10,
                ),
                SolverOutcome(
                    solver="milp",
                    status="feasible",
                    objective=100.0 + k % 2,
                    wall_time_s=2.0,
                    time_to_best_s=1.0,
                ),
            ],
        )
        for k in range(8)
    ]
    batch = summarise_batch("demo", RunOptions(solvers=["greedy", "cpsat", "milp"]), instances)
    page, log = _open(browser, render_batch_html(batch), tmp_path, "batch")
    try:
        assert _visible_points(page, 'svg[data-chart="profile-time"] .pt') >= 3
        assert _visible_points(page, 'svg[data-chart="profile-objective"] .pt') >= 3
        assert page.locator("#tests-table tbody tr").count() == 6
        screenshot(page, "batch-report")
        _assert_clean(log)
    finally:
        page.context.close()


def test_the_network_guard_catches_a_request_leaving_the_page(browser: Any, tmp_path: Path) -> None:
    """Guard the guard: a page that fetches from the network is caught, not silently allowed."""
    page, log = _open(browser, '<img src="http://192.0.2.1/x.png">', tmp_path, "leaky")
    try:
        assert log.blocked == ["http://192.0.2.1/x.png"]
    finally:
        page.context.close()


# True when no ancestor of any summary row hides it behind a scroll bar or a clip.
_ROWS_UNCLIPPED = """() => {
  const rows = [...document.querySelectorAll('#summary-table tbody tr')];
  return rows.map(row => {
    const box = row.getBoundingClientRect();
    if (box.height <= 0) return false;
    for (let e = row.parentElement; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      const clips = style.overflowY !== 'visible' || style.maxHeight !== 'none';
      if (clips && e.scrollHeight > e.clientHeight + 1) return false;
    }
    return true;
  });
}"""


def test_summary_table_shows_every_solver_without_scrolling(browser: Any, tmp_path: Path) -> None:
    """Six solvers with long notes: every row in view on screen and in print."""
    names = ("greedy", "lp_bound", "cpsat", "milp", "lns", "nsga2")
    report = synthetic_report(200, 8, solvers=names, trace_points=20, seed=11)
    for run in report.solvers:
        run.notes = [f"{run.name}: a long note about what happened, " * 8] * 3
    page, log = _open(browser, render_report_html(report), tmp_path, "six-solvers")
    try:
        assert page.locator("#summary-table tbody tr").count() == len(names)
        assert page.evaluate(_ROWS_UNCLIPPED) == [True] * len(names)
        page.emulate_media(media="print")
        assert page.evaluate(_ROWS_UNCLIPPED) == [True] * len(names)
        screenshot(page, "comparison-six-solvers-print")
        page.emulate_media(media="screen")
        # Guard the guard: the old fixed-height container does hide rows, and the check sees it.
        page.evaluate("document.querySelector('#summary-table').parentElement.className='scroll'")
        assert False in page.evaluate(_ROWS_UNCLIPPED)
        _assert_clean(log)
    finally:
        page.context.close()


def test_workflow_report_draws_a_gantt_with_one_bar_per_task(browser: Any, tmp_path: Path) -> None:
    from allocator.facade import solve
    from models.generators.workflow import generate_workflow_problem

    problem = generate_workflow_problem(30, 4, 1.0, 5)
    report = solve(problem, RunOptions(solvers=["heft"], time_limit_s=4.0, workers=1))
    assert report.chosen is not None and report.chosen.plan.schedule is not None
    schedule = report.chosen.plan.schedule
    page, log = _open(browser, render_report_html(report), tmp_path, "gantt")
    try:
        bars = 'svg[data-chart="gantt"] rect.gantt-bar'
        assert _visible_points(page, bars) == len(problem.tasks) == len(schedule)
        drawn = page.eval_on_selector_all(bars, "els => els.map(e => e.dataset.task)")
        assert sorted(drawn) == sorted(t.id for t in problem.tasks)
        # The red bars are the critical path: it ends at the makespan, each link tight.
        critical = page.eval_on_selector_all(
            f"{bars}.critical", "els => els.map(e => e.dataset.task)"
        )
        assert critical, "no critical path drawn"
        last = max(schedule, key=lambda t: schedule[t].finish)
        assert last in critical
        assert all(schedule[t].waits_for in critical for t in critical if schedule[t].waits_for)
        # A later task is drawn further right: bars follow their start times.
        xs = page.eval_on_selector_all(
            bars, "els => els.map(e => [Number(e.dataset.start), e.getBoundingClientRect().x])"
        )
        xs.sort()
        assert all(a[1] <= b[1] + 0.5 for a, b in itertools.pairwise(xs))
        screenshot(page, "gantt-report")
        _assert_clean(log)
    finally:
        page.context.close()
