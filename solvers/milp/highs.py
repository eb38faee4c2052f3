"""Solve the array model in process with HiGHS through highspy's public API.

The model goes in with one `passModel` (a column-wise sparse matrix); a warm start
with `setSolution`; improving incumbents come back through the
`kCallbackMipImprovingSolution` callback; plans other solvers find while it runs go
in through the `kCallbackMipUserSolution` callback (HiGHS checks them and keeps a
better one as its incumbent); status, bound and objective are read from
the model status and `getInfo()`. Deciding optimal vs feasible is left to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import highspy
import numpy as np

from solvers.milp.backends import BackendOutcome, BackendSettings
from solvers.milp.model import MilpModel
from solvers.shared.quiet_highs import QuietHighs, use_threads

__all__ = ["HIGHS_PRESOLVE_MAX_COLUMNS", "PeerSolutions", "SolutionHook", "run_highs"]

#: Above this many columns HiGHS runs without presolve: on an 80 x 1600 GAP model its MIP
#: presolve took 4 s, reduced nothing, and ran past the time limit (no callbacks inside).
HIGHS_PRESOLVE_MAX_COLUMNS = 50_000

#: Called with every column's value on each improving solution.
SolutionHook = Callable[[np.ndarray], None]

#: Polled during the search: every column's value of a plan found elsewhere, or None.
PeerSolutions = Callable[[], np.ndarray | None]

_STOPPED = (
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kInterrupt,
    highspy.HighsModelStatus.kIterationLimit,
)
_INFEASIBLE = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


def run_highs(
    model: MilpModel,
    objective: np.ndarray,
    settings: BackendSettings,
    start: np.ndarray | None = None,
    hook: SolutionHook | None = None,
    peers: PeerSolutions | None = None,
) -> BackendOutcome:
    """Minimise `objective` (float64[n_cols]) over the model within the time limit."""
    deadline = time.perf_counter() + settings.time_limit_s
    outcome = BackendOutcome()
    highs = QuietHighs()
    order = column_order(model)
    _pass_model(highs, model, objective, order)
    _configure(highs, settings, deadline, model.n_cols, outcome)
    if start is not None:
        highs.setSolution(len(start), np.arange(len(start), dtype=np.int32), start[order])
    if hook is not None:
        highs.cbMipImprovingSolution.subscribe(_improving(hook, order))
    if peers is not None:
        highs.cbMipUserSolution.subscribe(_from_peers(peers, order, outcome))
    _interrupt_after(highs, deadline)
    highs.run()
    _read(highs, outcome, order)
    return outcome


def column_order(model: MilpModel) -> np.ndarray:
    """The model's columns in the order HiGHS gets them: the model's own, agent by agent
    and task by task, the order a plain highspy model adds them in.

    HiGHS's search depends on the column order, and with the same order, rows and
    options it follows the same path as a plain model (issue 12, `bench.highs_path`:
    the same improving solutions in the same order on six C, D and E instances).
    Sorted by name (the order PuLP passed) the `milp` solver alone did worse on e40400
    (1.167% vs 0.581% to best-known at 10 s), e10100 (0.173% vs 0) and c40400 (0.071%
    vs 0.024%).
    """
    return np.arange(model.n_cols)


def _in_model_order(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """HiGHS's column values back in the model's column order."""
    out = np.empty(len(order))
    out[order] = values
    return out


def _pass_model(
    highs: highspy.Highs, model: MilpModel, objective: np.ndarray, order: np.ndarray
) -> None:
    matrix = model.matrix().tocsc()[:, order]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.n_cols, model.n_rows
    lp.col_cost_ = objective[order]
    lp.col_lower_ = np.array(model.col_lower, dtype=np.float64)[order]
    lp.col_upper_ = np.array(model.col_upper, dtype=np.float64)[order]
    lp.row_lower_ = np.array(model.row_lower, dtype=np.float64)
    lp.row_upper_ = np.array(model.row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    highs.passModel(lp)
    binary = np.flatnonzero(np.array(model.col_binary)[order]).astype(np.int32)
    if len(binary):
        kinds = np.full(len(binary), highspy.HighsVarType.kInteger)
        highs.changeColsIntegrality(len(binary), binary, kinds)


def _configure(
    highs: highspy.Highs,
    settings: BackendSettings,
    deadline: float,
    n_cols: int,
    outcome: BackendOutcome,
) -> None:
    highs.setOptionValue("output_flag", settings.log)
    highs.setOptionValue("mip_rel_gap", settings.rel_gap)
    use_threads(highs, settings.threads)
    highs.setOptionValue("random_seed", settings.seed)
    # Building counts against the budget: HiGHS gets only what is left of it.
    highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.01))
    if n_cols > HIGHS_PRESOLVE_MAX_COLUMNS:
        highs.setOptionValue("presolve", "off")
        outcome.notes.append("highs: presolve off on a large model (time limit)")


def _improving(hook: SolutionHook, order: np.ndarray) -> Callable[[Any], None]:
    def improved(event: Any) -> None:
        hook(_in_model_order(np.asarray(event.data_out.mip_solution, dtype=np.float64), order))

    return improved


def _from_peers(
    peers: PeerSolutions, order: np.ndarray, outcome: BackendOutcome
) -> Callable[[Any], None]:
    taken = 0

    def offer(event: Any) -> None:
        nonlocal taken
        values = peers()
        if values is None:
            return
        event.data_in.setSolution(values[order])
        event.data_in.user_has_solution = True
        if taken == 0:
            outcome.notes.append("highs: was handed plans the other solvers found while it ran")
        taken += 1

    return offer


def _interrupt_after(highs: highspy.Highs, deadline: float) -> None:
    def interrupt_when_late(event: Any) -> None:
        # HiGHS overruns its own time_limit by seconds on large models (root LP, presolve).
        if time.perf_counter() > deadline:
            event.interrupt()

    highs.cbSimplexInterrupt.subscribe(interrupt_when_late)
    highs.cbMipInterrupt.subscribe(interrupt_when_late)


def _read(highs: highspy.Highs, outcome: BackendOutcome, order: np.ndarray) -> None:
    status = highs.getModelStatus()
    info = highs.getInfo()
    outcome.status_text = highs.modelStatusToString(status)
    outcome.proven_optimal = status == highspy.HighsModelStatus.kOptimal
    outcome.infeasible = status in _INFEASIBLE
    outcome.stopped_by_limit = status in _STOPPED
    outcome.has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
    if outcome.has_solution:
        outcome.objective = float(info.objective_function_value)
        values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
        outcome.values = _in_model_order(values, order).tolist()
    bound = float(info.mip_dual_bound)
    if np.isfinite(bound):
        outcome.bound = bound
