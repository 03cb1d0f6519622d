"""The reference relay: the least a WebSocket relay can do, as a bare ASGI app.

Frames are the real relay's (docs/protocol.md; JSON text frames, base64url without padding):

    client -> relay   {"type": "send", "ref", "mailbox_id", "capability", "client_message_id",
                       "body"}
    relay -> sender   {"type": "accepted", "ref", "id", "duplicate": false}
    relay -> owner    {"type": "envelope", "id", "body"}
    owner -> relay    {"type": "ack", "ids": [...], "ref"}
    relay -> owner    {"type": "acked", "ref"}   (once the deletion is durable)

A connection names the mailbox it owns in the query string (`/ws?mailbox=...`); there is no
authentication, no capability check, no idempotency, no validation beyond decoding and no
backlog. "accepted" is sent only after
the store has made the envelope durable, and delivery happens at the same moment.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from references.stores import NullStore, PostgresStore, SQLiteStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Store = NullStore | SQLiteStore | PostgresStore


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ReferenceRelay:
    """An ASGI application around one store; mailboxes map to the connection that owns them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.owners: dict[str, Send] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.store.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        query = parse_qs(scope["query_string"].decode())
        mailbox = query.get("mailbox", [""])[0]
        if mailbox:
            self.owners[mailbox] = send
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                self._handle(orjson.loads(message["text"]), send)
        finally:
            if mailbox and self.owners.get(mailbox) is send:
                del self.owners[mailbox]

    def _handle(self, frame: dict[str, Any], send: Send) -> None:
        if frame["type"] == "ack":
            ids = [int.from_bytes(_b64decode(i), "big") for i in frame["ids"]]
            ack_ref = frame.get("ref")

            async def deleted() -> None:
                await send({"type": "websocket.send", "text": _acked(ack_ref)})

            self.store.delete(ids, deleted if ack_ref is not None else None)
            return
        ref = frame["ref"]
        mailbox = frame["mailbox_id"]
        body = frame["body"]

        async def durable(message_id: int) -> None:
            envelope_id = _b64encode(message_id.to_bytes(16, "big"))
            await send({"type": "websocket.send", "text": _accepted(ref, envelope_id)})
            owner = self.owners.get(mailbox)
            if owner is not None:
                await owner({"type": "websocket.send", "text": _envelope(envelope_id, body)})

        self.store.enqueue(_b64decode(mailbox), _b64decode(body), durable)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _accepted(ref: object, envelope_id: str) -> str:
    return orjson.dumps(
        {"type": "accepted", "ref": ref, "id": envelope_id, "duplicate": False}
    ).decode()


def _acked(ref: object) -> str:
    return orjson.dumps({"type": "acked", "ref": ref}).decode()


def _envelope(envelope_id: str, body: str) -> str:
    return orjson.dumps({"type": "envelope", "id": envelope_id, "body": body}).decode()
