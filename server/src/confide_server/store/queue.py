"""Reading a mailbox's queue: the catch-up path for WebSocket delivery and HTTP fetch."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from confide_server.store.schema import envelopes


async def pending(
    engine: AsyncEngine,
    mailbox_id: bytes,
    limit: int,
    now: int,
    skip: Collection[bytes] = (),
) -> list[tuple[bytes, bytes]]:
    """Up to ``limit`` unexpired envelopes (id, body) in queue order, leaving out ``skip``."""
    if limit <= 0:
        return []
    statement = (
        select(envelopes.c.id, envelopes.c.body)
        .where(envelopes.c.mailbox_id == mailbox_id, envelopes.c.expires_at > now)
        .order_by(envelopes.c.seq)
        .limit(limit + len(skip))
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(statement)).all()
    return [(eid, body) for eid, body in rows if eid not in skip][:limit]
