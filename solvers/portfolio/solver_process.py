"""Run one solver in its own process and stream its incumbents back.

Streaming means the parent keeps the best plan even when it must kill a solver
that overran its limit (CBC has overrun by minutes) or when the user cancels.
Each solver process leads its own session (process group), so stopping it also
stops what it started (CBC runs as a subprocess): the whole group is killed.
Plans can also flow the other way: `send_plan` puts another solver's plan in the
child's inbox, which the solver reads through `SolveOptions.new_peer_plans`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.registry import get_solver

__all__ = ["SolverProcess", "StreamedIncumbent", "mp_context"]

# Do not flood the pipe: one incumbent per solver per this many seconds (the last
# one before the result is always sent with the result itself).
_INCUMBENT_INTERVAL_S = 0.25
#: Kept back from a solver's budget because engines check their clocks coarsely: on
#: e20100 with 3 s and both cores busy HiGHS returned up to 47 ms late and the LNS up to
#: 27 ms; in the portfolio, beside each other, both were stopped from outside at 10 s
#: (budget + 50 ms, the hard stop) instead of returning their own results.
_OVERSHOOT_S = 0.04
# ... except in the last this many seconds of the solver's budget, where every
# improvement goes out at once: a solver stopped from outside at the request's limit
# would otherwise lose a plan found in its last interval.
_CLOSING_S = 0.5


def mp_context() -> BaseContext:
    """fork where available (no re-import of OR-Tools per solve), else spawn."""
    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


@dataclass
class StreamedIncumbent:
    """The best plan a solver has reported so far."""

    assignment: np.ndarray
    objective: float
    elapsed_s: float


@dataclass
class SolverProcess:
    """A solver running in a child process; poll() drains its messages."""

    name: str
    process: Any
    channel: Any
    started: float
    deadline: float
    result: SolveResult | None = None
    incumbent: StreamedIncumbent | None = None
    trace: list[tuple[float, float]] = field(default_factory=list)
    first_incumbent_s: float | None = None
    inbox: Any = None  # plans from the other solvers of the request, when it takes them

    @classmethod
    def start(
        cls,
        name: str,
        problem: CompiledProblem,
        options: SolveOptions,
        ctx: BaseContext,
        takes_peer_plans: bool = False,
    ) -> SolverProcess:
        channel = ctx.Queue()
        inbox = ctx.Queue() if takes_peer_plans else None
        if inbox is not None:
            # A child that ends without reading its inbox must not hold up the parent's exit.
            inbox.cancel_join_thread()
        # on_incumbent and peer_plans are closures; they cannot cross a process boundary.
        options.on_incumbent = None
        options.peer_plans = None
        launched = time.monotonic()  # one clock for every process (see _budget_left)
        proc = ctx.Process(  # type: ignore[attr-defined]
            target=_child_main,
            args=(name, problem, options, channel, inbox, launched),
            daemon=True,
        )
        started = time.perf_counter()
        proc.start()
        return cls(
            name=name,
            process=proc,
            channel=channel,
            started=started,
            deadline=started + options.time_limit_s,
            inbox=inbox,
        )

    def send_plan(self, assignment: np.ndarray) -> bool:
        """Put another solver's plan in this child's inbox; False when it takes none."""
        if self.inbox is None or self.done:
            return False
        self.inbox.put(np.asarray(assignment, dtype=np.int32))
        return True

    def poll(self) -> list[StreamedIncumbent]:
        """Drain pending messages; returns new incumbents (in arrival order)."""
        if not self.process.is_alive():
            self._read_what_is_there()
        fresh: list[StreamedIncumbent] = []
        while True:
            try:
                kind, payload = self.channel.get_nowait()
            except (queue.Empty, EOFError, OSError):
                break
            if kind == "incumbent":
                assignment, objective, elapsed = payload
                inc = StreamedIncumbent(np.asarray(assignment), float(objective), elapsed)
                if self.incumbent is None or inc.objective < self.incumbent.objective:
                    self.incumbent = inc
                    if self.first_incumbent_s is None:
                        self.first_incumbent_s = elapsed
                    self.trace.append((inc.elapsed_s, inc.objective))
                    fresh.append(inc)
            elif kind == "result":
                self.result = payload
        return fresh

    @property
    def done(self) -> bool:
        return self.result is not None

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def kill(self, reason: StopReason, note: str) -> SolveResult:
        """Stop the child now and build a result from what it streamed."""
        self.poll()
        if self.result is not None:
            self.reap()
            return self.result
        self.kill_group()
        self.poll()
        if self.result is not None:
            return self.result
        elapsed = time.perf_counter() - self.started
        inc = self.incumbent
        self.result = SolveResult(
            solver=self.name,
            status=SolveStatus.FEASIBLE if inc is not None else SolveStatus.NO_SOLUTION,
            stop_reason=reason,
            assignment=inc.assignment if inc is not None else None,
            objective=inc.objective if inc is not None else None,
            trace=list(self.trace),
            wall_time_s=elapsed,
            time_to_first_s=self.first_incumbent_s,
            time_to_best_s=inc.elapsed_s if inc is not None else None,
            notes=[note],
        )
        return self.result

    def kill_group(self) -> None:
        """SIGKILL the solver's process group (it and anything it started), then reap it."""
        self._kill_own_group()
        if self.process.is_alive():
            self.process.kill()  # the child had not reached setsid() yet
        self.process.join(timeout=2)
        # Once more: a child between the first killpg and its own kill may have made its
        # group and started a process in it (a CI run was left one). A group outlives its
        # leader while it has members, and its id is not reused meanwhile.
        self._kill_own_group()
        self._read_what_is_there()

    def _kill_own_group(self) -> None:
        pid = self.process.pid
        if pid is not None and hasattr(os, "killpg"):
            # The child made itself a session leader, so its pid is its group id. Once
            # reaped and its group empty, the id is gone and killpg finds nothing.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def _read_what_is_there(self) -> None:
        """Once the child is gone: a child killed while writing a message leaves half of
        it in the pipe, and other children hold its write end open, so a blocking read
        would wait forever. Only what is already in the pipe is read from now on (a half
        message reads as an error)."""
        with contextlib.suppress(OSError, AttributeError, ValueError):
            os.set_blocking(self.channel._reader.fileno(), False)

    def reap(self) -> None:
        """After a result: let the child exit, then stop any process it left behind."""
        self.process.join(timeout=1)
        self.kill_group()

    def crashed(self) -> SolveResult:
        """The child died without a result (segfault, OOM kill)."""
        code = self.process.exitcode
        result = self.kill(StopReason.ERROR, f"process exited with code {code}")
        if result.assignment is None:
            result.status = SolveStatus.ERROR
            result.error = f"solver process exited with code {code} without a result"
        return result


