"""Request body limits counted on the stream: size (Content-Length alone can lie or be
absent) and JSON shape (objects, values, string lengths), so a hostile body is refused
while it arrives, chunk by chunk, without ever holding the event loop for long."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.json_shape import JsonShapeLimits, ShapeScanner

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """ASGI middleware: buffers up to `max_bytes` of body, answers 413 beyond that
    or when the body's JSON shape passes the limits `shape_for(path)` gives."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        shape_for: Callable[[str], JsonShapeLimits | None] = lambda _path: None,
        body_timeout_s: float = 30.0,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.shape_for = shape_for
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(send, scope, self._too_big())
            return
        limits = self.shape_for(scope.get("path", ""))
        scanner = ShapeScanner(limits) if limits is not None else None
        buffer = bytearray()
        more = True
        deadline = asyncio.get_running_loop().time() + self.body_timeout_s
        while more:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:  # a slow sender holds a connection and memory: let go
                await self._reject(send, scope, self._too_slow(), status=408)
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if len(buffer) + len(chunk) > self.max_bytes:
                await self._reject(send, scope, self._too_big())
                return
            refusal = scanner.feed(chunk) if scanner is not None else None
            if refusal is not None:
                await self._reject(send, scope, refusal)
                return
            buffer += chunk
            more = message.get("more_body", False)
        body = bytes(buffer)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_slow(self) -> str:
        return (
            f"the request body did not arrive within {self.body_timeout_s:g} s "
            "(ALLOCATOR_BODY_TIMEOUT_S); send it at once"
        )

    def _too_big(self) -> str:
        return (
            f"the request body exceeds {self.max_bytes} bytes "
            "(ALLOCATOR_MAX_BODY_BYTES); send a smaller request or split it"
        )

    async def _reject(self, send: Send, scope: Scope, detail: str, status: int = 413) -> None:
        payload = json.dumps(
            {
                "type": "about:blank",
                "title": "Request timeout" if status == 408 else "Request body too large",
                "status": status,
                "detail": detail,
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
