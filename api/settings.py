"""Service settings from ALLOCATOR_* environment variables (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Every knob of the HTTP service; each field is read from ALLOCATOR_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ALLOCATOR_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Where the SQLite store lives (relative to the working directory).",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL, e.g. postgresql+psycopg://...; SQLite if unset."
    )
    api_token: SecretStr | None = Field(
        default=None, description="When set, every data route needs `Authorization: Bearer`."
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    body_timeout_s: float = Field(
        default=30.0, gt=0, description="A request body must arrive within this long (408)."
    )
    max_json_values: int = Field(
        default=1_000_000,
        ge=1000,
        description="JSON values (array items, object members) per job request, counted "
        "before parsing: a 1M-number cost matrix parses in about 0.1 s.",
    )
    max_tasks: int = Field(default=20_000, ge=1)
    max_agents: int = Field(default=2_000, ge=1)
    max_time_limit_s: float = Field(default=600.0, gt=0)
    max_batch_instances: int = Field(default=100, ge=1, description="Instances per batch job.")
    max_batch_tasks: int = Field(default=100_000, ge=1, description="Tasks in a batch, all told.")
    max_wait_s: float = Field(default=60.0, ge=0, description="Cap on `?wait=` seconds.")
    max_queued_jobs: int = Field(
        default=200, ge=1, description="Jobs waiting to run, all told; beyond it 429."
    )
    max_queued_jobs_per_tenant: int = Field(
        default=50,
        ge=1,
        description="Jobs waiting per tenant (X-Tenant header, else client address); then 429.",
    )
    max_failed_auth_per_minute: int = Field(
        default=20, ge=1, description="Failed token checks per client per minute before 429."
    )
    max_concurrent_jobs: int = Field(
        default_factory=lambda: max(2, (os.cpu_count() or 2) // 2),
        ge=1,
        description="Jobs solved at once, each in its own process (one per 2 cores, at least 2).",
    )
    job_lease_s: float = Field(
        default=15.0, gt=0, description="A crashed runner's jobs are re-run after this long."
    )
    max_job_attempts: int = Field(default=3, ge=1)
    fast_workers: int = Field(
        # Small greedy solves run inside the worker and stop on the wall clock (their
        # time limit), so more workers than cores still add throughput: 6 on 2 cores
        # gave 50/s with p99 176 ms (BENCHMARKS.md, "Service"). Started with the service.
        default_factory=lambda: 3 * (os.cpu_count() or 2),
        ge=0,
        description="Warm processes for small `?wait` requests, started at start-up (0: off).",
    )
    fast_max_cells: int = Field(default=2_000, ge=0, description="agents x tasks for the fast path")
    fast_max_time_limit_s: float = Field(default=2.0, ge=0)
    swarm_flush_s: float = Field(
        default=0.2, gt=0, description="Coordinator state is written at most this often."
    )
    kpi_snapshot_s: float = Field(default=10.0, gt=0)
    dashboard_sample_s: float = Field(
        default=3.0, gt=0, le=3600, description="The dashboard's history charts sample this often."
    )
    dashboard_history_s: float = Field(
        default=600.0, gt=0, le=86_400, description="How far back the dashboard's charts go."
    )
    trusted_hosts: list[str] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        description='Host names this service answers to (JSON list; ["*"]: any, behind a '
        "proxy that checks Host). Guards a token-less service against DNS rebinding.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Other web origins allowed to change state (POST/PUT/PATCH/DELETE), "
        "e.g. https://ops.example.com; the service's own pages always are.",
    )
    log_level: str = Field(default="info")
    run_jobs: bool = Field(default=True, description="False: accept jobs but do not run them.")
