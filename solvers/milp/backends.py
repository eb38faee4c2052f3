"""Run a PuLP model on HiGHS (in process, via highspy) or CBC (a killable subprocess).

Each runner reports what the backend itself says (model status, bound, incumbents)
in one `BackendOutcome`; deciding optimal vs feasible is left to the caller.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pulp

__all__ = [
    "BACKENDS",
    "BackendOutcome",
    "MilpBackendError",
    "backend_available",
    "check_backend",
    "run_cbc",
    "run_highs",
]

BACKENDS = ("highs", "cbc")
#: Above this many columns HiGHS runs without presolve: on an 80 x 1600 GAP model its MIP
#: presolve took 4 s, reduced nothing, and ran past the time limit (no callbacks inside).
HIGHS_PRESOLVE_MAX_COLUMNS = 50_000
#: CBC's own limit ends up to this long (10% of the budget at most) before ours; at our
#: limit it gets SIGINT (it then writes its incumbent), CBC_KILL_AFTER_S later SIGKILL.
CBC_GRACE_S = 1.0
CBC_KILL_AFTER_S = 1.0

#: Called with (model objective, column values) on each improving solution.
SolutionHook = Callable[[float, np.ndarray], None]


class MilpBackendError(ValueError):
    """An unknown or unavailable MILP backend was requested."""


@dataclass
class BackendOutcome:
    """What the backend reported, before we interpret it."""

    has_solution: bool = False
    proven_optimal: bool = False  # the backend says optimal (within its gap setting)
    infeasible: bool = False
    stopped_by_limit: bool = False  # its own time limit, or we stopped it from outside
    objective: float | None = None  # model objective, without constants kept outside
    bound: float | None = None  # proven dual bound on the model objective
    status_text: str = ""
    trace: list[tuple[float, float]] = field(default_factory=list)  # (s since start, obj)
    notes: list[str] = field(default_factory=list)


def _cbc_path() -> str | None:
    bundled = getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None)
    for candidate in (bundled, "cbc"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    return None


def backend_available(name: str) -> bool:
    """Whether `name` can run here (HiGHS needs highspy; CBC needs a cbc binary)."""
    if name == "highs":
        return bool(pulp.HiGHS().available())
    if name == "cbc":
        return _cbc_path() is not None
    return False


def check_backend(name: str | None) -> str:
    """Normalise a backend name; raise `MilpBackendError` saying what to use instead."""
    chosen = (name or "highs").lower()
    if chosen not in BACKENDS:
        raise MilpBackendError(f"unknown MILP backend {name!r}; use one of: {', '.join(BACKENDS)}")
    if not backend_available(chosen):
        hint = "pip install highspy" if chosen == "highs" else "install CBC (pulp[cbc])"
        raise MilpBackendError(f"MILP backend {chosen!r} is not available here; {hint}")
    return chosen


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    # highspy prints a banner from C++ on the first Highs(); keep stdout clean for --json.
    fd = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


class _HighsRun(pulp.HiGHS):
    """PuLP's HiGHS interface plus a warm start, an incumbent callback and raw status."""

    def __init__(
        self,
        deadline: float,
        start: dict[pulp.LpVariable, float] | None,
        hook: SolutionHook | None,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.deadline = deadline
        self.start = start
        self.hook = hook
        self.outcome = BackendOutcome()
        self.columns: list[pulp.LpVariable] = []

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        """Pass all columns and rows in two bulk calls (PuLP adds them one call each)."""
        import highspy

        highs = lp.solverModel
        variables = self.columns = lp.variables()
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        objective = lp.objective or {}
        cost = np.array([sign * objective.get(v, 0.0) for v in variables], dtype=np.float64)
        inf = highspy.kHighsInf
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables])
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables])
        for k, v in enumerate(variables):
            v.index = k
        highs.addCols(len(variables), cost, lower, upper, 0, [], [], [])
        integer = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32)
        if self.mip and len(integer):
            kinds = np.full(len(integer), highspy.HighsVarType.kInteger)
            highs.changeColsIntegrality(len(integer), integer, kinds)
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        row_lo: list[float] = []
        row_hi: list[float] = []
        for r, constraint in enumerate(lp.constraints()):
            constraint.index = r
            starts.append(len(index))
            for v, coef in constraint.items():
                if coef != 0:
                    index.append(v.index)
                    value.append(coef)
            lo, hi = constraint.getLb(), constraint.getUb()
            row_lo.append(-inf if lo is None else lo)
            row_hi.append(inf if hi is None else hi)
        highs.addRows(
            len(starts),
            np.array(row_lo, dtype=np.float64),
            np.array(row_hi, dtype=np.float64),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=np.float64),
        )

    def actualSolve(self, lp: pulp.LpProblem, **kwargs: Any) -> int:
        with _quiet_stdout():
            self.createAndConfigureSolver(lp)
        highs = lp.solverModel
        self.buildSolverModel(lp)
        variables = self.columns
        # Building counts against the budget: HiGHS gets only what is left of it.
        highs.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.01))
        if len(variables) > HIGHS_PRESOLVE_MAX_COLUMNS:
            highs.setOptionValue("presolve", "off")
            self.outcome.notes.append("highs: presolve off on a large model (time limit)")
        if self.start is not None:
            index = np.array([v.index for v in self.start], dtype=np.int32)
            value = np.array(list(self.start.values()), dtype=np.float64)
            highs.setSolution(len(index), index, value)
        began = time.perf_counter()
        if self.hook is not None:
            hook = self.hook
            outcome = self.outcome

            def improved(event: Any) -> None:
                obj = float(event.data_out.objective_function_value)
                outcome.trace.append((time.perf_counter() - began, obj))
                hook(obj, np.asarray(event.data_out.mip_solution, dtype=np.float64))

            highs.cbMipImprovingSolution.subscribe(improved)

        deadline = self.deadline

        def interrupt_when_late(event: Any) -> None:
            # HiGHS overruns its own time_limit by seconds on large models (root LP, presolve).
            if time.perf_counter() > deadline:
                event.interrupt()

        highs.cbSimplexInterrupt.subscribe(interrupt_when_late)
        highs.cbMipInterrupt.subscribe(interrupt_when_late)
        highs.run()
        self._read(lp, highs, variables)
        return int(lp.status)

    def _read(self, lp: pulp.LpProblem, highs: Any, variables: list[pulp.LpVariable]) -> None:
        import highspy

        out = self.outcome
        status = highs.getModelStatus()
        info = highs.getInfo()
        ms = highspy.HighsModelStatus
        out.status_text = highs.modelStatusToString(status)
        out.proven_optimal = status == ms.kOptimal
        out.infeasible = status in (ms.kInfeasible, ms.kUnboundedOrInfeasible)
        out.stopped_by_limit = status in (ms.kTimeLimit, ms.kInterrupt, ms.kIterationLimit)
        # primal_solution_status 2 = feasible; PuLP's own mapping says "Optimal" on limits.
        out.has_solution = int(info.primal_solution_status) == 2
        if out.has_solution:
            out.objective = float(info.objective_function_value)
            values = highs.getSolution().col_value
            for v, x in zip(variables, values, strict=True):
                v.varValue = x
        bound = float(info.mip_dual_bound)
        if np.isfinite(bound):
            out.bound = bound
        lp.assignStatus(
            pulp.LpStatusOptimal if out.has_solution else pulp.LpStatusNotSolved,
            pulp.LpSolutionIntegerFeasible if out.has_solution else pulp.LpSolutionNoSolutionFound,
        )


