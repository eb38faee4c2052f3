"""/healthz latency while hostile 10 MB bodies are being refused (issue 14: p99 < 50 ms).

    python -m bench.hostile_bodies [--duration 20] [--senders 3]

Starts its own server (uvicorn subprocess, fresh SQLite store). `--senders` processes
(not threads: the probe must not wait for their GIL) each post 10 MB bodies in a
loop (623k tiny tasks, a 5M-deep nest, 10 MB of one string, a flat list of 5M
numbers, in turn) while one client times GET /healthz every 20 ms. Prints the
refusal statuses and times, the /healthz percentiles, and the server's peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from tests.api.service_process import ServiceProcess

__all__ = ["main"]

_TEN_MB = 10 * 1024 * 1024 - 4096


def hostile_bodies() -> dict[str, bytes]:
    """Bodies just under the 10 MB cap, each hostile in a different way."""
    task = b'{"id":"t"},'
    tiny_tasks = (
        b'{"agents":[{"id":"a"}],"tasks":[' + task * (_TEN_MB // len(task)) + b'{"id":"z"}]}'
    )
    deep = b"[" * (_TEN_MB // 2) + b"]" * (_TEN_MB // 2)
    long_string = b'{"name":"' + b"x" * (_TEN_MB - 20) + b'"}'
    numbers = b'{"cost":[[' + b"1," * (_TEN_MB // 2 - 10) + b"1]]}"
    return {"tiny_tasks": tiny_tasks, "deep": deep, "long_string": long_string, "numbers": numbers}


def _sender(url: str, stop: mp.synchronize.Event, log: mp.Queue) -> None:
    bodies = hostile_bodies()
    names = list(bodies)
    with httpx.Client(base_url=url, timeout=120) as client:
        k = 0
        while not stop.is_set():
            name = names[k % len(names)]
            started = time.perf_counter()
            response = client.post(
                "/v1/allocations",
                content=bodies[name],
                headers={"Content-Type": "application/json"},
            )
            log.put((name, response.status_code, time.perf_counter() - started))
            k += 1


def run(duration_s: float, senders: int) -> None:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        service = ServiceProcess(Path(tmp) / "data", fast_workers="0")
        service.start()
        assert service.process is not None
        server = psutil.Process(service.process.pid)
        stop = ctx.Event()
        log: mp.Queue = ctx.Queue()
        threads = [
            ctx.Process(target=_sender, args=(service.url, stop, log)) for _ in range(senders)
        ]
        health: list[float] = []
        peak_rss = 0
        try:
            for thread in threads:
                thread.start()
            with httpx.Client(base_url=service.url, timeout=30) as client:
                deadline = time.monotonic() + duration_s
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    assert client.get("/healthz").status_code == 200
                    health.append(time.perf_counter() - started)
                    peak_rss = max(peak_rss, server.memory_info().rss)
                    time.sleep(0.02)
        finally:
            stop.set()
            refusals = []
            while any(t.is_alive() for t in threads) or not log.empty():
                while not log.empty():
                    refusals.append(log.get())
                time.sleep(0.05)
            for thread in threads:
                thread.join()
            service.stop()
    _print(health, refusals, peak_rss, senders)


def _print(health: list[float], refusals: list, peak_rss: int, senders: int) -> None:
    ms = np.array(health) * 1000
    print(f"{senders} senders of 10 MB hostile bodies; {len(health)} /healthz probes")
    print(
        f"/healthz ms: p50 {np.percentile(ms, 50):.1f}  p99 {np.percentile(ms, 99):.1f}  "
        f"max {ms.max():.1f}"
    )
    by_name: dict[str, list[tuple[int, float]]] = {}
    for name, status, seconds in refusals:
        by_name.setdefault(name, []).append((status, seconds))
    for name, rows in sorted(by_name.items()):
        statuses = sorted({s for s, _ in rows})
        times = [t for _, t in rows]
        print(
            f"  {name:12s} n={len(rows):3d} status {statuses}  "
            f"mean {np.mean(times) * 1000:.0f} ms  max {max(times) * 1000:.0f} ms"
        )
    print(f"server peak RSS {peak_rss / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=3)
    args = parser.parse_args()
    run(args.duration, args.senders)


if __name__ == "__main__":
    main()
