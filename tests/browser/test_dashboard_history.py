"""The dashboard's history charts in real Chromium: inline SVG lines drawn from samples."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.settings import ServiceSettings
from tests.api.service_process import free_port
from tests.api.simulated_swarm import SimulatedSwarm
from tests.browser.conftest import open_logged_page, screenshot

CHARTS = ("in_use", "latency_p95", "throughput")


@pytest.fixture
def sampled_server(tmp_path: Path) -> Iterator[str]:
    """The real app under uvicorn, its history sampled every 0.2 s from a working swarm."""
    settings = ServiceSettings(
        data_dir=tmp_path / "data", run_jobs=False, fast_workers=0, dashboard_sample_s=0.2
    )
    app = create_app(settings)
    swarm = SimulatedSwarm(n_agents=6)
    app.state.swarm_feed = swarm.feed
    port = free_port()
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
    swarm.start(period_s=0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        swarm.stop()
        server.should_exit = True
        thread.join(timeout=10)


def test_history_charts_render_and_fill(browser: Any, sampled_server: str) -> None:
    origin = sampled_server
    page, log = open_logged_page(browser, origins=(origin,))
    try:
        page.goto(origin + "/", wait_until="load")
        for name in CHARTS:
            assert page.locator(f'svg.history[data-chart="{name}"]').count() == 1, name
        # The live part refreshes every 2 s; by then the sampler has several samples.
        page.wait_for_function(
            "() => document.querySelectorAll('svg.history polyline').length === 3",
            timeout=15_000,
        )
        for name in CHARTS:
            chart = page.locator(f'svg.history[data-chart="{name}"]')
            box = chart.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 30, name
            points = chart.locator("polyline").get_attribute("points") or ""
            assert len(points.split()) >= 2, (name, points)
        newest = page.locator('svg.history[data-chart="throughput"] text.v')
        throughput = newest.text_content() or ""
        assert throughput.endswith("/s") and float(throughput[:-2].replace(",", "")) > 0
        screenshot(page, "dashboard-history")
        assert log.errors == [], log.errors
        assert log.blocked == [], f"requests left the service: {log.blocked}"
    finally:
        page.context.close()
