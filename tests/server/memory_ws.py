"""A WebSocket client of the real connection and session, with no socket in between.

Like h11's ConnectionPair, this joins two endpoints in memory: the relay's own socket
adapter (ws/connection.py) with its sans-io session (ws/session.py) runs exactly as under
uvicorn, over ASGI ``receive``/``send`` callables that this client feeds and reads. The
store behind it is the real one (the app's relay), so a test of this tier runs Alice ↔
relay ↔ Bob through every rule of the relay except the frame reader and TCP.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from confide_server.relay import Relay
from confide_server.ws.connection import Connection, Context
from confide_server.ws.socket import RawSocket

WAIT = 10.0  # seconds a test waits for a frame before failing, never hanging


class MemoryWebSocket:
    def __init__(self, context: Context) -> None:
        self._to_relay: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_relay: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self._to_relay.put_nowait({"type": "websocket.connect"})
        socket = RawSocket(self._to_relay.get, self._relay_sends)
        self.task = asyncio.create_task(Connection(socket, context).run())

    @classmethod
    def of(cls, relay: Relay, **overrides: Any) -> MemoryWebSocket:
        """A connection to ``relay``, with settings changed by ``overrides`` if any."""
        settings = relay.settings.model_copy(update=overrides)
        return cls(Context.build(settings, relay.mailboxes, relay.metrics))

    async def _relay_sends(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            await self._from_relay.put(json.loads(message["text"]))
        elif kind == "websocket.close":
            self.close_code = message.get("code", 1000)
            await self._from_relay.put({"type": "closed", "code": self.close_code})
            await self._to_relay.put({"type": "websocket.disconnect", "code": self.close_code})
        elif kind != "websocket.accept":
            raise AssertionError(f"unexpected ASGI message {kind!r}")

    async def put(self, frame: dict[str, Any]) -> None:
        await self._to_relay.put({"type": "websocket.receive", "text": json.dumps(frame)})

    async def get(self) -> dict[str, Any]:
        """The next frame from the relay; ``{"type": "closed", "code": ...}`` once it closed."""
        async with asyncio.timeout(WAIT):
            return await self._from_relay.get()

    async def authenticate(self, token: str) -> dict[str, Any]:
        await self.put({"type": "auth", "token": token})
        return await self.get()

    async def close(self) -> None:
        """The client goes away; the connection must end and clean up."""
        await self._to_relay.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(WAIT):
            await self.task
