"""Coordinator state snapshots, rebalancing decisions, KPI history and live settings."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from allocator.store.tables import KpiSnapshotRow, RebalanceEventRow, SettingRow, SwarmStateRow

__all__ = ["KpiSnapshot", "RebalanceEvent", "SwarmRepository"]


@dataclass(frozen=True)
class RebalanceEvent:
    """One rebalancing decision as stored."""

    id: int
    swarm: str
    at: float
    strategy: str
    reason: str
    moves: list[Any]
    kpi_before: dict[str, Any]
    kpi_after: dict[str, Any]


@dataclass(frozen=True)
class KpiSnapshot:
    """KPIs of one swarm at one time."""

    swarm: str
    at: float
    kpis: dict[str, Any]


class SwarmRepository:
    """Persistence for the coordinator runtime; thread-safe (one session per call)."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def save_state(self, swarm: str, state: str, version: int) -> None:
        with self._sessions.begin() as session:
            row = session.get(SwarmStateRow, swarm)
            if row is None:
                session.add(
                    SwarmStateRow(swarm=swarm, state=state, version=version, updated_at=time.time())
                )
            else:
                row.state, row.version, row.updated_at = state, version, time.time()

    def load_states(self) -> dict[str, str]:
        with self._sessions() as session:
            return {r.swarm: r.state for r in session.scalars(select(SwarmStateRow))}

    def add_rebalance(
        self,
        swarm: str,
        strategy: str,
        reason: str,
        moves: list[Any],
        kpi_before: dict[str, Any],
        kpi_after: dict[str, Any],
        at: float | None = None,
    ) -> None:
        with self._sessions.begin() as session:
            session.add(
                RebalanceEventRow(
                    swarm=swarm,
                    at=time.time() if at is None else at,
                    strategy=strategy,
                    reason=reason,
                    moves=json.dumps(moves),
                    kpi_before=json.dumps(kpi_before),
                    kpi_after=json.dumps(kpi_after),
                )
            )

    def rebalances(
        self, swarm: str, since: float | None, until: float | None, limit: int = 200
    ) -> Sequence[RebalanceEvent]:
        query = select(RebalanceEventRow).where(RebalanceEventRow.swarm == swarm)
        if since is not None:
            query = query.where(RebalanceEventRow.at >= since)
        if until is not None:
            query = query.where(RebalanceEventRow.at <= until)
        with self._sessions() as session:
            rows = session.scalars(query.order_by(RebalanceEventRow.at.desc()).limit(limit))
            return [
                RebalanceEvent(
                    r.id,
                    r.swarm,
                    r.at,
                    r.strategy,
                    r.reason,
                    json.loads(r.moves),
                    json.loads(r.kpi_before),
                    json.loads(r.kpi_after),
                )
                for r in rows
            ]

    def add_kpis(self, swarm: str, kpis: dict[str, Any], at: float | None = None) -> None:
        with self._sessions.begin() as session:
            session.add(
                KpiSnapshotRow(
                    swarm=swarm, at=time.time() if at is None else at, kpis=json.dumps(kpis)
                )
            )

    def kpi_history(
        self, swarm: str, since: float | None, until: float | None, limit: int = 1000
    ) -> Sequence[KpiSnapshot]:
        query = select(KpiSnapshotRow).where(KpiSnapshotRow.swarm == swarm)
        if since is not None:
            query = query.where(KpiSnapshotRow.at >= since)
        if until is not None:
            query = query.where(KpiSnapshotRow.at <= until)
        with self._sessions() as session:
            rows = session.scalars(query.order_by(KpiSnapshotRow.at.desc()).limit(limit))
            return [KpiSnapshot(r.swarm, r.at, json.loads(r.kpis)) for r in rows]

    def prune_kpis(self, older_than: float) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(KpiSnapshotRow).where(KpiSnapshotRow.at < older_than))

    def get_setting(self, key: str) -> str | None:
        with self._sessions() as session:
            row = session.get(SettingRow, key)
            return row.value if row else None

    def put_setting(self, key: str, value: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(SettingRow, key)
            if row is None:
                session.add(SettingRow(key=key, value=value, updated_at=time.time()))
            else:
                row.value, row.updated_at = value, time.time()
