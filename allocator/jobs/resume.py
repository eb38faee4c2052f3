"""A retried job starts from the best plan its earlier attempt left in the store.

The plan relay (`plan_relay`) stores a running job's best verified plan as JSON; when
the job's worker dies and the job runs again, that document is handed to the new run
as its warm start (`run_portfolio(warm_start=...)`).
"""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError

from models import Plan

__all__ = ["stored_plan"]

log = logging.getLogger("allocator.jobs")


def stored_plan(document: str | None, job_id: str = "") -> Plan | None:
    """The plan in a stored best-plan document; None when absent or unreadable.

    An unreadable document only costs the warm start, never the job.
    """
    if not document:
        return None
    try:
        data = json.loads(document)
        return Plan.model_validate(
            {k: data[k] for k in ("assignments", "unassigned", "schedule") if k in data}
        )
    except (ValueError, TypeError, ValidationError) as exc:
        log.warning(
            "stored best plan unreadable; the job starts afresh",
            extra={"job_id": job_id, "reason": str(exc)[:200]},
        )
        return None
