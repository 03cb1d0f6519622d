"""uvicorn's sans-io WebSocket protocol with one addition: several text frames in one write.

A group commit answers many sends at once, so a connection often has several frames queued
(``accepted`` for each of a sender's envelopes, ``envelope`` and ``acked`` for a
recipient). Through plain ASGI each frame is one ``websocket.send`` message and one system
call; this protocol advertises the ASGI extension ``confide.websocket.send_many`` and
answers a message of that type, ``{"type": "confide.websocket.send_many", "texts": [...]}``,
by framing every text and writing them with one call. ``confide serve`` runs uvicorn with
this class; under any other server the relay sends frame by frame (ws/socket.py).

It relies on the attributes of uvicorn's ``WebSocketsSansIOProtocol`` (``conn``,
``transport``, ``writable``), which the pinned uvicorn has; tests/server/test_protocol.py
runs it through a real uvicorn.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request

SEND_MANY = "confide.websocket.send_many"


class BatchingWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][SEND_MANY] = {}

    async def send(self, message: Any) -> None:
        if message["type"] != SEND_MANY:
            await super().send(message)
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        if not self.handshake_complete or self.close_sent or self.initial_response is not None:
            raise RuntimeError(f"{SEND_MANY} is for an open, accepted WebSocket")
        try:
            for text in message["texts"]:
                self.conn.send_text(text.encode())
        except InvalidState:
            raise ClientDisconnected() from None
        self.transport.write(b"".join(self.conn.data_to_send()))
