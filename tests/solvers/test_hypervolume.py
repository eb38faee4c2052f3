"""Hypervolume against hand-computed values, and non-dominated filtering."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.shared.pareto import non_dominated, normalised_hypervolume


def test_single_point_2d_box() -> None:
    # Point (0.5, 0.5) with reference 1: dominated box 0.5 x 0.5 of a unit box.
    hv = normalised_hypervolume(np.array([[0.5, 0.5]]), np.zeros(2), np.ones(2), reference=1.0)
    assert hv == pytest.approx(0.25)


def test_staircase_2d() -> None:
    # (0, 0.5) and (0.5, 0): union of two 1 x 0.5 strips minus their 0.5 x 0.5 overlap.
    pts = np.array([[0.0, 0.5], [0.5, 0.0]])
    hv = normalised_hypervolume(pts, np.zeros(2), np.ones(2), reference=1.0)
    assert hv == pytest.approx(0.5 + 0.5 - 0.25)


def test_normalisation_and_reference() -> None:
    # Scaled to (0.5, 0.5) with reference 1.1: (0.6 * 0.6) / 1.21.
    hv = normalised_hypervolume(
        np.array([[15.0, 3.0]]), np.array([10.0, 2.0]), np.array([20.0, 4.0])
    )
    assert hv == pytest.approx(0.36 / 1.21)


def test_dominated_and_outside_points_add_nothing() -> None:
    base = normalised_hypervolume(np.array([[0.2, 0.2]]), np.zeros(2), np.ones(2))
    more = normalised_hypervolume(
        np.array([[0.2, 0.2], [0.5, 0.5], [2.0, 0.0]]), np.zeros(2), np.ones(2)
    )
    assert more == pytest.approx(base)


def test_three_objectives_exact() -> None:
    # Two boxes of volume 0.5 * 1 * 1 overlapping in 0.5 * 0.5 * 1 (reference 1).
    pts = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]])
    hv = normalised_hypervolume(pts, np.zeros(3), np.ones(3), reference=1.0)
    assert hv == pytest.approx(0.5 + 0.5 - 0.25)


def test_three_objectives_matches_brute_force_grid() -> None:
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 1, (6, 3))
    hv = normalised_hypervolume(pts, np.zeros(3), np.ones(3), reference=1.0)
    grid = (np.arange(60) + 0.5) / 60
    cells = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
    dominated = np.any(np.all(pts[None, :, :] <= cells[:, None, :], axis=2), axis=1)
    assert hv == pytest.approx(dominated.mean(), abs=0.02)


def test_empty_front_is_zero() -> None:
    assert normalised_hypervolume(np.zeros((0, 2)), np.zeros(2), np.ones(2)) == 0.0


def test_non_dominated_filters_and_keeps_a_repeated_point_once() -> None:
    pts = np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]])
    assert non_dominated(pts).tolist() == [0, 1]
