"""The smoothed dual's blocked evaluation and lp_guided's shared first-fit tables against
plain whole-array float64 formulas: block edges, the exponent floor and the attribute-form
shortcuts must not change what is computed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models import compile_problem
from models.generators.gap import compile_gap, generate_gap
from models.generators.instances import generate_attribute_problem
from solvers.base import SolveOptions
from solvers.bounds.lagrangian import pair_costs
from solvers.heuristic import lp_guided
from solvers.heuristic.scoring import build_score_model
from solvers.heuristic.task_units import build_units
from solvers.shared import smoothed_dual


def _reference(cost, usage, capacity, left_out, mu, eps):
    """L(mu), the smoothed dual at eps and its gradient, whole arrays in float64."""
    red = cost.astype(np.float64) + np.einsum("ik,ijk->ij", mu, usage.astype(np.float64))
    if left_out is not None:  # leaving a task out: one more choice, using nothing
        red = np.vstack([red, left_out[None, :]])
        usage = np.concatenate([usage, np.zeros((1, *usage.shape[1:]), usage.dtype)])
    low = red.min(axis=0)
    weights = np.exp(-(red - low) / eps)
    total = weights.sum(axis=0)
    priced = float((mu * capacity).sum())
    soft = float((low - eps * np.log(total)).sum()) - priced
    used = np.einsum("ij,ijk->ik", weights / total, usage.astype(np.float64))
    return float(low.sum()) - priced, soft, used[: capacity.shape[0]] - capacity


def _compiled_cases():
    attribute = compile_problem(generate_attribute_problem(300, 7, seed=3))
    optional = compile_problem(generate_attribute_problem(300, 7, seed=4, allow_unassigned=True))
    classic = compile_gap(generate_gap("D", 6, 60, seed=2))  # usage differs per agent
    return {"attribute": attribute, "tasks left out": optional, "classic GAP": classic}


@pytest.mark.parametrize("case", ["attribute", "tasks left out", "classic GAP"])
def test_a_blocked_evaluation_matches_the_whole_array_formulas(case, monkeypatch) -> None:
    compiled = _compiled_cases()[case]
    cost, left_out = pair_costs(compiled)
    m = compiled.n_agents
    monkeypatch.setattr(smoothed_dual, "_BLOCK_ELEMENTS", 16 * m)  # blocks of 16 tasks
    rng = np.random.default_rng(0)
    scale = float(np.abs(cost[np.isfinite(cost)]).mean())
    for eps_share in (0.05, 0.0025):  # a warm stage and the coldest (the floor matters)
        evaluator = smoothed_dual._Evaluator(
            cost, compiled.usage, compiled.capacity, left_out, np.inf
        )
        assert evaluator.block == 16 and compiled.n_tasks % 16  # a ragged last block too
        mu = rng.random(evaluator.shape) * scale / compiled.capacity.mean(axis=0)
        evaluator.new_stage(eps_share * scale, mu.ravel())
        value, gradient = evaluator(mu.ravel())
        exact, soft, grad = _reference(
            cost, compiled.usage, compiled.capacity, left_out, mu, eps_share * scale
        )
        tolerance = 1e-5 * (abs(exact) + float(np.abs(cost[np.isfinite(cost)]).sum()))
        assert evaluator.best <= exact + 1e-9  # the recorded bound is never above L(mu)
        assert evaluator.best == pytest.approx(exact, abs=tolerance)
        assert -value == pytest.approx(soft, abs=tolerance)
        np.testing.assert_allclose(-gradient.reshape(grad.shape), grad, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("case", ["attribute", "classic GAP"])
def test_first_fit_tables_price_every_pair_as_the_formula(case) -> None:
    compiled = _compiled_cases()[case]
    units = build_units(compiled)
    model = build_score_model(compiled, units)
    tables = lp_guided._UnitTables(units, model)
    assert (tables.shared is not None) == (case == "attribute")
    prices = np.random.default_rng(1).random(units.capacity.shape)
    expected = np.where(units.eligible, model.linear, np.inf) + np.einsum(
        "ik,iuk->iu", prices, units.usage
    )
    np.testing.assert_allclose(tables.priced(prices), expected.T, rtol=1e-5)


def test_the_phases_note_gives_wall_and_cpu_seconds_of_each_phase() -> None:
    compiled = compile_problem(generate_attribute_problem(400, 10, seed=8))
    result = lp_guided.LpGuidedSolver().solve(compiled, SolveOptions(time_limit_s=1.5))
    (note,) = [n for n in result.notes if n.startswith("set-up ")]
    parsed = [re.fullmatch(r"(.+) ([\d.]+) s \(([\d.]+) s CPU\)", p) for p in note.split(", ")]
    assert all(parsed)
    phases = [p.groups() for p in parsed if p is not None]
    names = [name for name, _, _ in phases]
    assert names[0] == "set-up" and names[1] == "dual"
    searched = re.fullmatch(r"local search to ([\d.e+]+)", names[-1])
    fits = re.fullmatch(r"(\d+) priced first fits to ([\d.e+]+)", names[2])
    assert fits is not None and int(fits.group(1)) >= 1 and searched is not None
    # The local search never worsens the plan, and the plan reported is the searched one.
    assert float(searched.group(1)) <= float(fits.group(2))
    assert result.objective is not None and result.bound is not None
    assert result.objective == pytest.approx(float(searched.group(1)), rel=1e-5)
    assert result.bound <= result.objective
    wall = sum(float(w) for _, w, _ in phases)
    # The phases lie inside the solve (each rounded to 0.01 s in the note).
    assert wall <= result.wall_time_s + 0.005 * len(phases)
