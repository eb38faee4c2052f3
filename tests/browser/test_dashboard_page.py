"""The dashboard in real Chromium against a running server with a simulated swarm."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.settings import ServiceSettings
from tests.api.simulated_swarm import SimulatedSwarm
from tests.browser.conftest import open_logged_page, screenshot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, SimulatedSwarm]]:
    """The real app under uvicorn in a thread, fed by a swarm that keeps working."""
    settings = ServiceSettings(data_dir=tmp_path / "data", run_jobs=False, fast_workers=0)
    app = create_app(settings)
    swarm = SimulatedSwarm(n_agents=8)
    swarm.step()
    app.state.swarm_feed = swarm.feed
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 15 s")
        time.sleep(0.05)
    swarm.start(period_s=0.1)
    try:
        yield f"http://127.0.0.1:{port}", swarm
    finally:
        swarm.stop()
        server.should_exit = True
        thread.join(timeout=10)


def test_live_view_updates_without_reload(browser: Any, live_server: tuple[str, Any]) -> None:
    origin, swarm = live_server
    page, log = open_logged_page(browser, origins=(origin,))
    try:
        page.goto(origin + "/", wait_until="load")
        assert page.locator("tr[data-agent]").count() == 8
        assert page.locator('svg[data-chart="topology"] .pt.link.bottleneck').count() == 1
        first = int(page.locator('[data-kpi="completed"]').first.inner_text())
        page.evaluate("() => { window.__sameDocument = true; }")
        # The page refreshes its live part every 2 s; wait for two refreshes.
        page.wait_for_function(
            "() => Number(document.getElementById('updated').dataset.refreshes) >= 2",
            timeout=10_000,
        )
        later = int(page.locator('[data-kpi="completed"]').first.inner_text())
        assert later > first, "the live view did not change while the swarm worked"
        assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
        assert swarm.completed() >= later
        screenshot(page, "dashboard")
        assert log.errors == [], log.errors
        assert log.blocked == [], f"requests left the service: {log.blocked}"
        assert all(u.startswith(origin) for u in log.requests), log.requests
    finally:
        page.context.close()
