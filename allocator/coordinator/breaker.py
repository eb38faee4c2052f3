"""Per-agent circuit breakers with resilience4j's semantics, in a clock-injected core.

Closed -> open when, over a sliding window (count- or time-based) holding at least
`minimum_calls`, the failure rate or the slow-call rate reaches its threshold. Open
waits (backing off on repeated opens), then half-open permits a few probes; their
results close or re-open it, and a half-open breaker that hears nothing within
`max_half_open_s` re-opens, so it never sticks. We do not use pybreaker: it holds a
lock across every guarded call and wraps calls itself, whereas here calls are task
leases that finish much later as separate events on one thread with an injected
clock; a lock would protect nothing and the wrapping model does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "BreakerConfig", "CircuitBreaker"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

_FAIL = 1
_SLOW = 2


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Thresholds are fractions in [0, 1]; times are seconds on the injected clock."""

    window: Literal["count", "time"] = "count"
    window_size: int = 20  # calls (count window) or seconds (time window)
    minimum_calls: int = 10
    failure_rate_threshold: float = 0.5
    slow_call_rate_threshold: float = 1.0
    slow_call_s: float = 60.0
    wait_open_s: float = 5.0
    backoff_multiplier: float = 2.0
    max_wait_open_s: float = 300.0
    half_open_calls: int = 3
    max_half_open_s: float = 30.0

    def __post_init__(self) -> None:
        if self.window_size < 1 or self.minimum_calls < 1 or self.half_open_calls < 1:
            raise ValueError("window_size, minimum_calls and half_open_calls must be >= 1")
        for name in ("failure_rate_threshold", "slow_call_rate_threshold"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"{name} is {value}; use a fraction in (0, 1]")
        if self.wait_open_s <= 0 or self.max_half_open_s <= 0 or self.backoff_multiplier < 1:
            raise ValueError("wait_open_s and max_half_open_s > 0, backoff_multiplier >= 1")


