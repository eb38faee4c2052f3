"""The objective in the user's sense: profit files are solved as a minimum, shown as profit.

OR-Library gap1-gap12 hold profits. With `--maximise` the problem is built with
cost = -profit, so every solver minimises as usual and every figure in the
ComparisonReport is a negated profit. People read the figures in profit terms:
`in_user_sense` flips them for display; the JSON report keeps the solvers' values
and says so in its `objective_sense` block.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.report import ComparisonReport

__all__ = ["MINIMISE", "ObjectiveSense", "in_user_sense", "profit_sense", "sense_document"]

PROFIT_MEANING = (
    "total profit: the sum of profit[agent][task] from the file over the assigned "
    "(agent, task) pairs; higher is better; the bound is an upper bound on it. The "
    "solvers minimised cost = -profit, and the JSON report's objective, objectives.cost, "
    "bound and trace values are those negated profits."
)


@dataclass(frozen=True)
class ObjectiveSense:
    """How a report's scalar objective is shown: as is (minimised), or negated as a profit."""

    maximise: bool
    name: str
    meaning: str

    def shown(self, value: float | None) -> float | None:
        """A report value as the user reads it."""
        if value is None or not self.maximise:
            return value
        return -value

    @property
    def better(self) -> str:
        return "higher" if self.maximise else "lower"

    @property
    def bound_name(self) -> str:
        return "upper bound" if self.maximise else "bound"


MINIMISE = ObjectiveSense(
    False, "objective", "the verified score the solvers minimised; lower is better"
)


def profit_sense() -> ObjectiveSense:
    """The sense of a GAP profit file read with --maximise."""
    return ObjectiveSense(True, "profit", PROFIT_MEANING)


def _profit_objectives(values: dict[str, float] | None) -> dict[str, float] | None:
    # Only cost was negated when the problem was built; the other objectives are as computed.
    if values is None:
        return None
    return {("profit" if k == "cost" else k): (-v if k == "cost" else v) for k, v in values.items()}


def in_user_sense(report: ComparisonReport, sense: ObjectiveSense) -> ComparisonReport:
    """A copy of `report` whose objective, bound, trace and cost values are profits.

    Gaps are unchanged: (objective - bound) / |objective| of the negated values is
    (upper bound - profit) / profit, the relative gap in profit terms.
    """
    if not sense.maximise:
        return report
    shown = report.model_copy(deep=True)
    for run in shown.solvers:
        run.objective = sense.shown(run.objective)
        run.bound = sense.shown(run.bound)
        run.objectives = _profit_objectives(run.objectives)
        run.trace = [(t, -v) for t, v in run.trace]
    shown.best_bound = sense.shown(shown.best_bound)
    if shown.chosen is not None:
        shown.chosen.objective = -shown.chosen.objective
        shown.chosen.objectives = _profit_objectives(shown.chosen.objectives) or {}
    for point in shown.pareto_front:
        point.objectives = _profit_objectives(point.objectives) or {}
    return shown


def sense_document(report: ComparisonReport, sense: ObjectiveSense) -> dict[str, object]:
    """The `objective_sense` block of the JSON report: what the numbers in it mean."""
    block: dict[str, object] = {
        "sense": "maximise" if sense.maximise else "minimise",
        "name": sense.name,
        "meaning": sense.meaning,
    }
    if sense.maximise:
        block["chosen_profit"] = sense.shown(report.chosen.objective) if report.chosen else None
        block["best_upper_bound"] = sense.shown(report.best_bound)
    return block
