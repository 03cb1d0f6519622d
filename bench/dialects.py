"""How the generator talks to each server: the frame shapes and how a device connects.

Every server here speaks the relay's frames (docs/protocol.md, "WebSocket"): JSON text
frames, base64url bytes without padding, `send` answered by `accepted` (or `error`),
`envelope` answered by `ack`. The references differ only in how a connection says which
mailbox it owns (a query parameter instead of a bearer token), so one class builds and
reads the frames and the subclasses open connections. The generator does the counting
and timing, so a dialect stays a thin translation of the protocol.
"""

from __future__ import annotations

import os

import orjson
from workload import Pair
from wsclient import WebSocketClient, connect

RELAY_PATH = "/v1/ws"


class Dialect:
    """Frames shared by the relay and the references."""

    def __init__(self) -> None:
        # A run-unique prefix keeps repeated runs against one relay from looking like
        # retries, which the relay would (rightly) answer as duplicates.
        self._run = os.urandom(6).hex()

    async def open_recipient(self, port: int, pair: Pair) -> WebSocketClient:
        raise NotImplementedError

    async def open_sender(self, port: int, pair: Pair) -> WebSocketClient:
        raise NotImplementedError

    def send_frame(self, pair: Pair, client_id: int, envelope: str) -> bytes:
        return orjson.dumps(
            {
                "type": "send",
                "ref": client_id,
                "mailbox_id": pair.mailbox,
                "capability": pair.capability,
                "client_message_id": f"{self._run}:{client_id}",
                "body": envelope,
            }
        )

    def ack_frame(self, message_ids: list[object], ref: int) -> bytes:
        """An ack with a ref: the server answers `acked` once the deletion is durable."""
        return orjson.dumps({"type": "ack", "ids": message_ids, "ref": ref})

    def read_sender(self, payload: bytes) -> list[tuple[int, str]]:
        """(client id, problem) per answer to a send; the problem is "" when accepted."""
        frame = orjson.loads(payload)
        kind = frame.get("type")
        if kind == "accepted":
            return [(frame["ref"], "duplicate" if frame.get("duplicate") else "")]
        if kind == "error":
            ref = frame.get("ref")
            return [(ref if isinstance(ref, int) else -1, f"error {frame.get('error')}")]
        return []

    def read_recipient(self, payload: bytes) -> tuple[list[tuple[object, str]], int | None]:
        """(envelope id, body) for each envelope in one frame the recipient received, and
        the ref of an `acked` frame (the acknowledgement it names is durable)."""
        frame = orjson.loads(payload)
        kind = frame.get("type")
        if kind == "envelope":
            return [(frame["id"], frame["body"])], None
        if kind == "acked":
            ref = frame.get("ref")
            return [], ref if isinstance(ref, int) else -1
        return [], None


class ReferenceDialect(Dialect):
    """bench/references/app.py: the owner names its mailbox in the query string."""

    async def open_recipient(self, port: int, pair: Pair) -> WebSocketClient:
        return await connect(port, f"/ws?mailbox={pair.mailbox}")

    async def open_sender(self, port: int, pair: Pair) -> WebSocketClient:
        return await connect(port, "/ws")


class RelayDialect(Dialect):
    """The real relay: each device authenticates with its bearer token and waits for ready."""

    async def open_recipient(self, port: int, pair: Pair) -> WebSocketClient:
        return await open_authenticated(port, pair.recipient["token"])

    async def open_sender(self, port: int, pair: Pair) -> WebSocketClient:
        return await open_authenticated(port, pair.sender["token"])


async def open_authenticated(port: int, token: str) -> WebSocketClient:
    client = await connect(port, RELAY_PATH)
    client.send_text(orjson.dumps({"type": "auth", "token": token}))
    frame = orjson.loads(await client.recv())
    if frame.get("type") != "ready":
        raise RuntimeError(f"authentication refused: {frame}")
    return client


def dialect_named(name: str) -> Dialect:
    if name == "reference":
        return ReferenceDialect()
    if name == "relay":
        return RelayDialect()
    raise ValueError(f"unknown dialect {name!r}")
