"""How the generator talks to each server: the frame shapes, one class per server family.

A dialect opens authenticated connections for a pair's sender and recipient, builds the
send and acknowledgement frames, and reads the frames that come back. The generator does
the counting and timing, so a dialect stays a thin translation of the protocol.
"""

from __future__ import annotations

from typing import Protocol

import orjson
from workload import Pair
from wsclient import WebSocketClient, connect


class Dialect(Protocol):
    async def open_recipient(self, port: int, pair: Pair) -> WebSocketClient: ...

    async def open_sender(self, port: int, pair: Pair) -> WebSocketClient: ...

    def send_frame(self, pair: Pair, client_id: int, envelope: str) -> bytes: ...

    def ack_frame(self, message_ids: list[object]) -> bytes: ...

    def read_sender(self, payload: bytes) -> list[int]:
        """The client ids the relay has accepted, from one frame the sender received."""
        ...

    def read_recipient(self, payload: bytes) -> list[tuple[object, str]]:
        """(message id, envelope) for each delivery in one frame the recipient received."""
        ...


class ReferenceDialect:
    """The references in bench/references/app.py: no authentication, one envelope a frame."""

    async def open_recipient(self, port: int, pair: Pair) -> WebSocketClient:
        return await connect(port, f"/ws?mailbox={pair.mailbox}")

    async def open_sender(self, port: int, pair: Pair) -> WebSocketClient:
        return await connect(port, "/ws")

    def send_frame(self, pair: Pair, client_id: int, envelope: str) -> bytes:
        return orjson.dumps(
            {"type": "send", "id": client_id, "mailbox": pair.mailbox, "envelope": envelope}
        )

    def ack_frame(self, message_ids: list[object]) -> bytes:
        return orjson.dumps({"type": "ack", "id": message_ids[0]})

    def read_sender(self, payload: bytes) -> list[int]:
        frame = orjson.loads(payload)
        return [frame["id"]] if frame.get("type") == "accepted" else []

    def read_recipient(self, payload: bytes) -> list[tuple[object, str]]:
        frame = orjson.loads(payload)
        return [(frame["id"], frame["envelope"])] if frame.get("type") == "deliver" else []


def dialect_named(name: str) -> Dialect:
    if name == "reference":
        return ReferenceDialect()
    if name == "relay":
        from relay_dialect import RelayDialect

        return RelayDialect()
    raise ValueError(f"unknown dialect {name!r}")
