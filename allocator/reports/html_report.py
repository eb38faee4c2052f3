"""A self-contained HTML comparison report (placeholder until the reports work lands)."""

from __future__ import annotations

import html

from solvers.report import ComparisonReport

__all__ = ["render_report_html"]


def render_report_html(report: ComparisonReport) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.status}</td><td>{r.objective}</td>"
        f"<td>{r.bound}</td><td>{r.gap}</td><td>{r.verified}</td></tr>"
        for r in report.solvers
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Comparison</title></head>"
        f"<body><h1>{html.escape(report.problem.name)}</h1><table>{rows}</table></body></html>"
    )
