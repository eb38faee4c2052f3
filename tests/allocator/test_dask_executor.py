"""The Dask executor on a real LocalCluster (processes): same verified objectives, real cancel."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from allocator.executors import LocalExecutor
from allocator.executors.batch import comparison_request, run_batch_on
from allocator.reports.batch import BatchReport
from models import Plan, RunOptions, compile_problem, evaluate_plan, gap_to_problem
from models.generators.gap import generate_gap
from models.generators.instances import generate_attribute_problem
from models.plan import plan_to_array

distributed = pytest.importorskip("distributed")
from allocator.executors.dask_executor import DaskExecutor  # noqa: E402

# Greedy is deterministic; an exact solver is wherever it proves optimality (checked below).
OPTIONS = RunOptions(solvers=["greedy", "milp"], time_limit_s=2.0, seed=3, workers=1)


@pytest.fixture(scope="module")
def cluster_executor() -> Iterator[DaskExecutor]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield DaskExecutor(client=client)


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gap-batch")
    for seed in range(4):
        problem = gap_to_problem(generate_gap("c", 4, 12, seed=seed))
        (folder / f"c4x12-{seed}.json").write_text(problem.model_dump_json(exclude_defaults=True))
    return folder


def _objectives(batch: BatchReport) -> dict[tuple[str, str], tuple[float | None, str]]:
    return {
        (inst.instance, o.solver): (o.objective, o.status)
        for inst in batch.instances
        for o in inst.outcomes
    }


def test_same_verified_objectives_as_the_local_executor(
    cluster_executor: DaskExecutor, instances: Path
) -> None:
    assert cluster_executor.n_workers() == 2
    local = LocalExecutor(1)
    try:
        expected = _objectives(run_batch_on(local, instances, OPTIONS))
    finally:
        local.close()
    on_dask = run_batch_on(cluster_executor, instances, OPTIONS)
    assert not [i.error for i in on_dask.instances if i.error]
    got = _objectives(on_dask)
    assert got.keys() == expected.keys() and len(got) == 8
    for key, (objective, status) in got.items():
        assert objective is not None, key
        if key[1] == "greedy" or status == expected[key][1] == "optimal":
            assert objective == expected[key][0], key
    assert sum(status == "optimal" for _, status in got.values()) >= 3


def test_cancel_stops_a_running_solve_and_keeps_its_best_plan(
    cluster_executor: DaskExecutor,
) -> None:
    problem = gap_to_problem(generate_gap("c", 8, 40, seed=11))
    options = RunOptions(solvers=["nsga2"], time_limit_s=60, seed=0, workers=1)
    handle = cluster_executor.submit("comparison", comparison_request(problem, options), 60)
    deadline = time.monotonic() + 30
    while handle.progress() is None or handle.progress().objective is None:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "no incumbent reported"
        time.sleep(0.1)  # waiting for a remote incumbent: there is no event to wait on
    started = time.monotonic()
    handle.cancel()
    outcome = handle.result(timeout=20)
    assert time.monotonic() - started < 10
    assert outcome.status == "cancelled" and outcome.objective is not None
    assert outcome.result is not None


def test_a_cancel_before_start_runs_nothing(cluster_executor: DaskExecutor) -> None:
    problem = gap_to_problem(generate_gap("c", 3, 6, seed=1))
    handles = [
        cluster_executor.submit("comparison", comparison_request(problem, OPTIONS), 1.0)
        for _ in range(6)
    ]
    for handle in handles:
        handle.cancel()
    outcomes = [h.result(timeout=30) for h in handles]
    assert all(o.status in ("cancelled", "succeeded") for o in outcomes)
    assert sum(o.status == "cancelled" for o in outcomes) >= 4


def test_service_jobs_run_on_the_cluster(
    cluster_executor: DaskExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ALLOCATOR_DASK_ADDRESS set, the job runner sends jobs to the cluster."""
    from api.services import build_services
    from api.settings import ServiceSettings

    monkeypatch.setenv("ALLOCATOR_DASK_ADDRESS", cluster_executor.client.scheduler.address)
    problem = gap_to_problem(generate_gap("c", 4, 12, seed=0))
    quick = comparison_request(problem, OPTIONS).encode()
    slow = comparison_request(
        gap_to_problem(generate_gap("c", 8, 40, seed=2)),
        RunOptions(solvers=["nsga2"], time_limit_s=60, workers=1),
    ).encode()
    services = build_services(ServiceSettings(data_dir=tmp_path / "data", fast_workers=0))
    services.start()
    try:
        import asyncio

        async def scenario() -> tuple[object, object]:
            done, _, _ = await services.jobs.submit(
                "allocation", quick, wait_s=30, idempotency_key=None
            )
            running, _, _ = await services.jobs.submit(
                "allocation", slow, wait_s=0, idempotency_key=None
            )
            while (await services.jobs.get(running.id)).best_objective is None:
                await asyncio.sleep(0.1)  # the runner writes remote progress to the store
            await services.jobs.cancel(running.id)
            return done, await services.jobs.wait(running.id, 30)

        done, cancelled = asyncio.run(scenario())
    finally:
        services.stop()
    assert done.status == "succeeded" and done.objective is not None  # type: ignore[attr-defined]
    assert cancelled.status == "cancelled"  # type: ignore[attr-defined]
    assert cancelled.has_result  # type: ignore[attr-defined]


