"""Named policies to compare: placement + steal policy + queue discipline."""

from __future__ import annotations

from dataclasses import dataclass

from allocator.coordinator import DISCIPLINES, PLACEMENTS, STEAL_POLICIES

__all__ = ["DEFAULT_POLICIES", "POLICY_NAMES", "SimPolicy", "policy_by_name"]


@dataclass(frozen=True)
class SimPolicy:
    """How the coordinator is configured for one simulated run."""

    name: str
    placement: str = "global"
    steal: str = "heaviest"
    queue: str = "fifo"
    choices: int = 2
    speed_aware: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement {self.placement!r}; choose one of {', '.join(PLACEMENTS)}")
        if self.steal not in STEAL_POLICIES:
            raise ValueError(f"steal {self.steal!r}; choose one of {', '.join(STEAL_POLICIES)}")
        if self.queue not in DISCIPLINES:
            raise ValueError(f"queue {self.queue!r}; choose one of {', '.join(DISCIPLINES)}")


#: The default comparison: two baselines, every steal policy, and late binding.
DEFAULT_POLICIES: tuple[SimPolicy, ...] = (
    SimPolicy("round-robin", "round_robin", "none", label="baseline: round-robin, no stealing"),
    SimPolicy("seed", "round_robin", "seed", label="seed: round-robin + heaviest victim"),
    SimPolicy("heaviest", "least_loaded", "heaviest", label="power-of-2 + heaviest victim"),
    SimPolicy("locality", "least_loaded", "locality", label="power-of-2 + locality-aware"),
    SimPolicy("steal-half", "least_loaded", "steal_half", label="power-of-2 + random steal-half"),
    SimPolicy("late-binding", "global", "heaviest", label="ours: late binding, speed-aware pull"),
)
POLICY_NAMES: tuple[str, ...] = tuple(p.name for p in DEFAULT_POLICIES)


def policy_by_name(name: str) -> SimPolicy:
    for policy in DEFAULT_POLICIES:
        if policy.name == name:
            return policy
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICY_NAMES)}")
