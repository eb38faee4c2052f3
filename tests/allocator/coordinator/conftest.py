"""Shared fixtures: a manual clock and small coordinators."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allocator.coordinator import AgentSpec, Coordinator, CoordinatorConfig


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_coord(clock: ManualClock) -> Callable[..., Coordinator]:
    def build(
        n_agents: int = 3, speeds: list[float] | None = None, **kwargs: object
    ) -> Coordinator:
        config = kwargs.pop("config", None) or CoordinatorConfig()
        coord = Coordinator(config, clock=clock, **kwargs)  # type: ignore[arg-type]
        for i in range(n_agents):
            speed = speeds[i] if speeds else 1.0
            coord.register_agent(AgentSpec(f"a{i}", speed=speed))
        return coord

    return build