def _service_on(cluster_executor: DaskExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A service (no warm pool) whose jobs run on the cluster."""
    from api.services import build_services
    from api.settings import ServiceSettings

    monkeypatch.setenv("ALLOCATOR_DASK_ADDRESS", cluster_executor.client.scheduler.address)
    return build_services(ServiceSettings(data_dir=tmp_path / "data", fast_workers=0))


def test_a_cluster_job_relays_its_best_plan_while_it_runs(
    cluster_executor: DaskExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store holds the job's best verified plan before the job ends; a cancel keeps
    a plan at least as good."""
    import asyncio

    problem = gap_to_problem(generate_gap("c", 8, 40, seed=2))
    slow = comparison_request(problem, RunOptions(solvers=["nsga2"], time_limit_s=60, workers=1))
    services = _service_on(cluster_executor, tmp_path, monkeypatch)
    services.start()
    repository = services.store.jobs
    try:

        async def scenario() -> tuple[object, str, str]:
            job, _, _ = await services.jobs.submit(
                "allocation", slow.encode(), wait_s=0, idempotency_key=None
            )
            deadline = time.monotonic() + 60
            while (stored := repository.best_plan(job.id)) is None:
                assert time.monotonic() < deadline, "no plan relayed"
                await asyncio.sleep(0.1)  # the supervisor writes every 0.5 s
            running = (await services.jobs.get(job.id)).status
            await services.jobs.cancel(job.id)
            return await services.jobs.wait(job.id, 30), stored, running

        final, stored, running = asyncio.run(scenario())
    finally:
        services.stop()
    assert running == "running"
    plan = json.loads(stored)
    compiled = compile_problem(problem)
    evaluation = evaluate_plan(compiled, plan_to_array(compiled, Plan.model_validate(plan)))
    assert evaluation.feasible and evaluation.score == pytest.approx(plan["objective"])
    assert final.status == "cancelled"  # type: ignore[attr-defined]
    assert final.objective <= plan["objective"] + 1e-9 * abs(plan["objective"])  # type: ignore[attr-defined]


def test_a_cluster_job_carries_the_service_solver_breaker(
    cluster_executor: DaskExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job gets the service's breaker (an open solver is skipped on the worker) and
    its updates come back (a success clears the greedy's failure count)."""
    import asyncio

    problem = gap_to_problem(generate_gap("c", 4, 12, seed=0))
    request = comparison_request(problem, OPTIONS)
    services = _service_on(cluster_executor, tmp_path, monkeypatch)
    assert services.runner is not None
    board = services.runner.breakers
    board.merge(
        {},
        {
            "solvers": {
                "milp": {"failures": 3, "opens": 1, "open_until_epoch": time.time() + 600},
                "greedy": {"failures": 2, "opens": 0, "open_until_epoch": 0.0},
            }
        },
    )
    services.start()
    try:
        done, _, _ = asyncio.run(
            services.jobs.submit("allocation", request.encode(), wait_s=60, idempotency_key=None)
        )
        result = services.store.jobs.result_text(done.id)
    finally:
        services.stop()
    assert done.status == "succeeded" and result is not None
    runs = {run["name"]: run for run in json.loads(result)["solvers"]}
    assert runs["milp"]["status"] == "skipped"
    assert "breaker open" in " ".join(runs["milp"]["notes"])
    assert runs["greedy"]["verified"]
    view = board.view()
    assert view["greedy"]["failures"] == 0  # merged back from the job's outcome
    assert view["milp"]["open"]


def _solve_hosts() -> list[psutil.Process]:
    """The solve host processes under this test's Dask workers."""
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "allocator.executors.solve_host" in " ".join(p.cmdline())
    ]


def test_a_cluster_job_whose_solve_host_dies_is_retried_from_its_plan(
    cluster_executor: DaskExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL of the solve host mid-solve: the job runs again (one more attempt), starts
    from the plan it relayed, and ends no worse than that plan."""
    import asyncio

    problem = generate_attribute_problem(120, 12, seed=3)
    doc = problem.model_dump(mode="json", exclude_defaults=True)
    doc["options"] = {"solvers": ["greedy", "cpsat"], "time_limit_s": 4, "workers": 1}
    services = _service_on(cluster_executor, tmp_path, monkeypatch)
    services.start()
    repository = services.store.jobs
    try:

        async def scenario() -> tuple[object, str]:
            job, _, _ = await services.jobs.submit(
                "allocation", json.dumps(doc).encode(), wait_s=0, idempotency_key=None
            )
            deadline = time.monotonic() + 60
            while (stored := repository.best_plan(job.id)) is None:
                assert time.monotonic() < deadline, "no plan relayed"
                await asyncio.sleep(0.05)
            for host in _solve_hosts():  # an idle host is simply started again
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(host.pid, signal.SIGKILL)
            return await services.jobs.wait(job.id, 90), stored

        final, stored = asyncio.run(scenario())
        result = repository.result_text(final.id)  # type: ignore[attr-defined]
    finally:
        services.stop()
    assert final.status == "succeeded" and final.attempts == 2, final  # type: ignore[attr-defined]
    assert result is not None
    runs = {run["name"]: run for run in json.loads(result)["solvers"]}
    resumed = runs["previous_attempt"]
    assert resumed["verified"]
    assert resumed["objective"] <= json.loads(stored)["objective"] + 1e-9
    assert final.objective <= resumed["objective"] + 1e-9 * abs(resumed["objective"])  # type: ignore[attr-defined]