class CircuitBreaker:
    """One agent's breaker. Every operation is O(1) (time window: amortised)."""

    __slots__ = (
        "_calls",
        "_cfg",
        "_clean",
        "_epochs",
        "_fails",
        "_last_epoch",
        "_opens",
        "_pos",
        "_probe_results",
        "_ring",
        "_size",
        "_slow_s",
        "_slows",
        "half_open_since",
        "open_until",
        "opened_at",
        "probes_issued",
        "state",
    )

    def __init__(self, config: BreakerConfig | None = None) -> None:
        cfg = config or BreakerConfig()
        self._cfg = cfg
        self._slow_s = cfg.slow_call_s
        # Closed, count window, no failure or slow call in it: a success only counts.
        self._clean = cfg.window == "count"
        self.state = CLOSED
        self._ring = [0] * cfg.window_size  # outcome codes, or per-second buckets
        self._size = cfg.window_size  # kept here so the success fast path skips the ring
        self._epochs = [-1] * cfg.window_size
        self._pos = 0
        self._calls = 0
        self._fails = 0
        self._slows = 0
        self._last_epoch = -1
        self._opens = 0
        self.open_until = 0.0
        self.opened_at = -1e300
        self.half_open_since = 0.0
        self.probes_issued = 0
        self._probe_results: list[int] = []

    # -- permission ---------------------------------------------------------------

    def allows(self, now: float) -> bool:
        """May the agent take a task now? Moves open -> half-open when the wait is over."""
        state = self.state
        if state is CLOSED:
            return True
        if state is OPEN:
            if now < self.open_until:
                return False
            self._to_half_open(now)
        if now - self.half_open_since > self._cfg.max_half_open_s:
            self._to_open(now)
            return False
        return self.probes_issued < self._cfg.half_open_calls

    def on_acquire(self) -> None:
        """A task was leased under this breaker (counts half-open probes)."""
        if self.state is HALF_OPEN:
            self.probes_issued += 1

    def poll(self, now: float) -> str:
        """Apply time-driven transitions (open wait, half-open timeout); return the state."""
        self.allows(now)
        return self.state

    # -- outcomes -----------------------------------------------------------------

    def record_success(self, now: float, duration_s: float) -> str | None:
        """A success; the common case (clean window, fast call) is a counter bump. O(1)."""
        if self._clean and duration_s < self._slow_s:
            # Every slot of a clean ring is 0, so where the success lands does not matter.
            if self._calls < self._size:
                self._calls += 1
            return None
        return self.record(now, False, duration_s)

    def record(self, now: float, failed: bool, duration_s: float | None = None) -> str | None:
        """Fold one call outcome in; return the new state if it changed, else None."""
        cfg = self._cfg
        code = (_FAIL if failed else 0) | (
            _SLOW if duration_s is not None and duration_s >= cfg.slow_call_s else 0
        )
        if self.state is CLOSED:
            if cfg.window == "count":
                self._record_count(code)
            else:
                self._record_time(now, code)
            if self._calls >= cfg.minimum_calls and self._tripped(
                self._fails, self._slows, self._calls
            ):
                self._to_open(now)
                return OPEN
            self._clean = cfg.window == "count" and not (self._fails or self._slows)
            return None
        if self.state is HALF_OPEN:
            self._probe_results.append(code)
            if len(self._probe_results) >= cfg.half_open_calls:
                results = self._probe_results
                fails = sum(1 for c in results if c & _FAIL)
                slows = sum(1 for c in results if c & _SLOW)
                if self._tripped(fails, slows, len(results)):
                    self._to_open(now)
                    return OPEN
                self._to_closed()
                return CLOSED
        return None  # results that arrive while open are from leases granted before

    def _tripped(self, fails: int, slows: int, calls: int) -> bool:
        cfg = self._cfg
        return (
            fails >= cfg.failure_rate_threshold * calls
            or slows >= cfg.slow_call_rate_threshold * calls
        )

    def _record_count(self, code: int) -> None:
        ring, pos = self._ring, self._pos
        if self._calls == len(ring):
            old = ring[pos]
            self._fails -= old & _FAIL
            self._slows -= (old & _SLOW) >> 1
        else:
            self._calls += 1
        ring[pos] = code
        self._fails += code & _FAIL
        self._slows += (code & _SLOW) >> 1
        self._pos = (pos + 1) % len(ring)

    def _record_time(self, now: float, code: int) -> None:
        # One bucket per second, packed as calls | fails << 20 | slows << 40.
        epoch = int(now)
        size = len(self._ring)
        if epoch > self._last_epoch:
            first = max(self._last_epoch + 1, epoch - size + 1)
            for e in range(first, epoch + 1):
                self._evict(e % size)
                self._epochs[e % size] = e
            self._last_epoch = epoch
        slot = epoch % size
        if self._epochs[slot] != epoch:
            return  # an outcome older than the window: nothing to count
        self._ring[slot] += 1 + ((code & _FAIL) << 20) + (((code & _SLOW) >> 1) << 40)
        self._calls += 1
        self._fails += code & _FAIL
        self._slows += (code & _SLOW) >> 1

    def _evict(self, slot: int) -> None:
        packed = self._ring[slot]
        self._calls -= packed & 0xFFFFF
        self._fails -= (packed >> 20) & 0xFFFFF
        self._slows -= packed >> 40
        self._ring[slot] = 0

    # -- transitions --------------------------------------------------------------

    def _reset_window(self) -> None:
        self._ring = [0] * len(self._ring)
        self._epochs = [-1] * len(self._ring)
        self._pos = self._calls = self._fails = self._slows = 0
        self._last_epoch = -1

    def _to_open(self, now: float) -> None:
        cfg = self._cfg
        wait = min(cfg.wait_open_s * cfg.backoff_multiplier**self._opens, cfg.max_wait_open_s)
        self._opens += 1
        self.state = OPEN
        self._clean = False
        self.opened_at = now
        self.open_until = now + wait
        self.probes_issued = 0
        self._probe_results = []
        self._reset_window()

    def _to_half_open(self, now: float) -> None:
        self.state = HALF_OPEN
        self._clean = False
        self.half_open_since = now
        self.probes_issued = 0
        self._probe_results = []

    def _to_closed(self) -> None:
        self.state = CLOSED
        self._opens = 0  # backoff restarts after a clean recovery
        self.probes_issued = 0
        self._probe_results = []
        self._reset_window()
        self._clean = self._cfg.window == "count"

    def force_open(self, now: float) -> None:
        """Open now (an operator or a missed heartbeat says the agent is gone)."""
        self._to_open(now)

    def snapshot(self) -> dict[str, float]:
        """Window figures for KPIs and tests. O(1)."""
        calls = self._calls
        return {
            "calls": calls,
            "failure_rate": self._fails / calls if calls else 0.0,
            "slow_call_rate": self._slows / calls if calls else 0.0,
            "open_until": self.open_until,
        }
