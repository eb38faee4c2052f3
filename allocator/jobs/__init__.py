"""Solver jobs: checked at submission, run in worker processes under leases."""

from __future__ import annotations

from allocator.jobs.breaker_board import BreakerBoard, BreakerView
from allocator.jobs.completion import CompletionBoard
from allocator.jobs.job_requests import JOB_KINDS, RequestLimits, canonical_json, prepare_job
from allocator.jobs.runner import JobFinished, JobRunner, RunnerConfig

__all__ = [
    "JOB_KINDS",
    "BreakerBoard",
    "BreakerView",
    "CompletionBoard",
    "JobFinished",
    "JobRunner",
    "RequestLimits",
    "RunnerConfig",
    "canonical_json",
    "prepare_job",
]
