"""Faults: SIGKILL or SIGTERM of the service with 20 jobs in flight, on SQLite and PostgreSQL.

    python -m bench.faults [--jobs 20] [--postgres-url URL] [--only sqlite-SIGKILL ...]

Per store and signal: start the real service (two job slots, a warm pool), submit
`--jobs` allocation jobs (each with an Idempotency-Key), signal the service once two
are running, count its descendants still alive 5 s after it exited, start it again
on the same store, replay one submission (it must name the same job), and wait for
every job to end. Counted:

- lost: accepted jobs the restarted service does not list, or that never end;
- extra: jobs listed that were not accepted (a replay that made a second job);
- finished twice: jobs whose status or finish time changed after they were first
  seen ended (a second runner writing another outcome);
- left: processes of the signalled service alive 5 s after it exited;
- retried: jobs whose attempts count reached 2 (a SIGKILL interrupts them; a SIGTERM
  hands running jobs back to the queue without counting an attempt).

PostgreSQL runs when `--postgres-url` or ALLOCATOR_TEST_POSTGRES_URL is set (from
`.ci/postgres.sh`); its public schema is emptied before each run.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text

from models.generators.instances import generate_attribute_problem
from tests.api.service_process import ServiceProcess

__all__ = ["main"]

_GONE_WITHIN_S = 5.0
_SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM}


@dataclass
class FaultRun:
    """What one signal did to the jobs in flight."""

    scenario: str
    accepted: int
    in_flight: int  # accepted and not ended when the signal was sent
    lost: int
    extra: int
    finished_twice: int
    left: int
    retried: int  # jobs that ran more than once (interrupted, then run again)
    seconds_to_settle: float


def _document(seed: int) -> dict[str, object]:
    doc = generate_attribute_problem(120, 12, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 1.5}
    return doc


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                out.append(process)
        except psutil.NoSuchProcess:
            pass
    return out


def _submit_all(client: httpx.Client, n_jobs: int) -> dict[str, str]:
    """Job id -> its Idempotency-Key, for every accepted submission."""
    accepted = {}
    for seed in range(n_jobs):
        key = f"fault-{seed}"
        response = client.post(
            "/v1/allocations", json=_document(seed), headers={"Idempotency-Key": key}
        )
        if response.status_code == 202:
            accepted[response.json()["id"]] = key
    return accepted


def _signal_and_count_left(service: ServiceProcess, signum: int) -> int:
    """Send `signum`; the service's descendants still alive 5 s after it exited."""
    assert service.process is not None
    descendants = psutil.Process(service.process.pid).children(recursive=True)
    service.process.send_signal(signum)
    service.process.wait(timeout=60)
    deadline = time.monotonic() + _GONE_WITHIN_S
    while _alive(descendants) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(descendants)
    for process in left:  # counted; do not leak them into the next run
        process.kill()
    return len(left)


def _settle(client: httpx.Client, accepted: dict[str, str], timeout_s: float) -> tuple[int, int]:
    """Wait for every job to end; (never ended or unknown, changed after it ended)."""
    first_end: dict[str, tuple[str, str]] = {}
    changed: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for job_id in accepted:
            response = client.get(f"/v1/jobs/{job_id}")
            if response.status_code != 200:
                continue
            job = response.json()
            if job["status"] in ("queued", "running"):
                if job_id in first_end:
                    changed.add(job_id)  # ended, then ran again
                continue
            seen = (job["status"], str(job["finished_at"]))
            if first_end.setdefault(job_id, seen) != seen:
                changed.add(job_id)
        if len(first_end) == len(accepted):
            time.sleep(2.0)  # one more look: a late second outcome would show now
            for job_id in accepted:
                job = client.get(f"/v1/jobs/{job_id}").json()
                if (job["status"], str(job["finished_at"])) != first_end[job_id]:
                    changed.add(job_id)
            break
        time.sleep(0.5)
    return len(accepted) - len(first_end), len(changed)


def _one_run(scenario: str, store: dict[str, str], signum: int, n_jobs: int) -> FaultRun:
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"max_concurrent_jobs": "2", "fast_workers": "1", "job_lease_s": "3", **store}
        service = ServiceProcess(Path(tmp) / "data", None, **settings)
        service.start()
        try:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                accepted = _submit_all(client, n_jobs)
                while len(client.get("/v1/jobs?status=running").json()["items"]) < 2:
                    time.sleep(0.05)
                time.sleep(0.5)  # mid-solve
                ended = client.get("/v1/jobs?limit=100").json()["items"]
                in_flight = sum(j["status"] in ("queued", "running") for j in ended)
            left = _signal_and_count_left(service, signum)
            started = time.monotonic()
            service.start()
            with httpx.Client(base_url=service.url, timeout=60) as client:
                replay = client.post(
                    "/v1/allocations", json=_document(0), headers={"Idempotency-Key": "fault-0"}
                )
                never_ended, twice = _settle(client, accepted, timeout_s=600)
                listed = client.get("/v1/jobs?limit=500").json()["items"]
        finally:
            service.kill()
    ids = {j["id"] for j in listed}
    extra = len(ids - set(accepted)) + (replay.json().get("id") not in accepted)
    return FaultRun(
        scenario=scenario,
        accepted=len(accepted),
        in_flight=in_flight,
        lost=len(set(accepted) - ids) + never_ended,
        extra=extra,
        finished_twice=twice,
        left=left,
        retried=sum(j["attempts"] >= 2 for j in listed),
        seconds_to_settle=time.monotonic() - started,
    )


def _fresh_postgres(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return {"database_url": url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ALLOCATOR_TEST_POSTGRES_URL"),
        help="SQLAlchemy URL",
    )
    parser.add_argument("--only", nargs="*", help="scenarios such as sqlite-SIGKILL")
    args = parser.parse_args()
    stores = ["sqlite"] + (["postgresql"] if args.postgres_url else [])
    print(f"{'scenario':22} accepted in_flight lost extra twice left retried settle_s")
    for store in stores:
        for name, signum in _SIGNALS.items():
            scenario = f"{store}-{name}"
            if args.only and scenario not in args.only:
                continue
            settings = _fresh_postgres(args.postgres_url) if store == "postgresql" else {}
            run = _one_run(scenario, settings, signum, args.jobs)
            print(
                f"{run.scenario:22} {run.accepted:8} {run.in_flight:9} {run.lost:4} "
                f"{run.extra:5} {run.finished_twice:5} {run.left:4} {run.retried:7} "
                f"{run.seconds_to_settle:8.1f}"
            )
    if not args.postgres_url:
        print("PostgreSQL skipped: give --postgres-url (from .ci/postgres.sh)")


if __name__ == "__main__":
    main()
