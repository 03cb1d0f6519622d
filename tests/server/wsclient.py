"""A small WebSocket test client speaking the relay's frame catalogue."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from .helpers import b64e


class WsClient:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str, token: str | None = None) -> WsClient:
        # An unbounded queue: a test that leaves frames unread must not stall the close
        # handshake (with a bounded one the client stops reading the socket, never sees the
        # relay's close frame and waits out its 10 s close timeout). Tests of backpressure
        # open a bounded connection of their own.
        client = cls(await connect(url, compression=None, max_size=2**22, max_queue=None))
        if token is not None:
            await client.put({"type": "auth", "token": token})
            ready = await client.get()
            assert ready["type"] == "ready", ready
        return client

    async def put(self, frame: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(frame))

    async def get(self) -> dict[str, Any]:
        # A bound on waiting, so a missing frame fails the test instead of hanging it.
        async with asyncio.timeout(10):
            frame: dict[str, Any] = json.loads(await self.conn.recv())
        return frame

    async def send(self, mailbox_id: str, cap: str, cmid: str, body: bytes, ref: int = 0) -> None:
        await self.put(
            {
                "type": "send",
                "ref": ref,
                "mailbox_id": mailbox_id,
                "capability": cap,
                "client_message_id": cmid,
                "body": b64e(body),
            }
        )

    async def close(self) -> None:
        await self.conn.close()
