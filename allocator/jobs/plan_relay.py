"""Relay a running job's best incumbent plan, verified, at most every half second.

Runs inside the job's worker process. The portfolio streams incumbents (with their
assignment) through `on_progress`; this keeps the best one and, from its own thread so
the portfolio is never slowed, re-scores it with `models.evaluate_plan` and sends it
if it breaks no hard constraint. The supervisor in the service stores it, so a worker
killed mid-solve (SIGKILL, out of memory) leaves its best plan behind.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import numpy as np

from models import Problem, compile_problem, evaluate_plan
from models.compiled import CompiledProblem
from models.plan import plan_from_array
from models.progress import ProgressEvent

__all__ = ["PLAN_INTERVAL_S", "PlanRelay", "PlanSender"]

log = logging.getLogger("allocator.jobs")

# How often a better plan may be sent: one JSON plan per half second is cheap to store.
PLAN_INTERVAL_S = 0.5

# send(objective, solver, plan JSON): the objective is the plan's evaluated score.
PlanSender = Callable[[float, str, str], None]


class PlanRelay:
    """Keeps the best streamed incumbent; sends it verified, rate-limited and at close."""

    def __init__(self, problem: Problem, send: PlanSender, interval_s: float = PLAN_INTERVAL_S):
        self._problem = problem
        self._compiled: CompiledProblem | None = None  # compiled in this thread, when needed
        self._send = send
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: tuple[float, str, np.ndarray] | None = None
        self._sent_objective: float | None = None
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="plan-relay", daemon=True)
        self._thread.start()

    def offer(self, event: ProgressEvent) -> None:
        """An incumbent with its assignment: kept if it beats what is pending or sent."""
        if event.kind != "incumbent" or event.assignment is None or event.objective is None:
            return
        with self._lock:
            best = self._pending[0] if self._pending else self._sent_objective
            if best is None or event.objective < best:
                plan = np.array(event.assignment, dtype=np.int64, copy=True)
                self._pending = (float(event.objective), event.solver, plan)

    def close(self) -> None:
        """Stop the thread and send what is pending (the plan at the end)."""
        self._closed.set()
        self._thread.join(timeout=10)
        self._flush()

    def _loop(self) -> None:
        while not self._closed.wait(self._interval_s):
            self._flush()

    def _flush(self) -> None:
        try:
            self._send_pending()
        except Exception:  # keeping a plan is a safety net; it must never fail the job
            log.exception("best plan not relayed")

    def _send_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        _, solver, assignment = pending
        if self._compiled is None:
            self._compiled = compile_problem(self._problem)
        evaluation = evaluate_plan(self._compiled, assignment)
        if not evaluation.feasible:  # only a verified plan is worth keeping
            return
        plan = plan_from_array(self._compiled, assignment)
        document = {
            "solver": solver,
            "objective": evaluation.score,
            **plan.model_dump(mode="json", exclude_none=True),
        }
        with self._lock:
            self._sent_objective = evaluation.score
        self._send(evaluation.score, solver, json.dumps(document))
