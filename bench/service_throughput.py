"""Service benchmarks on loopback: ?wait allocations/s, pulls+completes/s, SIGKILL restart.

    python -m bench.service_throughput allocations [--rate 50 --duration 60]
    python -m bench.service_throughput pulls [--agents 100 --duration 20]
    python -m bench.service_throughput restart
Each starts its own server (uvicorn subprocess, fresh SQLite store in a temp dir).
`allocations` also prints the CPU per request of the service process and of its
workers (as the OS counts it, so it holds on a loaded machine where latencies do not),
and how the plans served compare with the same requests solved alone with time to
spare (a loaded service answers in time by stopping solves at their clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from allocator.facade import solve
from allocator.problem_files import parse_request
from bench.raw_http import RawHttp
from models.generators.instances import generate_attribute_problem
from tests.api.service_process import ServiceProcess

__all__ = ["main"]


def _small_request(seed: int, time_limit_s: float) -> dict[str, object]:
    doc = generate_attribute_problem(20, 5, seed=seed).model_dump(
        mode="json", exclude_defaults=True
    )
    doc["options"] = {"solvers": ["greedy"], "time_limit_s": time_limit_s, "seed": seed}
    return doc


def _cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the service and by its descendants
    (fork server and worker processes), read from the OS."""
    root = psutil.Process(pid)
    spent = {"service": sum(root.cpu_times()[:2]), "workers": 0.0}
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker replaced meanwhile
            spent["workers"] += sum(child.cpu_times()[:2])
    return spent


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


