"""An ASGI middleware that refuses request bodies over the limit before reading them all.

A body with a Content-Length over the limit is refused before any of it is read. A chunked
body has no length, so it is counted as it arrives: once it passes the limit the middleware
answers 413 itself and tells the application the client has gone (``http.disconnect``).
Raising into the application instead would let a framework that parses the body turn the
failure into its own 400 ("error parsing the body"), which is what FastAPI does.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide_server.errors import TooLarge

ATTACHMENTS_PREFIX = "/v1/attachments"


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default: int, attachments: int) -> None:
        self._app = app
        self._default = default
        self._attachments = attachments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self._attachments if path.startswith(ATTACHMENTS_PREFIX) else self._default
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await refuse(scope, send, limit)
                return
        await _Counted(self._app, scope, receive, send, limit).run()


class _Counted:
    """One request whose body is counted; past the limit it is answered 413 and cut off."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int):
        self._app, self._scope, self._receive, self._send = app, scope, receive, send
        self._limit = limit
        self._seen = 0
        self._started = False
        self._refused = False

    async def run(self) -> None:
        try:
            await self._app(self._scope, self._counted_receive, self._tracking_send)
        except TooLarge:
            # An application may still raise it (the attachment route counts too).
            if not self._started:
                await self._refuse()

    async def _counted_receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                if not self._started:
                    await self._refuse()
                self._refused = True
                return {"type": "http.disconnect"}
        return message

    async def _tracking_send(self, message: Message) -> None:
        if self._refused:
            return  # the 413 has been sent; whatever the application answers is dropped
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    async def _refuse(self) -> None:
        self._refused = True
        self._started = True
        await refuse(self._scope, self._send, self._limit)


async def refuse(scope: Scope, send: Send, limit: int) -> None:
    body = orjson.dumps(
        TooLarge(f"request body is larger than {limit} bytes").problem(scope.get("path"))
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
