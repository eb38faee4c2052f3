"""Overload: jobs offered at a multiple of what the service can run; admission control
must refuse the excess (429), finish every accepted job, and keep /healthz fast.

    python -m bench.overload [--rate 8 --duration 20 --queue-cap 40]

Starts its own server (uvicorn subprocess, fresh SQLite store, no warm pool), submits
small allocation jobs open-loop at `--rate` per second (no `?wait`), probes /healthz
every 50 ms, then waits for every accepted job to end and counts how they ended.

The sustainable rate is measured in the same run: jobs finished per second while the
queue was never empty (from the first job's start to the last job's end); the offered
rate is printed as a multiple of it. "lost" counts accepted jobs the service no longer
knows (404); "stuck" those still queued or running `--settle` seconds after the offer.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np

from models.generators.instances import generate_attribute_problem
from tests.api.service_process import ServiceProcess

__all__ = ["main"]


def _document(seed: int) -> dict[str, object]:
    doc = generate_attribute_problem(60, 8, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy"], "time_limit_s": 0.5, "seed": seed}
    return doc


async def _offer(url: str, rate: float, duration_s: float) -> tuple[Counter[int], list[str]]:
    statuses: Counter[int] = Counter()
    accepted: list[str] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(k: int) -> None:
            response = await client.post("/v1/allocations", json=_document(k % 16))
            statuses[response.status_code] += 1
            if response.status_code == 202:
                accepted.append(response.json()["id"])

        tasks = []
        started = time.perf_counter()
        for k in range(int(rate * duration_s)):
            await asyncio.sleep(max(0.0, started + k / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(k)))
        await asyncio.gather(*tasks)
    return statuses, accepted


async def _probe(url: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            await client.get("/healthz")
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return latencies


async def _idle_probe(url: str, seconds: float) -> list[float]:
    """/healthz of the idle service: the baseline the machine's own load allows."""
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(url, stop))
    await asyncio.sleep(seconds)
    stop.set()
    return await probe


async def _run(
    url: str, rate: float, duration_s: float
) -> tuple[Counter[int], list[str], list[float]]:
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(url, stop))
    statuses, accepted = await _offer(url, rate, duration_s)
    stop.set()
    return statuses, accepted, await probe


def _percentiles(name: str, seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return (
        f"/healthz ms {name} over {len(ms)} probes: p50 {np.percentile(ms, 50):.1f}  "
        f"p99 {np.percentile(ms, 99):.1f}  max {ms.max():.1f}"
    )


def _outcomes(url: str, accepted: list[str], timeout_s: float) -> list[dict[str, object]]:
    """Each accepted job as the service shows it once all ended (or at the timeout);
    a job the service does not know is `{"status": "lost"}`."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            jobs = []
            for job_id in accepted:
                response = client.get(f"/v1/jobs/{job_id}")
                jobs.append(response.json() if response.status_code == 200 else {"status": "lost"})
            ended = Counter(str(j["status"]) for j in jobs)
            if ended["queued"] + ended["running"] == 0 or time.monotonic() > deadline:
                return jobs
            time.sleep(1.0)


def _sustained_rate(jobs: list[dict[str, object]]) -> float | None:
    """Jobs finished per second from the first start to the last finish (the service was
    saturated throughout when the offer exceeds what it runs)."""
    spans = [
        (
            datetime.fromisoformat(str(j["started_at"])),
            datetime.fromisoformat(str(j["finished_at"])),
        )
        for j in jobs
        if j.get("started_at") and j.get("finished_at")
    ]
    if len(spans) < 2:
        return None
    seconds = (max(f for _, f in spans) - min(s for s, _ in spans)).total_seconds()
    return len(spans) / seconds if seconds > 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=8.0, help="jobs offered per second")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--queue-cap", type=int, default=40)
    parser.add_argument("--settle", type=float, default=600.0, help="seconds to wait for jobs")
    parser.add_argument(
        "--baseline", type=float, default=5.0, help="seconds of /healthz on the idle service"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = ServiceProcess(
            Path(tmp) / "data",
            fast_workers="0",
            max_queued_jobs=str(args.queue_cap),
            max_queued_jobs_per_tenant=str(args.queue_cap),
        )
        service.start()
        try:
            idle = asyncio.run(_idle_probe(service.url, args.baseline))
            statuses, accepted, health = asyncio.run(_run(service.url, args.rate, args.duration))
            jobs = _outcomes(service.url, accepted, timeout_s=args.settle)
        finally:
            service.stop()
    ended = Counter(str(j["status"]) for j in jobs)
    print(
        f"offered {sum(statuses.values())} jobs at {args.rate}/s for {args.duration:g} s "
        f"(queue cap {args.queue_cap}); answers {dict(sorted(statuses.items()))}"
    )
    sustained = _sustained_rate(jobs)
    if sustained is not None:
        print(
            f"sustained: {sustained:.2f} jobs/s finished while saturated; offered "
            f"{args.rate / sustained:.1f}x that"
        )
    stuck = ended["queued"] + ended["running"]
    print(f"accepted jobs ended: {dict(ended)}; lost {ended['lost']}, stuck {stuck}")
    print(_percentiles("idle (baseline)", idle))
    print(_percentiles("under the offer", health))


if __name__ == "__main__":
    main()
