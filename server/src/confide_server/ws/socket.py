"""A WebSocket over bare ASGI messages, and the middleware that routes /v1/ws to it.

The relay's one WebSocket endpoint carries nearly all of its traffic, so it is served by
an ASGI middleware in front of the framework: each frame then costs one ASGI message, not a
trip through routing, exception handling and the framework's WebSocket wrapper (a sizeable
share of the relay's CPU time under load; the figure: docs/benchmarks.md, lab notebook).
``RawSocket`` is what the socket adapter (ws/connection.py) needs from a WebSocket; over
plain ASGI callables it also serves the in-memory test tier (tests/server/memory_ws.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from confide_server.errors import Forbidden
from confide_server.ws.protocol import SEND_MANY, Sink

WS_PATH = "/v1/ws"


class RawSocket:
    """The operations ws/connection.py needs, over ASGI ``receive`` and ``send``."""

    def __init__(
        self,
        receive: Receive,
        send: Send,
        *,
        send_many: bool = False,
        write_now: Callable[[list[str]], bool] | None = None,
        go_direct: Callable[[Sink], bool] | None = None,
    ) -> None:
        self.receive = receive
        self._send = send
        self._send_many = send_many
        self._write_now = write_now
        self._go_direct = go_direct

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, send: Send) -> RawSocket:
        """A socket using the server's ``send_many`` extension (ws/protocol.py) if offered."""
        extension = (scope.get("extensions") or {}).get(SEND_MANY)
        if extension is None:
            return cls(receive, send)
        return cls(
            receive,
            send,
            send_many=True,
            write_now=extension.get("write_now"),
            go_direct=extension.get("go_direct"),
        )

    async def accept(self) -> None:
        await self.receive()  # websocket.connect
        await self._send({"type": "websocket.accept"})

    async def send_texts(self, texts: list[str]) -> None:
        """Several text frames: one write where the server offers it (ws/protocol.py)."""
        if self._send_many:
            await self._send({"type": SEND_MANY, "texts": texts})
            return
        for text in texts:
            await self._send({"type": "websocket.send", "text": text})

    def write_now(self, texts: list[str]) -> bool:
        """Write at once if the server allows it without waiting; False if nothing went."""
        return self._write_now is not None and self._write_now(texts)

    def go_direct(self, sink: Sink) -> bool:
        """Have text frames passed to ``sink`` as they arrive (ws/protocol.py), if the server
        allows it and nothing received is still waiting to be read; False otherwise."""
        return self._go_direct is not None and self._go_direct(sink)

    async def close(self, code: int, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


class WebSocketRoute:
    """ASGI middleware: /v1/ws goes straight to ``handler``; everything else to ``app``."""

    def __init__(self, app: ASGIApp, handler: Callable[[RawSocket], Any]) -> None:
        self._app = app
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if scope.get("path") == WS_PATH:
                await self._handler(RawSocket.from_scope(scope, receive, send))
            else:
                await _refuse(scope, send)
            return
        await self._app(scope, receive, send)


REFUSED = Forbidden("the WebSocket was refused")


async def _refuse(scope: Scope, send: Send) -> None:
    """Refuse a WebSocket on any other path with 403 problem+json, as the relay's own
    protocol does (ws/protocol.py); under uvicorn's implementation that needs the ASGI
    denial-response extension, without which a refusal is websockets' empty text/plain."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = orjson.dumps(REFUSED.problem() | {"status": 403})
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
