"""Reading a mailbox's queue: the catch-up path for WebSocket delivery and HTTP fetch."""

from __future__ import annotations

from sqlalchemy import select

from confide_server.store.schema import envelopes
from confide_server.store.sqla_async import AsyncEngine


async def pending(
    engine: AsyncEngine, mailbox_id: bytes, limit: int, now: int, after_seq: int = 0
) -> list[tuple[int, bytes, bytes]]:
    """Up to ``limit`` unexpired envelopes (seq, id, body) after ``after_seq``, in queue order."""
    if limit <= 0:
        return []
    statement = (
        select(envelopes.c.seq, envelopes.c.id, envelopes.c.body)
        .where(
            envelopes.c.mailbox_id == mailbox_id,
            envelopes.c.seq > after_seq,
            envelopes.c.expires_at > now,
        )
        .order_by(envelopes.c.seq)
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [(seq, eid, bytes(body)) for seq, eid, body in await conn.execute(statement)]
