"""Stored push subscriptions: one endpoint URL per worker device (store/schema.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from confide_server.store.schema import envelopes, mailboxes, push_subscriptions
from confide_server.store.sqla_async import AsyncConnection


async def save(conn: AsyncConnection, device_id: bytes, endpoint: str, expires_at: int) -> None:
    """This device's subscription is now ``endpoint`` (replacing any earlier one)."""
    await remove(conn, device_id)
    await conn.execute(
        insert(push_subscriptions).values(
            device_id=device_id, endpoint=endpoint, expires_at=expires_at
        )
    )


async def remove(conn: AsyncConnection, device_id: bytes, endpoint: str | None = None) -> int:
    """Forget the device's subscription (only if it is still ``endpoint``, when given)."""
    statement = delete(push_subscriptions).where(push_subscriptions.c.device_id == device_id)
    if endpoint is not None:
        statement = statement.where(push_subscriptions.c.endpoint == endpoint)
    return (await conn.execute(statement)).rowcount


async def still_waiting(
    conn: AsyncConnection, envelope_ids: Sequence[bytes], now: float
) -> list[tuple[bytes, str]]:
    """(device id, endpoint) of the live subscriptions whose device has one of these
    envelopes still queued (not yet acknowledged)."""
    rows = await conn.execute(
        select(push_subscriptions.c.device_id, push_subscriptions.c.endpoint)
        .select_from(envelopes)
        .join(mailboxes, mailboxes.c.id == envelopes.c.mailbox_id)
        .join(push_subscriptions, push_subscriptions.c.device_id == mailboxes.c.device_id)
        .where(envelopes.c.id.in_(list(envelope_ids)), push_subscriptions.c.expires_at > int(now))
        .distinct()
    )
    return [(bytes(r.device_id), str(r.endpoint)) for r in rows]
