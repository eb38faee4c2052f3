"""The MILP's and CP-SAT's link-capacity rows (issue 15): on tiny networked cases whose
cheapest plan overloads a link, both end with the brute-force best plan within bandwidth;
problems without a network get exactly the MILP model they had."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.generators.networked import generate_networked_problem, with_bandwidth
from models.generators.tiny_networked import (
    brute_force_within_bandwidth,
    generate_tiny_networked_problem,
)
from solvers.base import SolveOptions, SolveStatus
from solvers.cpsat.solver import CpSatSolver
from solvers.milp.model import build_model
from solvers.milp.solver import MilpSolver
from solvers.portfolio.bandwidth_checks import engine_view
from solvers.shared.link_flow import CPSAT_LINK_COLUMNS, models_link_capacity
from tests.solvers.tiny_instances import tiny_gap

# Seeds of `generate_tiny_networked_problem` whose cheapest plan overloads a link
# (checked below).
_OVERLOADED = [0, 1, 2, 3, 6, 9, 10, 14, 15, 16, 18, 19]


@pytest.mark.parametrize("engine", [MilpSolver, CpSatSolver])
@pytest.mark.parametrize("seed", _OVERLOADED)
def test_exact_engines_end_with_the_brute_force_best_plan_within_bandwidth(
    seed: int, engine: type[MilpSolver] | type[CpSatSolver]
) -> None:
    compiled = compile_problem(generate_tiny_networked_problem(seed))
    truth = brute_force_within_bandwidth(compiled)
    assert truth.cheapest is not None and not truth.cheapest_fits
    assert models_link_capacity(compiled)
    result = engine().solve(compiled, SolveOptions(time_limit_s=10.0))
    assert any("link bandwidth modelled" in note for note in result.notes)
    if truth.best_within is None:
        assert result.status == SolveStatus.INFEASIBLE
        return
    assert result.status == SolveStatus.OPTIMAL and result.assignment is not None
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible, [v.message for v in ev.violations]
    assert ev.score == pytest.approx(truth.best_within)


@pytest.mark.parametrize("engine", [MilpSolver, CpSatSolver])
def test_exact_engines_prove_that_no_placement_fits(
    engine: type[MilpSolver] | type[CpSatSolver],
) -> None:
    # Room for one task per agent forces x and y apart; their 2 units exceed the link's 1.
    doc = {
        "name": "apart",
        "agents": [
            {"id": "A", "capacity": {"cpu": 1}, "node": "n0"},
            {"id": "B", "capacity": {"cpu": 1}, "node": "n1"},
        ],
        "tasks": [{"id": "x", "demand": {"cpu": 1}}, {"id": "y", "demand": {"cpu": 1}}],
        "communication": [{"a": "x", "b": "y", "volume": 2}],
        "topology": {
            "nodes": [{"id": "n0"}, {"id": "n1"}],
            "links": [{"a": "n0", "b": "n1", "bandwidth": 1}],
        },
    }
    compiled = compile_problem(Problem.model_validate(doc))
    result = engine().solve(compiled, SolveOptions(time_limit_s=5.0))
    assert result.status == SolveStatus.INFEASIBLE
    assert result.assignment is None
    if engine is MilpSolver:
        assert any("bandwidth is what rules every placement out" in n for n in result.notes)


def test_a_problem_without_a_network_gets_the_same_model() -> None:
    gap = compile_problem(tiny_gap(3))
    model = build_model(gap, ("cost",))
    assert model.link_columns is None
    assert model.n_cols == int(gap.eligible.sum())  # assignment columns only
    assert model.n_rows == gap.n_tasks + len([r for r in model.row_names if r.startswith("cap_")])
    networked = compile_problem(generate_tiny_networked_problem(1))
    blind = build_model(replace(networked, network=None), ("cost",))
    aware = build_model(networked, ("cost",))
    # The link rows and columns come after everything the model had, which is unchanged.
    assert aware.col_names[: blind.n_cols] == blind.col_names
    assert aware.row_names[: blind.n_rows] == blind.row_names
    assert aware.n_cols > blind.n_cols and aware.n_rows > blind.n_rows
    extra = aware.row_names[blind.n_rows :]
    assert {name.split("_")[0] for name in extra} == {"q", "flow", "bw"}


def test_the_hint_of_a_fitting_plan_satisfies_every_row() -> None:
    from solvers.milp.model import hint_values

    compiled = compile_problem(generate_tiny_networked_problem(2))
    truth = brute_force_within_bandwidth(compiled)
    result = MilpSolver().solve(compiled, SolveOptions(time_limit_s=10.0))
    assert result.assignment is not None and truth.best_within is not None
    model = build_model(compiled, ("cost",))
    values = hint_values(model, compiled, result.assignment)
    assert values is not None
    activity = model.matrix() @ values
    assert np.all(activity >= np.array(model.row_lower) - 1e-6)
    assert np.all(activity <= np.array(model.row_upper) + 1e-6)


def test_large_networks_leave_the_milp_without_link_rows_and_without_the_network() -> None:
    compiled = compile_problem(generate_networked_problem(400, 40, 30, 0))
    assert compiled.network is not None
    assert not models_link_capacity(compiled)
    assert engine_view("milp", compiled).network is None
    small = compile_problem(generate_tiny_networked_problem(0))
    assert engine_view("milp", small).network is not None
    assert engine_view("cpsat", small).network is not None
    assert engine_view("nsga2", small).network is None
    # A mid-sized network: the MILP models it, CP-SAT (integer flows) gets the relaxation.
    middle = compile_problem(with_bandwidth(generate_networked_problem(60, 8, 5, 0), 5.0))
    assert models_link_capacity(middle)
    assert not models_link_capacity(middle, CPSAT_LINK_COLUMNS)
    assert engine_view("milp", middle).network is not None
    assert engine_view("cpsat", middle).network is None
