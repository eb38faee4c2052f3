"""CFS-style fair queue: per-tenant virtual runtime with nice-like weights.

Tenants sit in a `SortedList` keyed by virtual runtime; the least-served tenant goes
next and is charged `est / weight`. A tenant that comes back after idling starts at
the current minimum, so sleeping banks no credit (as in Linux's CFS).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

from sortedcontainers import SortedList

from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.records import TaskRecord

__all__ = ["CfsQueue", "nice_to_weight"]


def nice_to_weight(nice: int) -> float:
    """Linux's rule of thumb: each nice step is ~1.25x; nice 0 is weight 1."""
    return float(1.25 ** (-nice))


class _Tenant:
    __slots__ = ("count", "name", "q", "vruntime", "weight")

    def __init__(self, name: str, weight: float, vruntime: float) -> None:
        self.name = name
        self.weight = weight
        self.vruntime = vruntime
        self.q: deque[tuple[int, TaskRecord]] = deque()
        self.count = 0


class CfsQueue(QueueDiscipline):
    """Per-tenant FIFOs ordered by vruntime. push/pop/unpop/steal_one: O(log T), T tenants.

    Tenant weights come from `tenant_weights`, else from the first task's `weight`.
    """

    name = "cfs"
    __slots__ = ("_min_vruntime", "_ready", "_tenant_weights", "_tenants")

    def __init__(self, tenant_weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self._tenant_weights = dict(tenant_weights or {})
        self._tenants: dict[str, _Tenant] = {}
        self._ready: SortedList = SortedList()  # (vruntime, name) of tenants with work
        self._min_vruntime = 0.0

    def _tenant(self, task: TaskRecord) -> _Tenant:
        tenant = self._tenants.get(task.tenant)
        if tenant is None:
            weight = self._tenant_weights.get(task.tenant, task.weight)
            tenant = _Tenant(task.tenant, weight, self._min_vruntime)
            self._tenants[task.tenant] = tenant
        return tenant

    def push(self, task: TaskRecord, now: float) -> None:
        token = self._file(task)
        tenant = self._tenant(task)
        if tenant.count == 0:
            tenant.vruntime = max(tenant.vruntime, self._min_vruntime)
            self._ready.add((tenant.vruntime, tenant.name))
        tenant.count += 1
        tenant.q.append((token, task))

    def _take(self, tenant: _Tenant, from_left: bool) -> TaskRecord:
        # The tenant is ready, so its deque holds a live entry.
        entry = self._take_live(tenant.q, deque.popleft if from_left else deque.pop)
        assert entry is not None
        return entry[1]

    def _charge(self, tenant: _Tenant, amount: float) -> None:
        self._ready.remove((tenant.vruntime, tenant.name))
        tenant.vruntime += amount
        tenant.count -= 1
        if tenant.count:
            self._ready.add((tenant.vruntime, tenant.name))

    def pop(self, now: float) -> TaskRecord | None:
        if not self._n:
            return None
        vruntime, name = self._ready[0]
        self._min_vruntime = max(self._min_vruntime, vruntime)
        tenant = self._tenants[name]
        task = self._take(tenant, from_left=True)
        self._charge(tenant, task.est / tenant.weight)
        return task

    def unpop(self, task: TaskRecord) -> None:
        tenant = self._tenants[task.tenant]
        if tenant.count:
            self._ready.remove((tenant.vruntime, tenant.name))
        tenant.vruntime -= task.est / tenant.weight  # refund the charge of the pop
        tenant.count += 1
        self._ready.add((tenant.vruntime, tenant.name))
        tenant.q.appendleft((task.qtoken, task))
        task.queue = self
        self._n += 1

    def unsteal(self, task: TaskRecord) -> None:
        tenant = self._tenants[task.tenant]
        if tenant.count:
            self._ready.remove((tenant.vruntime, tenant.name))
        tenant.count += 1
        self._ready.add((tenant.vruntime, tenant.name))
        tenant.q.append((task.qtoken, task))
        task.queue = self
        self._n += 1

    def steal_one(self) -> TaskRecord | None:
        if not self._n:
            return None
        # The most-served tenant's newest task is the one this queue would run last.
        _vruntime, name = self._ready[-1]
        tenant = self._tenants[name]
        task = self._take(tenant, from_left=False)
        self._charge(tenant, 0.0)
        return task

    def remove(self, task: TaskRecord) -> None:
        self._charge(self._tenants[task.tenant], 0.0)
        super().remove(task)

    def shares(self) -> dict[str, float]:
        """Virtual runtime per tenant (for tests and KPIs). O(T)."""
        return {name: t.vruntime for name, t in self._tenants.items()}

    def _entries(self) -> Iterator[tuple[int, TaskRecord]]:
        for tenant in self._tenants.values():
            yield from tenant.q

    def _rebuild(self, live: list[TaskRecord]) -> None:
        for tenant in self._tenants.values():
            tenant.q = deque()
            tenant.count = 0
        self._ready = SortedList()
        for task in live:
            tenant = self._tenants[task.tenant]
            tenant.q.append((task.qtoken, task))
            tenant.count += 1
        for tenant in self._tenants.values():
            if tenant.count:
                self._ready.add((tenant.vruntime, tenant.name))

    def validate(self) -> None:
        super().validate()
        counts: dict[str, int] = {}
        for task in self.tasks():
            counts[task.tenant] = counts.get(task.tenant, 0) + 1
        for name, tenant in self._tenants.items():
            if tenant.count != counts.get(name, 0):
                raise AssertionError(f"cfs: tenant {name} count {tenant.count} is wrong")
        ready = {name for _v, name in self._ready}
        if ready != {n for n, c in counts.items() if c}:
            raise AssertionError("cfs: ready set disagrees with tenants holding work")
