"""The HTTP server's own limits: a deadline for request headers, on top of uvicorn's.

uvicorn times out idle keep-alive connections but not a client that sends its
headers one byte every few seconds (slowloris): each such connection is held
forever. This protocol closes a connection whose request headers are not complete
within `header_timeout_s` of the connection opening or of the request's first byte.
Body read timeouts are the app's (the body limit middleware); the connection cap is
uvicorn's `limit_concurrency`.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["header_timeout_protocol"]


def header_timeout_protocol(header_timeout_s: float) -> type[HttpToolsProtocol]:
    """An httptools protocol class that enforces `header_timeout_s` on request headers."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._header_timer is None:  # a keep-alive connection's next request
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(header_timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
