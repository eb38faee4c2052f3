"""Solve the model with CBC: PuLP writes it as MPS, CBC runs as a killable subprocess.

CBC has overrun `-sec` by minutes on large models, so after its limit plus
`CBC_GRACE_S` it gets SIGINT (it then writes its incumbent) and, `CBC_KILL_AFTER_S`
later, SIGKILL. Incumbent times and the bound come from CBC's log (its own text; a
CBC release that rewords those lines loses the trace and the bound, never the plan).
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pulp

from solvers.milp.backends import BackendOutcome, BackendSettings, MilpBackendError, cbc_path
from solvers.milp.export import to_pulp
from solvers.milp.model import MilpModel

__all__ = ["CBC_GRACE_S", "CBC_KILL_AFTER_S", "run_cbc", "wait_or_stop"]

#: CBC's own limit ends up to this long (10% of the budget at most) before ours; at our
#: limit it gets SIGINT (it then writes its incumbent), CBC_KILL_AFTER_S later SIGKILL.
CBC_GRACE_S = 1.0
CBC_KILL_AFTER_S = 1.0

_CBC_SOLUTION = re.compile(r"Integer solution of (-?[\d.eE+-]+) found.*?\(([\d.]+) seconds\)")
_CBC_BOUND = re.compile(r"^Lower bound:\s+(-?[\d.eE+-]+)", re.MULTILINE)


def run_cbc(
    model: MilpModel,
    objective: np.ndarray,
    settings: BackendSettings,
    start: np.ndarray | None = None,
) -> BackendOutcome:
    """Minimise `objective` over the model with CBC, stopped from outside if it overruns."""
    path = cbc_path()
    if path is None:
        raise MilpBackendError("MILP backend 'cbc' is not available here; install CBC")
    began = time.perf_counter()
    prob, columns = to_pulp(model, objective)
    reader = pulp.COIN_CMD(path=path, msg=False)
    out = BackendOutcome()
    with tempfile.TemporaryDirectory(prefix="milp-cbc-") as tmp:
        mps, sol, mst, logfile = (str(Path(tmp) / n) for n in ("m.mps", "m.sol", "m.mst", "log"))
        written, var_names, con_names, _ = prob.writeMPS(mps, rename=1)
        args = [path, mps]
        if start is not None:
            for column, value in zip(columns, start.tolist(), strict=True):
                column.varValue = value
            reader.writesol(mst, prob, written, var_names, con_names)
            args += ["-mips", mst]
        remaining = max(settings.time_limit_s - (time.perf_counter() - began), 0.5)
        args += _arguments(settings, remaining, sol)
        with open(logfile, "w") as log_out:
            proc = subprocess.Popen(
                args, stdout=log_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            out.stopped_by_limit = wait_or_stop(proc, remaining, out)
        _read_log(Path(logfile).read_text(errors="replace"), settings.log, out)
        if not Path(sol).exists():
            out.status_text = "no solution file"
            return out
        _status, values, *_ = reader.readsol_MPS(sol, prob, written, var_names, con_names)
        out.status_text = (Path(sol).read_text().splitlines() or [""])[0].strip()
    _read_status(out)
    if out.has_solution:
        out.values = [values.get(column.name, 0.0) for column in columns]
    return out


def _arguments(settings: BackendSettings, remaining_s: float, solution_file: str) -> list[str]:
    own_limit = remaining_s - min(CBC_GRACE_S, 0.1 * remaining_s)
    return [
        *("-sec", f"{own_limit:.3f}", "-timeMode", "elapsed", "-ratio", f"{settings.rel_gap:g}"),
        *("-threads", str(max(settings.threads, 1)), "-randomCbcSeed", str(settings.seed + 1)),
        *("-solve", "-printingOptions", "all", "-solution", solution_file),
    ]


def _read_log(text: str, keep: bool, out: BackendOutcome) -> None:
    """Incumbents (time, objective) and the proven bound from CBC's log."""
    if keep:
        out.notes.append("cbc log:\n" + text[-4000:])
    for objective, seconds in _CBC_SOLUTION.findall(text):
        out.trace.append((float(seconds), float(objective)))
    bound = _CBC_BOUND.search(text)
    if bound is not None:
        out.bound = float(bound.group(1))
    else:
        out.notes.append("cbc: no proven bound in its log")


def wait_or_stop(proc: subprocess.Popen[bytes], limit_s: float, out: BackendOutcome) -> bool:
    """Wait up to limit_s, then SIGINT, then SIGKILL; True when it had to be stopped."""
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


def _read_status(out: BackendOutcome) -> None:
    # First line of CBC's solution file, e.g. "Optimal - objective value 12.00000000",
    # "Stopped on time - objective value 15.0", "Infeasible - objective value ...".
    head = out.status_text
    objective = None
    if "objective value" in head:
        with contextlib.suppress(ValueError):
            objective = float(head.split()[-1])
    if head.startswith("Optimal"):
        out.proven_optimal = out.has_solution = True
    elif head.startswith("Infeasible") or head.startswith("Integer infeasible"):
        out.infeasible = True
    elif head.startswith("Stopped"):
        out.stopped_by_limit = True
        # Without an incumbent CBC writes its LP point: "(no integer solution - continuous used)".
        out.has_solution = "no integer solution" not in head and objective is not None
    out.objective = objective if out.has_solution else None
    if out.proven_optimal and out.bound is None and out.objective is not None:
        # CBC proved optimality (within -ratio) but printed no bound line (solved early).
        out.bound = out.objective
        out.notes = [n for n in out.notes if "no proven bound" not in n]