async def _allocations(
    port: int, rate: float, duration_s: float, time_limit_s: float, service_pid: int
) -> None:
    """Open loop: one request every 1/rate seconds, whatever the latency."""
    documents = [_small_request(seed, time_limit_s) for seed in range(16)]
    unhurried = [_unhurried_objective(seed) for seed in range(len(documents))]
    gaps: list[float] = []  # served plan vs the unhurried plan of the same request
    clock_stops = 0
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    pool: asyncio.Queue[RawHttp] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(RawHttp("127.0.0.1", port))

    async def one(k: int) -> None:
        client = await pool.get()
        started = time.perf_counter()
        try:
            status, body = await client.request(
                "POST", "/v1/allocations?wait=10", documents[k % len(documents)]
            )
            key = str(status)
            if status == 200:
                latencies.append(time.perf_counter() - started)
                answer = json.loads(body)
                key = answer["status"]
                result = answer.get("result") or {}
                if result.get("chosen"):
                    reference = unhurried[k % len(documents)]
                    gaps.append((result["chosen"]["objective"] - reference) / abs(reference))
                else:
                    key = "succeeded without a plan"
                if any(r["stop_reason"] == "time_limit" for r in result.get("solvers", [])):
                    nonlocal clock_stops
                    clock_stops += 1
        except (ConnectionError, OSError) as exc:
            key = type(exc).__name__
        finally:
            pool.put_nowait(client)
        outcomes[key] = outcomes.get(key, 0) + 1

    tasks = []
    cpu_before = _cpu_seconds(service_pid)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    k = 0
    while (now := time.perf_counter() - t0) < duration_s:
        tasks.append(asyncio.create_task(one(k)))
        k += 1
        await asyncio.sleep(max(0.0, k / rate - (time.perf_counter() - t0)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    cpu = {k: v - cpu_before[k] for k, v in _cpu_seconds(service_pid).items()}
    done = outcomes.get("succeeded", 0)
    per_request = {k: 1000 * v / max(1, done) for k, v in cpu.items()}
    print(
        f"allocations: sent {k} at {rate:g}/s for {duration_s:g} s (20x5, greedy, "
        f"time_limit_s={time_limit_s:g}, ?wait=10)\n"
        f"  completed {done} = {done / wall:.1f}/s; outcomes {outcomes}\n"
        f"  latency p50 {_pct(latencies, 50):.0f} ms, p95 {_pct(latencies, 95):.0f} ms, "
        f"p99 {_pct(latencies, 99):.0f} ms, max {_pct(latencies, 100):.0f} ms; "
        f"last sent at {now:.1f} s\n"
        f"  CPU per completed request: service process {per_request['service']:.1f} ms, "
        f"its worker processes {per_request['workers']:.1f} ms; "
        f"1-min load average {load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end\n"
        f"  plans vs the same request solved alone with time to spare: mean "
        f"{100 * statistics.fmean(gaps or [0.0]):+.3f}%, worse in {sum(g > 1e-9 for g in gaps)} "
        f"of {len(gaps)}; stopped by the clock: {clock_stops} of {len(latencies)}"
    )


def _unhurried_objective(seed: int) -> float:
    """The objective the greedy reaches on request `seed` when the clock does not stop
    it (10 s limit, in this process, before the timed part)."""
    problem, options = parse_request(_small_request(seed, 10.0))
    report = solve(problem, options)
    assert report.chosen is not None
    return report.chosen.objective


async def _pulls(port: int, n_agents: int, duration_s: float, batch: int) -> None:
    setup = RawHttp("127.0.0.1", port)
    agents = [
        {"id": f"a{i}", "speed": 1.0 + (i % 4) * 0.5, "slots": batch} for i in range(n_agents)
    ]
    status, _ = await setup.request("POST", "/v1/swarms/bench/agents", {"agents": agents})
    assert status == 200
    submitted = 0

    async def top_up() -> None:
        nonlocal submitted
        tasks = [{"id": f"t{submitted + k}", "work": 0.01} for k in range(5000)]
        code, body = await setup.request("POST", "/v1/swarms/bench/tasks", {"tasks": tasks})
        assert code == 202, body
        submitted += len(tasks)

    for _ in range(4):
        await top_up()
    counts = {"pulls": 0, "completed": 0, "rejected": 0, "empty": 0}
    stop = time.perf_counter() + duration_s

    async def agent(agent_id: str) -> None:
        client = RawHttp("127.0.0.1", port)
        acks: list[dict[str, object]] = []
        path = f"/v1/swarms/bench/agents/{agent_id}/pull?max_tasks={batch}"
        while time.perf_counter() < stop:
            _code, body = await client.request("POST", path, {"completed": acks})
            data = json.loads(body)
            counts["pulls"] += 1
            counts["completed"] += len(acks)
            counts["rejected"] += len(data["rejected"])
            leased = [t["id"] for t in data["tasks"]]
            if not leased:
                counts["empty"] += 1
            acks = [{"task_id": t, "runtime_s": 0.001} for t in leased]
        await client.close()

    async def feeder() -> None:
        while time.perf_counter() < stop:
            if submitted - counts["completed"] < 12_000:
                await top_up()
            await asyncio.sleep(0.2)

    t0 = time.perf_counter()
    await asyncio.gather(feeder(), *(agent(f"a{i}") for i in range(n_agents)))
    wall = time.perf_counter() - t0
    print(
        f"pulls: {n_agents} agents, {batch} task(s) per pull, {wall:.1f} s\n"
        f"  {counts['pulls'] / wall:.0f} pull requests/s, {counts['completed'] / wall:.0f} "
        f"completions/s (each request = 1 pull + its completions); counts {counts}"
    )


async def _restart(service: ServiceProcess, port: int) -> None:
    client = RawHttp("127.0.0.1", port)
    await client.request("POST", "/v1/swarms/r/agents", {"agents": [{"id": "a0"}, {"id": "a1"}]})
    accepted_jobs: list[str] = []
    accepted_tasks: list[str] = []
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() - t0 < 4.0:
        doc = _small_request(k, 0.3)
        status, body = await client.request("POST", "/v1/allocations", doc)
        if status == 202:
            accepted_jobs.append(json.loads(body)["id"])
        tasks = [{"id": f"t{k}-{j}"} for j in range(20)]
        status, body = await client.request("POST", "/v1/swarms/r/tasks", {"tasks": tasks})
        if status == 202:
            accepted_tasks.extend(json.loads(body)["accepted"])
        for agent_id in ("a0", "a1"):  # some work done before the crash
            await client.request("POST", f"/v1/swarms/r/agents/{agent_id}/pull")
        k += 1
        await asyncio.sleep(0.05)
    await client.close()
    service.kill()
    print(
        f"restart: SIGKILL after {len(accepted_jobs)} jobs and {len(accepted_tasks)} tasks accepted"
    )
    service.start()
    client = RawHttp("127.0.0.1", port)
    final: dict[str, int] = {}
    for job_id in accepted_jobs:
        status, body = await client.request("GET", f"/v1/jobs/{job_id}?wait=60")
        job = json.loads(body)
        state = job["status"] if status == 200 else f"http {status}"
        final[state] = final.get(state, 0) + 1
        if state == "failed":
            print(f"  job {job_id} failed: {job.get('error')}")
    acks: dict[str, list[dict[str, object]]] = {"a0": [], "a1": []}
    idle = 0
    while idle < 3:  # agents drain the swarm after the restart, acknowledging as they pull
        idle += 1
        for agent_id in ("a0", "a1"):
            _, body = await client.request(
                "POST",
                f"/v1/swarms/r/agents/{agent_id}/pull?max_tasks=50",
                {"completed": acks[agent_id]},
            )
            leased = [t["id"] for t in json.loads(body)["tasks"]]
            if leased or acks[agent_id]:
                idle = 0
            acks[agent_id] = [{"task_id": t} for t in leased]
    states: dict[str, int] = {}
    for task_id in accepted_tasks:
        _, body = await client.request("GET", f"/v1/swarms/r/tasks/{task_id}")
        state = json.loads(body)["state"]
        states[state] = states.get(state, 0) + 1
    lost_jobs = len(accepted_jobs) - final.get("succeeded", 0)
    lost_tasks = sum(n for s, n in states.items() if s not in ("done",))
    print(
        f"  jobs after restart: {final} -> lost {lost_jobs}\n"
        f"  tasks after restart and drain: {states} -> lost {lost_tasks}"
    )
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["allocations", "pulls", "restart", "all"])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--time-limit", type=float, default=0.05)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = ServiceProcess(Path(tmp) / "data", job_lease_s="2", log_level="warning")
        service.start()
        try:
            if args.what in ("allocations", "all"):
                assert service.process is not None
                asyncio.run(
                    _allocations(
                        service.port,
                        args.rate,
                        args.duration,
                        args.time_limit,
                        service.process.pid,
                    )
                )
            if args.what in ("pulls", "all"):
                asyncio.run(_pulls(service.port, args.agents, min(args.duration, 30), args.batch))
            if args.what in ("restart", "all"):
                asyncio.run(_restart(service, service.port))
        finally:
            service.stop()


if __name__ == "__main__":
    main()
