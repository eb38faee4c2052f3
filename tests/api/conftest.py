"""Fixtures for API tests: a real app over a fresh SQLite store, and small problems."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ServiceSettings


def small_problem(n_tasks: int = 6, n_agents: int = 3, **options: Any) -> dict[str, Any]:
    """A feasible problem document with greedy-only options (solver is not under test)."""
    document: dict[str, Any] = {
        "name": f"t{n_tasks}x{n_agents}",
        "resources": ["cpu"],
        "agents": [{"id": f"a{i}", "capacity": {"cpu": 10.0 + i}} for i in range(n_agents)],
        "tasks": [
            {"id": f"t{k}", "demand": {"cpu": 1.0 + (k % 3)}, "work": 1.0 + k % 4}
            for k in range(n_tasks)
        ],
        "options": {"solvers": ["greedy"], "time_limit_s": 0.3, **options},
    }
    return document


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a started app with settings overrides; all are closed after the test."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"data{len(clients)}",
            "fast_workers": 1,
            "max_concurrent_jobs": 2,
        }
        settings = ServiceSettings(**{**values, **overrides})
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        with contextlib.suppress(Exception):  # a test may have closed it already
            client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
