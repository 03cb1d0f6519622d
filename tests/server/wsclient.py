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
        client = cls(await connect(url, compression=None, max_size=2**22))
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
