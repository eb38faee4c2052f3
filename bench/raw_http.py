"""A minimal keep-alive HTTP/1.1 client on asyncio streams: cheap enough to load a server
from the same 2-core machine (httpx costs several times more CPU per request)."""

from __future__ import annotations

import asyncio
import contextlib
import json

__all__ = ["RawHttp"]


class RawHttp:
    """One persistent loopback connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int, token: str | None = None):
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        try:
            return await self._request(method, path, body)
        except ConnectionResetError:
            # The server closes idle keep-alive connections (uvicorn: after 5 s); the
            # request never reached it, so sending it again on a new connection is safe.
            return await self._request(method, path, body)

    async def _request(self, method: str, path: str, body: object) -> tuple[int, bytes]:
        if self._writer is None:
            await self._connect()
        assert self._reader is not None and self._writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        try:
            status_line = await self._reader.readline()
            if not status_line:
                raise ConnectionResetError("the server closed the connection")
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await self._reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            data = await self._reader.readexactly(length) if length else b""
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            await self.close()
            raise
        return status, data

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
