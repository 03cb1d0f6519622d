"""Attachment blobs: encrypted by the sender, stored until fetched-and-deleted or expired.

The blob id (16 random bytes) is the only handle; it travels inside the end-to-end channel.
"""

from __future__ import annotations

import os

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from confide_server.errors import NotFound
from confide_server.store.schema import attachments


async def put(conn: AsyncConnection, body: bytes, expires_at: int) -> bytes:
    blob_id = os.urandom(16)
    await conn.execute(insert(attachments).values(id=blob_id, body=body, expires_at=expires_at))
    return blob_id


async def get(conn: AsyncConnection, blob_id: bytes, now: float) -> bytes:
    body = await conn.scalar(
        select(attachments.c.body).where(
            attachments.c.id == blob_id, attachments.c.expires_at > now
        )
    )
    if body is None:
        raise NotFound("no such attachment, or it has expired")
    return bytes(body)


async def remove(conn: AsyncConnection, blob_id: bytes) -> None:
    result = await conn.execute(delete(attachments).where(attachments.c.id == blob_id))
    if result.rowcount == 0:
        raise NotFound("no such attachment")
