"""Overload: jobs offered at a multiple of what the service can run; admission control
must refuse the excess (429), finish every accepted job, and keep /healthz fast.

    python -m bench.overload [--rate 8 --duration 20 --queue-cap 40]

Starts its own server (uvicorn subprocess, fresh SQLite store, no warm pool), submits
small allocation jobs open-loop at `--rate` per second (no `?wait`), probes /healthz
every 50 ms, then waits for every accepted job to end and counts how they ended.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
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


async def _run(
    url: str, rate: float, duration_s: float
) -> tuple[Counter[int], list[str], list[float]]:
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(url, stop))
    statuses, accepted = await _offer(url, rate, duration_s)
    stop.set()
    return statuses, accepted, await probe


def _outcomes(url: str, accepted: list[str], timeout_s: float) -> Counter[str]:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in accepted]
            ended = Counter(j["status"] for j in jobs)
            if ended["queued"] + ended["running"] == 0 or time.monotonic() > deadline:
                return ended
            time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=8.0, help="jobs offered per second")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--queue-cap", type=int, default=40)
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
            statuses, accepted, health = asyncio.run(_run(service.url, args.rate, args.duration))
            ended = _outcomes(service.url, accepted, timeout_s=600)
        finally:
            service.stop()
    ms = np.array(health) * 1000
    print(
        f"offered {sum(statuses.values())} jobs at {args.rate}/s for {args.duration:g} s "
        f"(queue cap {args.queue_cap}); answers {dict(sorted(statuses.items()))}"
    )
    print(f"accepted jobs ended: {dict(ended)}")
    print(
        f"/healthz ms over {len(ms)} probes: p50 {np.percentile(ms, 50):.1f}  "
        f"p99 {np.percentile(ms, 99):.1f}  max {ms.max():.1f}"
    )


if __name__ == "__main__":
    main()
