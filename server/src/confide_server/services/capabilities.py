"""Send capabilities: random secrets whose SHA-256 lets anyone holding them write to a mailbox.

The relay keeps only the hash, so a database thief cannot send. An invite's capability is
derived from the invite token (``invite_capability``), so the relay need not store it to hand
it over at redemption; it stays pending (with an expiry) until the invite is redeemed.
"""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import insert, select, update

from confide_server.errors import NotFound
from confide_server.services.auth import digest
from confide_server.store.schema import capabilities
from confide_server.store.sqla_async import AsyncConnection

INVITE_CAPABILITY_TAG = b"Confide invite capability v1\x00"


def invite_capability(token: bytes) -> bytes:
    return hashlib.sha256(INVITE_CAPABILITY_TAG + token).digest()


async def mint(
    conn: AsyncConnection,
    mailbox_id: bytes,
    *,
    secret: bytes | None = None,
    expires_at: int | None = None,
) -> tuple[bytes, bytes]:
    """A new capability for ``mailbox_id``: returns (capability id, secret)."""
    capability_id = os.urandom(16)
    secret = os.urandom(32) if secret is None else secret
    await conn.execute(
        insert(capabilities).values(
            id=capability_id,
            secret_hash=digest(secret),
            mailbox_id=mailbox_id,
            revoked=False,
            expires_at=expires_at,
        )
    )
    return capability_id, secret


async def revoke(conn: AsyncConnection, mailbox_id: bytes, capability_id: bytes) -> None:
    result = await conn.execute(
        update(capabilities)
        .where(capabilities.c.id == capability_id, capabilities.c.mailbox_id == mailbox_id)
        .values(revoked=True)
    )
    if result.rowcount == 0:
        raise NotFound("no such capability on this mailbox")


async def listing(conn: AsyncConnection, mailbox_id: bytes) -> list[tuple[bytes, bool]]:
    rows = await conn.execute(
        select(capabilities.c.id, capabilities.c.revoked).where(
            capabilities.c.mailbox_id == mailbox_id, capabilities.c.expires_at.is_(None)
        )
    )
    return [(r.id, r.revoked) for r in rows]
