"""Dashboard figures read as numbers (no 9.16e+03), and no request of the page 404s."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.dashboard import _number


def test_objectives_print_in_plain_digits() -> None:
    assert _number(9163.96) == "9,163.96"
    assert _number(1234567.4) == "1,234,567"
    assert _number(-250.5) == "-250.50"
    assert _number(0.9512) == "0.951"
    assert _number(None) == "–"


def test_the_browser_asks_for_nothing_missing(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 204


def test_leased_tasks_count_as_in_use_now(client: TestClient) -> None:
    agents = [{"id": "a0", "slots": 2}, {"id": "a1", "slots": 2}]
    client.post("/v1/swarms/s/agents", json={"agents": agents})
    client.post("/v1/swarms/s/tasks", json={"tasks": [{"id": f"t{k}"} for k in range(4)]})
    leased = client.post("/v1/swarms/s/agents/a0/pull").json()["tasks"]
    assert leased, "a0 holds leased tasks"
    page = client.get("/dashboard/live").text
    assert 'data-kpi="in_use_now">0%' not in page, "leased work shows as in use"
    row = page[page.index('data-agent="a0"') :]
    assert '<td class="n" data-in-use>0%' not in row[: row.index("</tr>")]