def _silence_stdout() -> None:
    """Native backends print banners from C++; the parent's stdout may carry --json."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _reset_highs_scheduler() -> None:
    """A forked child inherits HiGHS's thread scheduler from the parent; a solve with
    another thread count then ends with model status "Not Set". Start it afresh."""
    highspy = sys.modules.get("highspy")
    if highspy is not None:
        # An older highspy without the call has nothing to reset.
        with contextlib.suppress(Exception):
            highspy.Highs.resetGlobalScheduler(True)


class _IncumbentStream:
    """Sends the child's incumbents to the parent, at most one per interval.

    A held improvement goes out once its interval has passed (a background flush), not
    only when the solver returns: a solver that improves only in its first 0.2 s and is
    then killed or cancelled must still have streamed its best plan. In the last
    `_CLOSING_S` of its budget every improvement goes out at once.
    """

    def __init__(self, channel: Any, start: float, budget_s: float = float("inf")):
        self.channel, self.start = channel, start
        self.closing_at = start + budget_s - _CLOSING_S
        self.last_sent = 0.0
        self.pending: list[tuple[np.ndarray, float, float]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._flush_held, name="incumbent-flush", daemon=True).start()

    def offer(self, assignment: np.ndarray, objective: float) -> None:
        now = time.perf_counter()
        item = (np.asarray(assignment, dtype=np.int32).copy(), float(objective), now - self.start)
        with self.lock:
            if now - self.last_sent >= _INCUMBENT_INTERVAL_S or now >= self.closing_at:
                self.channel.put(("incumbent", item))
                self.last_sent = now
                self.pending.clear()
            else:
                self.pending[:] = [item]

    def flush(self) -> None:
        with self.lock:
            if self.pending:
                self.channel.put(("incumbent", self.pending[0]))
                self.pending.clear()
                self.last_sent = time.perf_counter()

    def _flush_held(self) -> None:
        while True:
            time.sleep(_INCUMBENT_INTERVAL_S)
            self.flush()


def _solve_safely(
    name: str,
    problem: CompiledProblem,
    options: SolveOptions,
    launched: float,
    stream: _IncumbentStream,
) -> SolveResult:
    start = time.perf_counter()
    try:
        solver = get_solver(name)  # imports the engine here unless the parent had it
        if options.deterministic and options.work_limit_s is None:
            options.work_limit_s = options.time_limit_s  # work sized as the parent asked
        options.time_limit_s = _budget_left(options.time_limit_s, launched, time.monotonic())
        stream.closing_at = time.perf_counter() + options.time_limit_s - _CLOSING_S
        return solver.solve(problem, options)
    except BaseException as exc:  # a crashing solver must never fail the request
        return SolveResult(
            solver=name,
            status=SolveStatus.ERROR,
            stop_reason=StopReason.ERROR,
            error=f"{type(exc).__name__}: {exc}",
            notes=[traceback.format_exc(limit=5)],
            wall_time_s=time.perf_counter() - start,
        )


def _drain_inbox(inbox: Any) -> list[np.ndarray]:
    """Every plan waiting in the inbox, oldest first."""
    plans = []
    while True:
        try:
            plans.append(inbox.get_nowait())
        except (queue.Empty, EOFError, OSError):
            return plans


def _budget_left(limit_s: float, launched: float, now: float) -> float:
    """The solver's budget once it starts: `limit_s` counts from the parent's start of
    the process, so the fork (longer from a large parent) and the start-up, including the
    engine's import when the parent had not imported it yet, are spent.

    Engines also check their clocks coarsely, so `_OVERSHOOT_S` more is kept back.
    `launched` and `now` are `time.monotonic()` readings in two processes: one
    system-wide clock (CLOCK_MONOTONIC on Linux). Without this a solver's own clock ran
    that lag past the parent's deadline: 8-20 ms for the fork from a small parent, and
    0.4 s on a fresh process's first request (e20100: the LNS and HiGHS imported in their
    processes, then each ran its whole budget, and both were stopped from outside).
    """
    lag = now - launched
    if lag < 0.0:
        return limit_s  # a clock that does not agree across processes: keep the budget
    # A child that started after its whole budget still gets a tenth of it to answer
    # with something (the parent waits for a first plan; see schedule_runner._poll).
    return max(limit_s - lag - min(_OVERSHOOT_S, 0.03 * limit_s), 0.1 * limit_s)


def _child_main(
    name: str,
    problem: CompiledProblem,
    options: SolveOptions,
    channel: Any,
    inbox: Any,
    launched: float,
) -> None:
    """Entry point in the child process."""
    if hasattr(os, "setsid"):
        # Its own session: the parent stops this process and its children as one group.
        with contextlib.suppress(OSError):
            os.setsid()
    _silence_stdout()
    _reset_highs_scheduler()
    stream = _IncumbentStream(channel, time.perf_counter())  # its closing: _solve_safely
    options.on_incumbent = stream.offer
    if inbox is not None:
        options.peer_plans = lambda: _drain_inbox(inbox)
    result = _solve_safely(name, problem, options, launched, stream)
    stream.flush()
    result.solver = name
    channel.put(("result", result))
    channel.close()
    channel.join_thread()
