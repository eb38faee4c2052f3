"""Small `?wait` jobs answered from memory: the record and result a finish returns are
the ones stored, leases renew in one statement, and the inline result is the stored one."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from allocator.store import JobOutcome, NewJob, open_store
from tests.api.conftest import small_problem


def _job(body: str) -> NewJob:
    return NewJob("allocation", body, f"sha-{body}", 2, 3, 1.0)


def test_finish_record_is_the_stored_job_and_none_without_the_lease(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    job, _ = store.jobs.create(_job("{}"), lease_owner="a", lease_s=30)
    outcome = JobOutcome("succeeded", "completed", "feasible", 2.5, 2.0, '{"x": 1}')
    assert store.jobs.finish_record(job.id, "b", outcome) is None  # not b's lease
    finished = store.jobs.finish_record(job.id, "a", outcome)
    assert finished is not None
    assert finished == store.jobs.get(job.id)
    assert finished.status == "succeeded" and finished.objective == 2.5
    assert finished.best_bound == 2.0 and finished.has_result and finished.final
    assert store.jobs.finish_record(job.id, "a", outcome) is None  # written once only


def test_renew_all_extends_only_the_owners_running_leases(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    mine = [store.jobs.create(_job(str(k)), lease_owner="a", lease_s=0.0)[0] for k in range(3)]
    other, _ = store.jobs.create(_job("other"), lease_owner="b", lease_s=0.0)
    store.jobs.finish(mine[2].id, "a", JobOutcome("succeeded", "completed", "feasible"))
    ids = [job.id for job in mine] + [other.id]
    assert store.jobs.renew_all(ids, "a", lease_s=60) == 2
    assert store.jobs.renew_all([], "a", lease_s=60) == 0
    # Only b's job has an expired lease now.
    assert store.jobs.requeue_expired(now=time.time() + 1) == 1
    assert store.jobs.get(other.id).status == "queued"  # type: ignore[union-attr]
    assert store.jobs.get(mine[0].id).status == "running"  # type: ignore[union-attr]


def test_inline_result_is_the_stored_result(client: TestClient) -> None:
    doc = small_problem(solvers=["greedy"], time_limit_s=0.2)
    answer = client.post("/v1/allocations?wait=30", json=doc)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert answer.headers["location"] == f"/v1/jobs/{body['id']}"
    assert body["status"] == "succeeded" and body["finished_at"] is not None
    stored = client.get(f"/v1/jobs/{body['id']}").json()
    assert stored["result"] is None  # inline only when ?wait saw the job finish
    assert {**body, "result": None} == stored
    assert body["result"] == json.loads(client.get(f"/v1/jobs/{body['id']}/result").text)
    assert body["objective"] == body["result"]["chosen"]["objective"]
