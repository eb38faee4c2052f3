"""Whether the store can write: set by any failed write, cleared by a successful probe.

`SELECT 1` answers on a full or read-only disk, so readiness needs to know about
writes: a write that fails marks the store unhealthy (with a one-line reason) and
readiness probes with a real write until one succeeds.
"""

from __future__ import annotations

import threading
import time

__all__ = ["StorageHealth", "storage_reason"]


def storage_reason(exc: BaseException) -> str:
    """One line saying why the database refused: the driver's message, not SQLAlchemy's."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    reason = text[0] if text else type(cause).__name__
    return reason[:200]


class StorageHealth:
    """Thread-safe flag: the last write failure, until a write succeeds again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._reason = ""

    def failed(self, exc: BaseException) -> str:
        """Record a failed write; returns its one-line reason."""
        reason = storage_reason(exc)
        with self._lock:
            if self._failed_at is None:
                self._failed_at = time.time()
            self._reason = reason
        return reason

    def recovered(self) -> None:
        with self._lock:
            self._failed_at = None
            self._reason = ""

    @property
    def healthy(self) -> bool:
        with self._lock:
            return self._failed_at is None

    @property
    def reason(self) -> str:
        with self._lock:
            return self._reason
