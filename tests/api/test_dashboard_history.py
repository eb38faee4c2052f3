"""The dashboard's history: ring buffers per swarm, rates from counts, inline SVG charts."""

from __future__ import annotations

import re
import time

import pytest
from pydantic import ValidationError

from api.dashboard_views import SwarmLive
from api.history_charts import line_chart_svg
from api.kpi_history import KpiHistory, Series
from api.settings import ServiceSettings


def _swarm(name: str, completed: float, in_use: float = 0.5, p95: float = 0.2) -> SwarmLive:
    kpis = {"completed": completed, "in_use_now": in_use, "queue_latency_p95_s": p95}
    return SwarmLive(name=name, agents=[], kpis=kpis)


def test_ring_keeps_the_window_and_rates_are_completions_per_second() -> None:
    history = KpiHistory(sample_s=2.0, history_s=10.0)  # 10 / 2 + 1 = 6 samples kept
    for k in range(20):
        history.sample([_swarm("s", completed=30.0 * k)], at=1000.0 + 2.0 * k)
    series = history.series("s")
    assert len(series["in_use"].points) == 6
    assert series["in_use"].points[0][0] == 1000.0 + 2.0 * 14
    rates = [v for _, v in series["throughput_per_s"].points]
    assert rates == [15.0] * 5  # 30 completions every 2 s


def test_restarted_swarm_gives_no_negative_rate_and_gone_swarms_are_forgotten() -> None:
    history = KpiHistory(sample_s=1.0, history_s=60.0)
    history.sample([_swarm("s", 50.0), _swarm("t", 1.0)], at=10.0)
    history.sample([_swarm("s", 0.0)], at=11.0)  # restarted: counts from zero; t is gone
    history.sample([_swarm("s", 4.0)], at=13.0)
    assert [v for _, v in history.series("s")["throughput_per_s"].points] == [2.0]
    assert history.series("t")["in_use"].points == []


def test_chart_is_inline_svg_with_one_point_per_sample_and_escaped_text() -> None:
    points = [(100.0 + k, float(k)) for k in range(5)]
    svg = line_chart_svg("x", "<b>rate</b>", Series(points), lambda v: f"{v:.1f}/s", window_s=60)
    assert svg.startswith('<svg data-chart="x"') and "<b>" not in svg
    (drawn,) = re.findall(r'points="([^"]*)"', svg)
    ys = [float(p.split(",")[1]) for p in drawn.split()]
    assert len(ys) == 5 and ys == sorted(ys, reverse=True)  # rising values go up the chart
    assert ">4.0/s<" in svg and "max 4.0/s" in svg
    assert "collecting samples" in line_chart_svg("x", "t", Series(points[:1]), str, window_s=60)


def test_sampler_thread_fills_and_stops() -> None:
    history = KpiHistory(sample_s=0.02, history_s=1.0)
    count = iter(range(10**6))
    history.start(lambda: [_swarm("s", float(next(count)))])
    try:
        deadline = time.monotonic() + 5
        while len(history.series("s")["in_use"].points) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        history.stop()
    assert history._thread is not None and not history._thread.is_alive()
    assert all(v > 0 for _, v in history.series("s")["throughput_per_s"].points)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_settings_refuse_a_non_positive_sample_period(bad: float) -> None:
    with pytest.raises(ValidationError, match="dashboard_sample_s"):
        ServiceSettings(dashboard_sample_s=bad)
