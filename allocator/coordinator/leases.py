"""Task leases and agent heartbeats: what to take back when time runs out.

Every lease has the same timeout, so expiries arrive in time order and a deque is
enough (O(1) per lease; completed leases are dropped lazily when they reach the
front). Heartbeats arm one heap entry per agent holding leases, re-armed lazily, so
a busy pool costs nothing per heartbeat beyond storing `last_seen`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from allocator.coordinator.records import LEASED, AgentRecord, TaskRecord

__all__ = ["LeaseTable"]


class LeaseTable:
    """Lease expiry queue and heartbeat deadlines."""

    __slots__ = ("_expiries", "_heartbeats", "_tokens", "heartbeat_timeout_s", "lease_timeout_s")

    def __init__(self, lease_timeout_s: float, heartbeat_timeout_s: float) -> None:
        if lease_timeout_s <= 0 or heartbeat_timeout_s <= 0:
            raise ValueError("lease_timeout_s and heartbeat_timeout_s must be positive seconds")
        self.lease_timeout_s = lease_timeout_s
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._expiries: deque[tuple[float, int, TaskRecord]] = deque()
        self._heartbeats: list[tuple[float, str]] = []
        self._tokens = itertools.count(1).__next__

    def retime(self, lease_timeout_s: float, heartbeat_timeout_s: float) -> None:
        """New timeouts for every lease and watch, counted from its grant or arming. O(n).

        All deadlines move by the same amount, so the expiry deque stays in time order
        and the heartbeat heap stays a heap.
        """
        if lease_timeout_s <= 0 or heartbeat_timeout_s <= 0:
            raise ValueError("lease_timeout_s and heartbeat_timeout_s must be positive seconds")
        shift = lease_timeout_s - self.lease_timeout_s
        if shift:
            self._expiries = deque((at + shift, token, t) for at, token, t in self._expiries)
        beat_shift = heartbeat_timeout_s - self.heartbeat_timeout_s
        if beat_shift:
            self._heartbeats = [(due + beat_shift, agent) for due, agent in self._heartbeats]
        self.lease_timeout_s = lease_timeout_s
        self.heartbeat_timeout_s = heartbeat_timeout_s

    def grant(self, task: TaskRecord, now: float) -> None:
        """Record a new lease on `task`. O(1)."""
        token = self._tokens()
        task.lease_token = token
        self._expiries.append((now + self.lease_timeout_s, token, task))

    def arm(self, agent: AgentRecord, now: float) -> None:
        """Watch `agent`'s heartbeat (it just took its first lease). O(log n)."""
        agent.hb_armed = True
        heapq.heappush(self._heartbeats, (now + self.heartbeat_timeout_s, agent.id))

    def expired(self, now: float) -> list[TaskRecord]:
        """Leased tasks whose lease ran out by `now`. O(1) amortised per lease."""
        out: list[TaskRecord] = []
        expiries = self._expiries
        while expiries:
            at, token, task = expiries[0]
            live = task.lease_token == token and task.state == LEASED
            if live and at > now:
                break
            expiries.popleft()
            if live:
                out.append(task)
        return out

    def silent_agents(self, now: float, agents: dict[str, AgentRecord]) -> list[AgentRecord]:
        """Agents holding leases whose last contact is older than the heartbeat timeout.

        O(k log n) for k due heap entries; agents heard from since are re-armed.
        """
        out: list[AgentRecord] = []
        beats = self._heartbeats
        timeout = self.heartbeat_timeout_s
        while beats and beats[0][0] <= now:
            _due, agent_id = heapq.heappop(beats)
            agent = agents.get(agent_id)
            if agent is None:
                continue
            if not agent.leases:
                agent.hb_armed = False
            elif agent.last_seen + timeout <= now:
                agent.hb_armed = False
                out.append(agent)
            else:
                heapq.heappush(beats, (agent.last_seen + timeout, agent_id))
        return out

    def __len__(self) -> int:
        return len(self._expiries)
