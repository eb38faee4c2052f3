"""The batch comparison as one self-contained HTML page (aggregates, tests, profiles)."""

from __future__ import annotations

from markupsafe import Markup

from allocator.reports.batch_models import (
    BatchReport,
    InstanceResult,
    ProfileSeries,
    SolverOutcome,
)
from allocator.reports.batch_summary import reached_time
from allocator.reports.svg_axes import PALETTE
from allocator.reports.svg_charts import Series, step_chart
from allocator.reports.templating import template_env

__all__ = ["MAX_INSTANCE_ROWS", "render_batch_html"]

MAX_INSTANCE_ROWS = 500


def _profile_chart(
    curves: list[ProfileSeries], colours: dict[str, str], chart: str, x_label: str
) -> str:
    if not curves:
        return ""
    top = max((t for c in curves for t in c.taus), default=1.0)
    # Leave room right of the last step so a curve that ends there reads as flat.
    end = 1.0 + (top - 1.0) * 1.15 if top > 1.0 else 2.0
    series = [
        Series(
            c.solver,
            colours[c.solver],
            list(zip(c.taus, c.fractions, strict=True)),
            end_x=end,
            labels=[
                f"{c.solver}: {f:.0%} of instances within {t:.4g}x of the best"
                for t, f in zip(c.taus, c.fractions, strict=True)
            ],
        )
        for c in curves
    ]
    return step_chart(
        series,
        chart=chart,
        x_label=x_label,
        y_label="share of instances",
        y_range=(0.0, 1.04),
        log_x=end > 10,
    )


def _best_cells(inst: InstanceResult) -> set[str]:
    best = inst.best_objective()
    if best is None:
        return set()
    tol = 1e-6 * max(abs(best), 1e-9)
    return {
        o.solver for o in inst.outcomes if o.objective is not None and o.objective - best <= tol
    }


def _row(
    inst: InstanceResult,
) -> tuple[InstanceResult, dict[str, SolverOutcome], set[str], dict[str, float | None]]:
    by_solver = {o.solver: o for o in inst.outcomes}
    times = {o.solver: reached_time(o, inst) for o in inst.outcomes}
    return inst, by_solver, _best_cells(inst), times


def render_batch_html(batch: BatchReport) -> str:
    """Render the batch report. Cost: O(instances x solvers), instance rows capped at 500."""
    colours = {s: PALETTE[k % len(PALETTE)] for k, s in enumerate(batch.solvers)}
    rows = batch.instances[:MAX_INSTANCE_ROWS]
    context = {
        "batch": batch,
        "colours": colours,
        "time_chart": Markup(
            _profile_chart(
                batch.time_profile,
                colours,
                "profile-time",
                "tau: time to target, as a multiple of the fastest",
            )
        ),
        "objective_chart": Markup(
            _profile_chart(
                batch.objective_profile,
                colours,
                "profile-objective",
                "tau: objective as a multiple of the best (1 + relative gap)",
            )
        ),
        "rows": [_row(inst) for inst in rows],
        "rows_more": max(0, len(batch.instances) - MAX_INSTANCE_ROWS),
        "batch_json": Markup(batch.model_dump_json().replace("<", "\\u003c")),
        "n_errors": sum(1 for i in batch.instances if i.error),
    }
    return template_env().get_template("batch.html.j2").render(**context)
