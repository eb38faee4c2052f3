"""What the job routes do: submit (with the fast path and `?wait`), read, cancel, render."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

from allocator.jobs import JobRunner, RequestLimits, prepare_job
from allocator.reports.batch_html import render_batch_html
from allocator.reports.batch_models import BatchReport
from allocator.reports.html_report import render_report_html
from allocator.store import (
    IdempotencyConflict,
    JobRecord,
    JobRepository,
    NewJob,
    QueueCaps,
    QueueFull,
)
from api.json_shape import JsonShapeLimits, check_parsed
from api.problems import ApiProblem
from models.report import ComparisonReport

__all__ = ["JobService"]

_RECHECK_S = 1.0  # a job finished by another instance is noticed within this long
# Bodies parsed and validated at once (each in a worker thread): bounds the memory
# hostile bodies can take together, and leaves threads for everything else.
_PARSERS = 2
# Bodies up to this size parse in about a millisecond: they skip the parsers' queue and
# are parsed and stored in one hop to a thread (each hop costs CPU too).
_SMALL_BODY = 64 * 1024


class JobService:
    """Job operations over the store and the runner; raises ApiProblem for the user."""

    def __init__(
        self,
        jobs: JobRepository,
        runner: JobRunner | None,
        limits: RequestLimits,
        max_wait_s: float,
        max_json_values: int = 1_000_000,
        caps: QueueCaps | None = None,
    ):
        self.jobs = jobs
        self.runner = runner
        self.limits = limits
        self.max_wait_s = max_wait_s
        self.caps = caps
        single = limits.max_tasks + limits.max_agents
        batch = limits.max_batch_tasks + limits.max_batch_instances * limits.max_agents
        self.shapes = {
            "single": JsonShapeLimits.for_items(
                single, max_json_values, "ALLOCATOR_MAX_TASKS and ALLOCATOR_MAX_AGENTS"
            ),
            "batch": JsonShapeLimits.for_items(batch, max_json_values, "ALLOCATOR_MAX_BATCH_TASKS"),
        }
        self._parse_limiter: anyio.CapacityLimiter | None = None

    def _prepare(self, kind: str, body: bytes, idempotency_key: str | None) -> NewJob:
        """Parse and validate a body (in a worker thread: seconds of CPU for big ones)."""
        document = _parse_json(body)
        check_parsed(document, self.shapes["batch" if kind == "batch" else "single"])
        return prepare_job(kind, document, self.limits, idempotency_key)

    def _store(
        self, new_job: NewJob, *, tenant: str | None, wait_s: float
    ) -> tuple[JobRecord, bool]:
        """Store the job: solving in the warm pool when it is small and waited for."""
        new_job = dataclasses.replace(new_job, tenant=tenant)
        if wait_s > 0 and self.runner is not None and self.runner.fast_path_fits(new_job):
            return self.runner.submit_fast(new_job)
        stored = self.jobs.create(new_job, caps=self.caps)
        if self.runner is not None:
            self.runner.wake()
        return stored

    def shape_for_path(self, path: str) -> JsonShapeLimits:
        """The JSON shape limits for a body sent to `path` (checked as it arrives)."""
        return self.shapes["batch" if path.endswith("/batches") else "single"]

    async def submit(
        self,
        kind: str,
        body: bytes,
        *,
        wait_s: float,
        idempotency_key: str | None,
        tenant: str | None = None,
    ) -> tuple[JobRecord, dict[str, Any] | None, bool]:
        """Accept a job; returns it, its result if it finished within `wait_s`, and created.

        Raises:
            ApiProblem: 422 for a bad request, 429 (with Retry-After) when the queue is full.
        """
        job, text, created = await self.submit_raw(
            kind, body, wait_s=wait_s, idempotency_key=idempotency_key, tenant=tenant
        )
        return job, json.loads(text) if text else None, created

    async def submit_raw(
        self,
        kind: str,
        body: bytes,
        *,
        wait_s: float,
        idempotency_key: str | None,
        tenant: str | None = None,
    ) -> tuple[JobRecord, str | None, bool]:
        """`submit` with the result as its stored JSON text (a route answers with it as is)."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            raise ApiProblem(422, "Idempotency-Key must be 1 to 200 characters long")
        wait_s = min(max(wait_s, 0.0), self.max_wait_s)
        store = functools.partial(self._store, tenant=tenant, wait_s=wait_s)
        try:
            if len(body) <= _SMALL_BODY:  # parsed and stored in one hop to a thread
                job, created = await run_in_threadpool(
                    lambda: store(self._prepare(kind, body, idempotency_key))
                )
            else:
                if self._parse_limiter is None:
                    self._parse_limiter = anyio.CapacityLimiter(_PARSERS)
                new_job = await anyio.to_thread.run_sync(
                    self._prepare, kind, body, idempotency_key, limiter=self._parse_limiter
                )
                job, created = await run_in_threadpool(store, new_job)
        except IdempotencyConflict as exc:
            raise ApiProblem(422, str(exc)) from exc
        except QueueFull as exc:
            retry = {"Retry-After": str(exc.retry_after_s)}
            raise ApiProblem(429, str(exc), headers=retry) from exc
        if wait_s > 0 and not job.final:
            job = await self.wait(job.id, wait_s) or job
        text = await self._result_text(job) if wait_s > 0 and job.final else None
        return job, text, created

    async def wait(self, job_id: str, timeout_s: float) -> JobRecord | None:
        """Wait until the job is final or `timeout_s` passes; no busy polling."""
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def notify() -> None:
            loop.call_soon_threadsafe(done.set)

        if self.runner is not None:
            self.runner.completions.subscribe(job_id, notify)
        try:
            deadline = loop.time() + timeout_s
            while True:
                remaining = deadline - loop.time()
                job = self._finished_here(job_id)
                # A job in this runner's warm pool announces its end: nothing to read.
                if job is None and (remaining <= 0 or not self._solving_here(job_id)):
                    job = await run_in_threadpool(self.jobs.get, job_id)
                    if job is None:
                        return None
                if job is not None and (job.final or remaining <= 0):
                    return job
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), min(remaining, _RECHECK_S))
        finally:
            if self.runner is not None:
                self.runner.completions.unsubscribe(job_id, notify)

    def _finished_here(self, job_id: str) -> JobRecord | None:
        """The job as stored when this runner just finished it (else None: read the store)."""
        kept = self.runner.recent.get(job_id) if self.runner is not None else None
        return kept[0] if kept is not None else None

    def _solving_here(self, job_id: str) -> bool:
        return self.runner is not None and self.runner.solving_fast(job_id)

    async def _result_text(self, job: JobRecord) -> str | None:
        if not job.has_result:
            return None
        kept = self.runner.recent.get(job.id) if self.runner is not None else None
        if kept is not None and kept[1] is not None:
            return kept[1]
        return await run_in_threadpool(self.jobs.result_text, job.id)

    async def get(self, job_id: str) -> JobRecord:
        job = await run_in_threadpool(self.jobs.get, job_id)
        if job is None:
            raise ApiProblem(404, f"no job {job_id!r}; list jobs with GET /v1/jobs")
        return job

    async def list(
        self, *, kind: str | None, status: str | None, limit: int, offset: int
    ) -> list[JobRecord]:
        records = await run_in_threadpool(
            lambda: self.jobs.list(kind=kind, status=status, limit=limit, offset=offset)
        )
        return list(records)

    async def cancel(self, job_id: str) -> JobRecord:
        job = await self.get(job_id)
        if job.final:
            return job
        updated = await run_in_threadpool(self.jobs.request_cancel, job_id)
        if self.runner is not None:
            await run_in_threadpool(self.runner.cancel, job_id)
            updated = await run_in_threadpool(self.jobs.get, job_id) or updated
        return updated or job

    async def result_text(self, job_id: str) -> str:
        """The stored result JSON; 409 while the job has none yet."""
        job = await self.get(job_id)
        if not job.final:
            raise ApiProblem(
                409,
                f"job {job_id} is {job.status}; poll GET /v1/jobs/{job_id} until it finishes",
            )
        text = await run_in_threadpool(self.jobs.result_text, job_id)
        if text is None:
            why = job.error or "it was cancelled before any solution was found"
            raise ApiProblem(409, f"job {job_id} has no result: {why}")
        return text

    async def result_document(self, job: JobRecord) -> dict[str, Any] | None:
        text = await self._result_text(job)
        return json.loads(text) if text else None

    async def report_html(self, job_id: str) -> str:
        job = await self.get(job_id)
        text = await self.result_text(job_id)
        if job.kind == "topology":
            raise ApiProblem(
                406, "topology jobs have a JSON report only; ask with Accept: application/json"
            )
        if job.kind == "batch":
            batch = BatchReport.model_validate_json(text)
            return await run_in_threadpool(render_batch_html, batch)
        if job.status != "succeeded" and '"best_plan"' in text[:200]:
            raise ApiProblem(  # a worker's best plan kept without a report (see JobProcess)
                406,
                f"job {job_id} ended without a report ({job.error}); its best plan is in "
                f"GET /v1/jobs/{job_id}/result; ask with Accept: application/json",
            )
        report = ComparisonReport.model_validate_json(text)
        return await run_in_threadpool(render_report_html, report)


def _parse_json(body: bytes) -> object:
    if not body.strip():
        raise ApiProblem(422, "the request body is empty; send a JSON problem document")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise ApiProblem(422, f"the request body is not valid JSON{where}") from exc
