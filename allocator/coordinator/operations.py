"""The operator's face of the coordinator: plans, rebalancing, tuning, snapshots, KPIs.

`Coordinator` inherits it; the hot paths (submit, pull, complete) live in `core`.
"""

from __future__ import annotations

import dataclasses

from allocator.coordinator import plans, rebalancing, resolution, validation
from allocator.coordinator.events import ApplyPlan, Command, Rebalance, ResolveDeclined
from allocator.coordinator.kpis import Metrics, compute_metrics
from allocator.coordinator.live_settings import (
    LiveSettings,
    apply_settings,
    check_settings,
    live_settings,
)
from allocator.coordinator.operator_view import CoordinatorSnapshot, take_snapshot
from allocator.coordinator.records import DEAD, DONE, STATE_NAMES
from allocator.coordinator.state import CoordinatorState
from allocator.coordinator.stealing import StealPolicy
from models import Plan

__all__ = ["CoordinatorOperations"]


class CoordinatorOperations(CoordinatorState):
    """Plan application, rebalancing, live settings and every read an operator makes."""

    tenant_weights: dict[str, float]
    steal_policy: StealPolicy | None

    def apply_plan(self, plan: Plan) -> plans.PlanResult:
        """Move queued tasks to their planned agents; count migrations. O(|plan|)."""
        return plans.apply_plan(self, plan, self._clock())

    def rebalance(
        self,
        strategy: str = "threshold",
        *,
        tolerance: float = 0.2,
        margin: float = 0.1,
        migration_weight: float = 0.05,
        max_moves: int | None = None,
    ) -> rebalancing.Outcome:
        """Rebalance now (see `Rebalance`). Raises CoordinatorError on a bad argument.

        "threshold" moves tasks at once; "adaptive" moves nothing yet: its outcome's
        `request` is a `ResolveRequested` to answer with `answer_resolve`.
        """
        event = Rebalance(strategy, tolerance, margin, migration_weight, max_moves)
        rebalancing.check_rebalance(event)
        now = self._clock()
        if strategy == "threshold":
            return rebalancing.threshold(self, now, tolerance)
        return resolution.request_resolve(self, now, event)

    def answer_resolve(self, answer: ApplyPlan | ResolveDeclined) -> rebalancing.Outcome:
        """Close the re-solve in flight: apply its plan to tasks still queued, or not."""
        return resolution.finish_resolve(self, answer, self._clock())

    def tune(
        self,
        *,
        lease_timeout_s: float | None = None,
        heartbeat_timeout_s: float | None = None,
        max_retries: int | None = None,
        prefetch: int | None = None,
        steal_threshold: int | None = None,
        aging_s: float | None = None,
    ) -> LiveSettings:
        """Change live settings (None: keep); returns the settings now in force.

        Raises TuningError (nothing changed) naming the first bad value. A knob this
        coordinator's policy or discipline lacks is checked, then ignored (None in the
        result). Leases and heartbeat watches in progress take the new timeouts.
        """
        changes = {k: v for k, v in locals().items() if k != "self" and v is not None}
        check_settings(changes)
        apply_settings(self, dataclasses.replace(live_settings(self), **changes))
        return live_settings(self)

    def snapshot(self) -> CoordinatorSnapshot:
        """What operators read (agents, KPIs, settings), frozen. O(agents + window)."""
        return take_snapshot(self)

    def metrics(self) -> Metrics:
        """One snapshot of every KPI. O(agents + latency window)."""
        return compute_metrics(
            self.kpi,
            self.agent_list,
            self._clock(),
            queued_global=len(self.global_queue),
            tenant_weights=self.tenant_weights,
            breakers_open=sum(1 for a in self.agent_list if a.breaker.state == "open"),
            waiting=len(self.deps.waiting),
            held=len(self.deps.held),
        )

    def validate(self) -> None:
        """Raise AssertionError if any invariant is broken. O(tasks + agents)."""
        validation.validate(self)

    def task_state(self, task_id: str) -> str:
        """ "queued", "leased", "done", "dead" or "unknown". O(1)."""
        task = self.tasks.get(task_id) or self.deps.waiting.get(task_id)
        if task is not None or (task := self.deps.held.get(task_id)) is not None:
            return STATE_NAMES[task.state]
        if task_id in self.done:
            return STATE_NAMES[DONE]
        return STATE_NAMES[DEAD] if task_id in self.dead else "unknown"

    def held_tasks(self) -> dict[str, str]:
        """Held task ids -> the dead-lettered predecessor that blocks each."""
        return dict(self.deps.blocked_by)

    def dead_letters(self) -> dict[str, list[str]]:
        """Dead-lettered task ids with their errors."""
        return {tid: list(t.errors or []) for tid, t in self.dead.items()}

    def drain_commands(self) -> list[Command]:
        """Side-effect commands since the last drain (migrations, requeues, breakers)."""
        out, self.outbox = self.outbox, []
        return out
