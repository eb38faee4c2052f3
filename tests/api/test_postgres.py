"""The store and the service on a real PostgreSQL server (run by `.ci/postgres.sh`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from allocator.store import NewJob, Store, open_store
from tests.api.conftest import small_problem

URL = os.environ.get("ALLOCATOR_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="set ALLOCATOR_TEST_POSTGRES_URL (e.g. export it from .ci/postgres.sh) "
    "to test the PostgreSQL store",
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    assert URL is not None
    engine = create_engine(URL)
    with engine.begin() as conn:  # a fresh schema each test: migrations run from scratch
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield URL


def test_migrations_and_concurrent_claims_on_postgres(pg_url: str, tmp_path: Path) -> None:
    store: Store = open_store(pg_url, tmp_path)
    open_store(pg_url, tmp_path).close()  # a second upgrade is a no-op
    ids = {
        store.jobs.create(NewJob("allocation", "{}", f"h{k}", 1, 1, 1.0))[0].id for k in range(40)
    }
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(owner: str) -> None:
        while (job := store.jobs.claim_next(owner, 30)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"o{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids), "every job claimed exactly once"
    store.close()


def test_service_runs_jobs_and_swarms_on_postgres(
    pg_url: str, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(database_url=pg_url)
    job = client.post("/v1/allocations?wait=30", json=small_problem()).json()
    assert job["status"] == "succeeded"
    agents = {"agents": [{"id": "a0"}, {"id": "a1"}]}
    assert client.post("/v1/swarms/pg/agents", json=agents).status_code == 200
    client.post("/v1/swarms/pg/tasks", json={"tasks": [{"id": "t0"}]})
    assert client.post("/v1/swarms/pg/agents/a0/pull").json()["tasks"][0]["id"] == "t0"
    assert client.get("/readyz").status_code == 200