def run_highs(
    prob: pulp.LpProblem,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    start: dict[pulp.LpVariable, float] | None = None,
    hook: SolutionHook | None = None,
    log: bool = False,
) -> BackendOutcome:
    """Solve in process; variables get their values when a solution exists."""
    runner = _HighsRun(
        time.perf_counter() + time_limit_s,
        start,
        hook,
        msg=log,
        timeLimit=max(time_limit_s, 0.01),
        gapRel=rel_gap,
        threads=max(threads, 1),
        random_seed=seed,
    )
    prob.solve(runner)
    return runner.outcome


_CBC_SOLUTION = re.compile(r"Integer solution of (-?[\d.eE+-]+) found.*?\(([\d.]+) seconds\)")
_CBC_BOUND = re.compile(r"^Lower bound:\s+(-?[\d.eE+-]+)", re.MULTILINE)


def run_cbc(
    prob: pulp.LpProblem,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    start: dict[pulp.LpVariable, float] | None = None,
    log: bool = False,
) -> BackendOutcome:
    """Run CBC as a subprocess and stop it from outside if it overruns its limit.

    CBC has overrun `-sec` by minutes on large models, so after `time_limit_s +
    CBC_GRACE_S` it gets SIGINT (it then writes its incumbent) and, after
    `CBC_KILL_AFTER_S` more, SIGKILL.
    """
    path = _cbc_path()
    if path is None:
        raise MilpBackendError("MILP backend 'cbc' is not available here; install CBC")
    began = time.perf_counter()
    out = BackendOutcome()
    reader = pulp.COIN_CMD(path=path, msg=False)
    with tempfile.TemporaryDirectory(prefix="milp-cbc-") as tmp:
        mps, sol, mst, logfile = (str(Path(tmp) / n) for n in ("m.mps", "m.sol", "m.mst", "log"))
        vs, var_names, con_names, _ = prob.writeMPS(mps, rename=1)
        args = [path, mps]
        if start is not None:
            for v in vs:
                v.varValue = start.get(v, 0.0)
            reader.writesol(mst, prob, vs, var_names, con_names)
            args += ["-mips", mst]
        remaining = max(time_limit_s - (time.perf_counter() - began), 0.5)
        own_limit = remaining - min(CBC_GRACE_S, 0.1 * remaining)
        args += ["-sec", f"{own_limit:.3f}", "-timeMode", "elapsed", "-ratio", f"{rel_gap:g}"]
        args += ["-threads", str(max(threads, 1)), "-randomCbcSeed", str(seed + 1)]
        args += ["-solve", "-printingOptions", "all", "-solution", sol]
        with open(logfile, "w") as log_out:
            proc = subprocess.Popen(
                args, stdout=log_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            out.stopped_by_limit = _wait_or_stop(proc, remaining, out)
        text = Path(logfile).read_text(errors="replace")
        if log:
            out.notes.append("cbc log:\n" + text[-4000:])
        for obj, secs in _CBC_SOLUTION.findall(text):
            out.trace.append((float(secs), float(obj)))
        bound = _CBC_BOUND.search(text)
        if bound is not None:
            out.bound = float(bound.group(1))
        else:
            out.notes.append("cbc: no proven bound in its log")
        if not os.path.exists(sol):
            out.status_text = "no solution file"
            return out
        _status, values, *_ = reader.readsol_MPS(sol, prob, vs, var_names, con_names)
        with open(sol) as fh:
            out.status_text = fh.readline().strip()
    _read_cbc_status(out, values)
    if out.proven_optimal and out.bound is None and out.objective is not None:
        # CBC proved optimality (within -ratio) but printed no bound line (solved early).
        out.bound = out.objective
        out.notes = [n for n in out.notes if "no proven bound" not in n]
    for v in vs:
        v.varValue = values.get(v.name, 0.0) if out.has_solution else None
    return out


def _wait_or_stop(proc: subprocess.Popen[bytes], limit_s: float, out: BackendOutcome) -> bool:
    try:
        proc.wait(timeout=limit_s)
        return False
    except subprocess.TimeoutExpired:
        pass
    out.notes.append(f"cbc overran its limit; stopped from outside after {limit_s:.1f} s")
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=CBC_KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        out.notes.append("cbc ignored SIGINT and was killed; its incumbent is lost")
    return True


def _read_cbc_status(out: BackendOutcome, values: dict[str, float]) -> None:
    # First line of CBC's solution file, e.g. "Optimal - objective value 12.00000000",
    # "Stopped on time - objective value 15.0", "Infeasible - objective value ...".
    head = out.status_text
    words = head.split()
    objective = None
    if "objective value" in head:
        with contextlib.suppress(ValueError):
            objective = float(words[-1])
    if head.startswith("Optimal"):
        out.proven_optimal = out.has_solution = True
    elif head.startswith("Infeasible") or head.startswith("Integer infeasible"):
        out.infeasible = True
    elif head.startswith("Stopped"):
        out.stopped_by_limit = True
        # Without an incumbent CBC writes its LP point: "(no integer solution - continuous used)".
        out.has_solution = "no integer solution" not in head and objective is not None
    out.objective = objective if out.has_solution else None
