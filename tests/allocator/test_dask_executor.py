"""The Dask executor on a real LocalCluster (processes): same verified objectives, real cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from allocator.executors import LocalExecutor
from allocator.executors.batch import comparison_request, run_batch_on
from allocator.reports.batch import BatchReport
from models import RunOptions, gap_to_problem
from models.generators.gap import generate_gap

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
