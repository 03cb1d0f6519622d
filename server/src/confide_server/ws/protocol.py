"""uvicorn's sans-io WebSocket protocol with one addition: several text frames in one write.

A group commit answers many sends at once, so a connection often has several frames queued
(``accepted`` for each of a sender's envelopes, ``envelope`` and ``acked`` for a
recipient). Through plain ASGI each frame is one ``websocket.send`` message and one system
call; this protocol advertises the ASGI extension ``confide.websocket.send_many`` and
answers a message of that type, ``{"type": "confide.websocket.send_many", "texts": [...]}``,
by framing every text and writing them with one call. The extension's entry in the scope
also holds ``write_now(texts) -> bool``, the same without waiting: it writes only if the
connection is open and its transport is not paused, and says whether it did, so that
ws/outbox.py can write from the event loop without a task of its own. ``confide serve``
runs uvicorn with this class; under any other server the relay sends frame by frame
(ws/socket.py).

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
            scope["extensions"][SEND_MANY] = {"write_now": self.write_now}

    def write_now(self, texts: list[str]) -> bool:
        """Frame and write ``texts`` if that needs no waiting; False if nothing was written."""
        if not self.writable.is_set() or self.disconnected or not self._accepted():
            return False
        return self._write(texts)

    async def send(self, message: Any) -> None:
        if message["type"] != SEND_MANY:
            await super().send(message)
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        if not self._accepted():
            raise RuntimeError(f"{SEND_MANY} is for an open, accepted WebSocket")
        if not self._write(message["texts"]):
            raise ClientDisconnected()

    def _accepted(self) -> bool:
        return self.handshake_complete and not self.close_sent and self.initial_response is None

    def _write(self, texts: list[str]) -> bool:
        """Frame ``texts`` and write them in one call; False if the connection is not open."""
        try:
            for text in texts:
                self.conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True
