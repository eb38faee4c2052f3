"""A token-less service cannot be driven by other web sites: trusted hosts, same-origin
state changes, JSON-only API bodies; /docs works offline."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import small_problem

_FOREIGN = {"Origin": "https://evil.example"}


def test_foreign_host_is_refused_everywhere_but_loopback_works(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(trusted_hosts=["localhost", "127.0.0.1", "::1"])
    for path in ("/healthz", "/v1/jobs", "/dashboard", "/docs"):
        response = client.get(path, headers={"Host": "rebound.evil.example"})
        assert response.status_code == 400, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "ALLOCATOR_TRUSTED_HOSTS" in response.json()["detail"]
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host


def test_cross_site_state_changes_are_refused(client: TestClient) -> None:
    client.post("/v1/swarms/s/agents", json={"agents": [{"id": "a0"}]})
    client.post("/v1/swarms/s/tasks", json={"tasks": [{"id": "t0"}]})
    text_plain = client.post(
        "/v1/allocations",
        content=json.dumps(small_problem()),
        headers={**_FOREIGN, "Content-Type": "text/plain"},
    )
    assert text_plain.status_code == 403
    pull = client.post("/v1/swarms/s/agents/a0/pull", headers=_FOREIGN)
    assert pull.status_code == 403
    assert client.get("/v1/swarms/s/tasks/t0").json()["state"] == "queued", "nothing leased"
    assert client.post("/v1/swarms/s/rebalance", headers=_FOREIGN).status_code == 403
    login = client.post("/dashboard/login", data={"token": "x"}, headers=_FOREIGN)
    assert login.status_code == 403
    assert client.get("/v1/jobs").json()["items"] == [], "no job was created"


def test_same_origin_and_non_browser_clients_work(client: TestClient) -> None:
    own = {"Origin": "http://testserver"}
    assert client.post("/v1/allocations", json=small_problem(), headers=own).status_code == 202
    assert client.post("/v1/allocations", json=small_problem()).status_code == 202
    assert client.post("/v1/swarms/s/agents", json={"agents": [{"id": "a0"}]}).status_code == 200
    assert client.post("/v1/swarms/s/agents/a0/pull").status_code == 200, "no body: no type"


def test_api_bodies_must_be_json(client: TestClient) -> None:
    body = json.dumps(small_problem())
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = client.post("/v1/allocations", content=body, headers={"Content-Type": media})
        assert response.status_code == 415, media
        assert "application/json" in response.json()["detail"]
    typed = client.post(
        "/v1/allocations", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert typed.status_code == 202


def test_docs_load_nothing_from_other_hosts(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert sources, page.text[:500]
    assert all(s.startswith("/") for s in sources), sources
    for asset in sources:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 200
