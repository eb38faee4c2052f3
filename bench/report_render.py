"""Report-page benchmark: file size and render time in headless Chromium for a
2,000-task, 4-solver comparison (goal: under 3 MB, under 2 s).

`python -m bench.report_render [--real] [--time-limit 30] [--runs 5] [--out DIR]`
Without --real the report is synthetic (long traces, a 50-plan front, 60 agents);
with --real the portfolio compares greedy, cpsat, milp and nsga2 on a generated problem.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from allocator.reports.html_report import render_report_html
from models.report import ComparisonReport
from tests.synthetic_report import synthetic_report

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Two animation frames after load: the page has been laid out and painted.
_PAINTED_MS = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
    "() => r(performance.now()))))"
)


def _real_report(time_limit_s: float) -> ComparisonReport:
    from allocator.facade import compare
    from models import RunOptions
    from models.generators.instances import generate_attribute_problem
    from solvers.registry import registered_solvers

    wanted = ["greedy", "cpsat", "milp", "nsga2"]
    present = [s for s in wanted if s in registered_solvers()]
    if len(present) < len(wanted):
        print(f"not registered here, left out: {sorted(set(wanted) - set(present))}")
    problem = generate_attribute_problem(2000, 60, seed=0)
    options = RunOptions(solvers=present, time_limit_s=time_limit_s, workers=2)
    return compare(problem, options)


def _browser_times(page_path: Path, runs: int) -> list[tuple[float, float]]:
    """(load event ms, painted ms) per run, each in a fresh page, measured by the page."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium not found; apt-get install -y chromium")
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.as_uri(), wait_until="load")
            painted = float(page.evaluate(_PAINTED_MS))
            load = float(
                page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
            points = page.locator("svg .pt").count()
            out.append((load, painted))
            page.close()
        browser.close()
    print(f"data points in the page's SVG charts: {points}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real", action="store_true", help="run the solvers (slow)")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench"))
    args = parser.parse_args()

    if args.real:
        report = _real_report(args.time_limit)
    else:
        report = synthetic_report(2000, 60, trace_points=500, front_size=50, n_unassigned=300)
    solved = ", ".join(f"{r.name}={r.status}" for r in report.solvers)
    print(f"report: {report.problem.n_tasks} tasks x {report.problem.n_agents} agents; {solved}")
    start = time.perf_counter()
    page = render_report_html(report)
    render_s = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / ("report-real.html" if args.real else "report-synthetic.html")
    target.write_text(page, encoding="utf-8")
    size = target.stat().st_size
    print(f"python render: {render_s * 1000:.0f} ms; file {size / 1e6:.2f} MB -> {target}")
    times = _browser_times(target.resolve(), args.runs)
    loads = [t[0] for t in times]
    painted = [t[1] for t in times]
    print(
        f"chromium, {args.runs} runs: load event median {statistics.median(loads):.0f} ms "
        f"(max {max(loads):.0f}); painted median {statistics.median(painted):.0f} ms "
        f"(max {max(painted):.0f})"
    )
    ok = size < 3_000_000 and max(painted) < 2000
    print("goal (< 3 MB, < 2 s):", "met" if ok else "MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
