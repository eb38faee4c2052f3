"""Command-line overrides of a request's RunOptions, validated like the request itself,
and the command's clock for `--time-limit`.

The basis of `--time-limit` (stated here once; the bench and docs/solver_runs.md refer
to it): the limit covers the whole command from the moment its process started
(interpreter start, imports, argument parsing, the solve, printing and writing the
results, the interpreter's exit), except reading and validating the problem file
(`load_request`), which is measured and reported separately. The solve gets what is
left after the start and a reserve for the output and exit. If nothing is left, the
greedy's first plan is returned as fast as it can be and the command exits with
`EXIT_LIMIT_MISSED`.

The process start is read from /proc by the console entry point (`allocator ...`,
`python -m allocator.cli`); a command invoked in-process (tests, embedding) counts
from the command's start instead.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError, RunOptions

__all__ = [
    "EXIT_LIMIT_MISSED",
    "CommandClock",
    "RunFlags",
    "SolveBudget",
    "count_from_process_start",
    "run_options",
    "seconds_since_process_start",
    "solve_budget",
]

#: Exit status when the start alone used the limit (documented in `allocator.cli`).
EXIT_LIMIT_MISSED = 5
#: After the solve: printing the report (or its JSON), writing files, ending the
#: process (`cli.main` skips the interpreter's teardown). Measured with `python -m
#: bench.time_limit --json` on the 2-core machine at load 7.6-7.9: 0.02-0.04 s up to
#: 4,000 x 500, 0.09 s at 20,000 x 500; kept: 0.04 s + 1e-8 s per (agent, task) pair.
_OUTPUT_FIXED_S = 0.04
_OUTPUT_PER_PAIR_S = 1e-8
#: Below this budget the greedy runs alone (in-process for small requests): in a fresh
#: process the portfolio's solver processes spend such a budget importing their
#: backends and overrun it, with no better plan. Cold library solves at load 8 on the
#: 2-core machine: 20 x 5 at 0.5 / 1.0 s took 1.02 / 1.15 s (objective 118.99) against
#: the greedy's 0.42 / 0.59 s (118.31 / 117.29); gap_c0560 0.84 / 1.00 s (1067 / 1052)
#: against 0.43 / 0.91 s (1067 / 1050).
_MIN_PORTFOLIO_S = 1.0
#: The greedy's limit when the start has already spent the whole limit: long enough for
#: its first plan, whose construction the clock cuts on large requests (no plan at all).
#: Its first plan came after 1.0 s at 4,000 x 500 and 4.6 s at 20,000 x 500 (greedy
#: alone, load 8.6 on the 2-core machine): 5e-7 s per (agent, task) pair, at least 0.01 s.
_FIRST_PLAN_S = 0.01
_FIRST_PLAN_S_PER_PAIR = 5e-7

#: --solver, --time-limit, --seed, --workers, --deterministic as the user gave them.
RunFlags = tuple[list[str] | None, float | None, int | None, int | None, bool]


def run_options(
    base: RunOptions | None,
    solvers: list[str] | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    deterministic: bool = False,
) -> RunOptions:
    """`base` (from the problem file, or defaults) with the flags the user gave on top.

    `--deterministic` only switches the option on; a request file that asks for it keeps it.
    """
    update: dict[str, object] = {}
    if solvers:
        update["solvers"] = solvers
    if time_limit is not None:
        update["time_limit_s"] = time_limit
    if seed is not None:
        update["seed"] = seed
    if workers is not None:
        update["workers"] = workers
    if deterministic:
        update["deterministic"] = True
    start = base.model_dump() if base is not None else {}
    try:
        return RunOptions.model_validate({**start, **update})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc


def seconds_since_process_start() -> float:
    """Seconds since this process started (interpreter start and imports included).

    Read from /proc (Linux): the process's start in clock ticks after boot, against the
    system's uptime; 0.0 where that is not available.
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        # Fields after the command name's closing parenthesis start at field 3;
        # field 22 is the start time in clock ticks after boot.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


#: perf_counter() at the process start, once the console entry point has read it.
_process_started: float | None = None


def count_from_process_start() -> None:
    """Make the command's clock start at the process start (the console entry point)."""
    global _process_started
    _process_started = time.perf_counter() - seconds_since_process_start()


@dataclass(frozen=True)
class CommandClock:
    """The command's clock: `started` is a perf_counter() time, `load_s` the seconds
    spent reading the problem file (not counted against the limit)."""

    started: float
    load_s: float = 0.0

    @classmethod
    def now(cls) -> CommandClock:
        """From the process start when the entry point read it, else from now."""
        return cls(_process_started if _process_started is not None else time.perf_counter())

    def spent(self) -> float:
        """Seconds counted against the limit so far."""
        return max(0.0, time.perf_counter() - self.started - self.load_s)


@dataclass(frozen=True)
class SolveBudget:
    """How the command's limit is split, in seconds, and the options the solve gets."""

    options: RunOptions
    limit_s: float  # the user's --time-limit (or the file's)
    started_s: float  # spent before the solve: process start, imports, parsing
    load_s: float  # reading the problem file, not counted
    output_s: float  # kept back for the output and the exit
    missed: bool  # nothing was left: the shortest solve only (exit EXIT_LIMIT_MISSED)
    note: str = ""  # what the budget changed, for the stderr line

    def line(self) -> str:
        """One line for stderr: where the limit goes."""
        head = (
            f"time limit {self.limit_s:g} s: start {self.started_s:.2f} s, "
            f"solve {self.options.time_limit_s:.2f} s, output and exit {self.output_s:.2f} s "
            f"(file loading {self.load_s:.2f} s, not counted)"
        )
        return f"{head}; {self.note}" if self.note else head


def output_reserve(pairs: int) -> float:
    """Seconds kept for printing, writing and exiting after a solve of `pairs` pairs."""
    return _OUTPUT_FIXED_S + _OUTPUT_PER_PAIR_S * pairs


def solve_budget(
    options: RunOptions, clock: CommandClock, pairs: int, *, replan: bool = False
) -> SolveBudget:
    """The options with the limit the solve has left on `clock` (see the module docstring).

    A budget too short for the portfolio runs the greedy alone; none at all runs it for
    about the time its first plan takes at this size (`missed`). A re-plan (`replan`)
    keeps its own method and gets that same least time when missed.
    """
    limit = options.time_limit_s
    started = clock.spent()
    output = output_reserve(pairs)
    left = limit - started - output
    missed = left <= 0
    first_plan = max(_FIRST_PLAN_S, _FIRST_PLAN_S_PER_PAIR * pairs) if missed else 0.0
    update: dict[str, object] = {"time_limit_s": max(left, _FIRST_PLAN_S, first_plan)}
    note = ""
    if missed:
        what = "re-planning in the least time" if replan else "returning the greedy's first plan"
        note = f"the start alone used the limit: {what}"
    if not replan and left < _MIN_PORTFOLIO_S:
        update["solvers"] = ["greedy"]
        note = note or "too short for the portfolio: the greedy alone"
    solve_options = options.model_copy(update=update)
    return SolveBudget(solve_options, limit, started, clock.load_s, output, missed, note)
