"""The solver circuit breaker of a service, carried across its jobs.

Each job runs in a fresh process, so a breaker kept there forgets everything when
the job ends. The runner keeps the service's breaker state here instead: every job
gets a snapshot (`SolverBreaker.to_dict`), the portfolio updates it, and the job's
updated state comes back with its outcome and is merged solver by solver (a solver
the job did not change keeps whatever other jobs recorded meanwhile). The state is
saved in the store, so a restart remembers which solvers keep failing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from solvers.portfolio.breaker import SolverBreaker

__all__ = ["BreakerBoard", "BreakerView"]

log = logging.getLogger("allocator.jobs")

BreakerView = dict[str, dict[str, Any]]  # solver -> {failures, opens, open, open_for_s}
SETTING_KEY = "solver_breaker"


class BreakerBoard:
    """Thread-safe holder of the breaker state (the JSON form `SolverBreaker` reads)."""

    def __init__(
        self,
        load: Callable[[str], str | None] | None = None,
        save: Callable[[str, str], None] | None = None,
    ):
        self._lock = threading.Lock()
        self._save = save
        self._state: dict[str, Any] = SolverBreaker().to_dict()
        saved = _read(load)
        if saved is not None:
            self._state = SolverBreaker.from_dict(saved).to_dict()

    def snapshot(self) -> dict[str, Any]:
        """The state to hand to a job (a copy)."""
        with self._lock:
            return json.loads(json.dumps(self._state))

    def merge(self, sent: dict[str, Any], returned: dict[str, Any] | None) -> None:
        """Take the solvers whose state the job changed from what it was sent."""
        if not returned:
            return
        before = sent.get("solvers", {})
        changed = {
            name: state
            for name, state in returned.get("solvers", {}).items()
            if before.get(name) != state
        }
        if not changed:
            return
        with self._lock:
            self._state.setdefault("solvers", {}).update(changed)
            text = json.dumps(self._state)
        self._persist(text)

    def view(self) -> BreakerView:
        """Per solver: consecutive failures, times opened, open now, seconds left open."""
        now = time.time()
        with self._lock:
            solvers = dict(self._state.get("solvers", {}))
        return {
            name: {
                "failures": int(s.get("failures", 0)),
                "opens": int(s.get("opens", 0)),
                "open": float(s.get("open_until_epoch", 0.0)) > now,
                "open_for_s": max(0.0, float(s.get("open_until_epoch", 0.0)) - now),
            }
            for name, s in sorted(solvers.items())
        }

    def _persist(self, text: str) -> None:
        if self._save is None:
            return
        try:
            self._save(SETTING_KEY, text)
        except Exception as exc:  # the breaker must never fail a job; memory still has it
            log.warning("solver breaker state not saved", extra={"reason": str(exc)[:200]})


def _read(load: Callable[[str], str | None] | None) -> dict[str, Any] | None:
    if load is None:
        return None
    try:
        text = load(SETTING_KEY)
        return json.loads(text) if text else None
    except Exception as exc:  # a corrupt or unreadable state starts afresh
        log.warning("solver breaker state not loaded", extra={"reason": str(exc)[:200]})
        return None
