"""The job store: migrations, leases, exactly-once finish, re-queue of expired leases."""

from __future__ import annotations

import json
import time
from pathlib import Path

from allocator.store import JobOutcome, NewJob, open_store


def _job(key: str | None = None, body: str = "{}") -> NewJob:
    return NewJob("allocation", body, f"sha-{body}", 2, 3, 1.0, key)


def test_migrations_are_idempotent_and_reopen(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    created, _ = store.jobs.create(_job())
    store.close()
    again = open_store(None, tmp_path)
    assert again.jobs.get(created.id) is not None
    mode = again.engine.connect().exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def test_one_claim_one_finish(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    job, _ = store.jobs.create(_job())
    claimed = store.jobs.claim_next("a", lease_s=30)
    assert claimed is not None and claimed.id == job.id and claimed.attempts == 1
    assert store.jobs.claim_next("b", lease_s=30) is None
    outcome = JobOutcome("succeeded", "completed", "feasible", 1.0, None, '{"x": 1}')
    assert store.jobs.finish(job.id, "b", outcome) is False  # not b's lease
    assert store.jobs.finish(job.id, "a", outcome) is True
    assert store.jobs.finish(job.id, "a", outcome) is False  # once only
    assert store.jobs.result_text(job.id) == '{"x": 1}'


def test_expired_lease_is_requeued_and_old_owner_cannot_finish(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    job, _ = store.jobs.create(_job())
    store.jobs.claim_next("dead", lease_s=0.01)
    time.sleep(0.05)
    assert store.jobs.requeue_expired() == 1
    again = store.jobs.claim_next("alive", lease_s=30)
    assert again is not None and again.attempts == 2
    outcome = JobOutcome("succeeded", "completed", "feasible")
    assert store.jobs.renew(job.id, "dead", 30) is None
    assert store.jobs.finish(job.id, "dead", outcome) is False
    assert store.jobs.finish(job.id, "alive", outcome) is True


def test_jobs_that_keep_crashing_stop_after_max_attempts(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    job, _ = store.jobs.create(_job())
    for _ in range(3):
        store.jobs.claim_next("x", lease_s=0.0)
        store.jobs.requeue_expired(now=time.time() + 1)
    assert store.jobs.fail_exhausted(3) == 1
    final = store.jobs.get(job.id)
    assert final is not None and final.status == "failed" and final.error


def test_cancel_queued_is_immediate_running_is_flagged(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    queued, _ = store.jobs.create(_job(body="1"))
    running, _ = store.jobs.create(_job(body="2"))
    store.jobs.claim_next("r", 30)  # the oldest: `queued`
    first = store.jobs.request_cancel(queued.id)
    assert first is not None and first.cancel_requested
    second = store.jobs.request_cancel(running.id)
    assert second is not None and second.status == "cancelled"


def test_best_plan_survives_a_crashed_attempt_and_becomes_the_failed_result(
    tmp_path: Path,
) -> None:
    store = open_store(None, tmp_path)
    job, _ = store.jobs.create(_job())
    store.jobs.claim_next("first", lease_s=0.0)
    plan = '{"solver": "greedy", "objective": 5.0, "assignments": {"t": "a"}, "unassigned": []}'
    assert store.jobs.record_best_plan(job.id, "first", 5.0, plan) is True
    assert store.jobs.record_best_plan(job.id, "first", 7.0, '{"objective": 7.0}') is False
    store.jobs.requeue_expired(now=time.time() + 1)  # the first worker crashed
    assert store.jobs.claim_next("second", lease_s=0.0, max_attempts=2) is not None
    assert store.jobs.record_best_plan(job.id, "second", 6.0, '{"objective": 6.0}') is False
    store.jobs.requeue_expired(now=time.time() + 1)
    assert store.jobs.claim_next("third", lease_s=30, max_attempts=2) is None  # exhausted
    assert store.jobs.fail_exhausted(2) == 1
    final = store.jobs.get(job.id)
    assert final is not None and final.status == "failed" and final.objective == 5.0
    result = json.loads(store.jobs.result_text(job.id) or "{}")
    assert result["status"] == "failed" and result["best_plan"]["assignments"] == {"t": "a"}
    assert result["error"] == final.error
