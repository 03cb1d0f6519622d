"""Attachment blobs: encrypted by the sender, stored until deleted or expired.

The blob id (16 random bytes) is the only handle; it travels inside the end-to-end channel.
The relay records no uploader (see quotas.py for how uploads are limited without one).

A blob is stored in pieces of ``PIECE_BYTES`` as it arrives, each piece in a short
transaction of its own, and read back one piece per query: an upload or a download holds
about one piece in memory whatever the blob's size, and never holds SQLite's write lock
while waiting on the network. The attachment row exists from the first byte (``size`` NULL
until the last piece is in), so an upload cut short is deleted at once or, if the relay
died, swept at its expiry like any other blob.

The relay as a whole keeps at most ``capacity`` bytes of blobs (the setting
``max_attachment_storage_bytes``): each piece is inserted and the total then counted in the
same transaction, which on SQLite holds the database's one write lock and on PostgreSQL an
advisory lock, so concurrent uploads on any number of relay processes cannot overshoot it.
The count reads each piece's length, not its bytes (both databases keep the length in the
row's header), one row per MiB stored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable

from sqlalchemy import delete, func, insert, select, text, update

from confide_server.errors import InvalidInput, NotFound, StorageFull
from confide_server.store.schema import attachment_pieces, attachments
from confide_server.store.sqla_async import AsyncConnection, AsyncEngine

PIECE_BYTES = 1024 * 1024
# Serialises piece writes on PostgreSQL, so the relay-wide total is checked exactly.
_PG_LOCK_KEY = 0x61747463  # "attc"


async def pieces(stream: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """The bytes of ``stream`` regrouped into pieces of ``size`` (the last may be shorter)."""
    buffer = bytearray()
    async for chunk in stream:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


async def put(
    engine: AsyncEngine,
    stream: AsyncIterator[bytes],
    expires_at: int,
    on_piece: Callable[[int], None],
    capacity: int,
) -> tuple[bytes, int]:
    """Store the blob ``stream`` yields; ``on_piece(n)`` may refuse each piece by raising,
    and StorageFull refuses it once all blobs together would pass ``capacity`` bytes.

    Returns (blob id, size). On any failure what was stored is deleted and the error raised.
    """
    blob_id = os.urandom(16)
    async with engine.begin() as conn:
        await conn.execute(insert(attachments).values(id=blob_id, size=None, expires_at=expires_at))
    size = 0
    try:
        seq = 0
        async for piece in pieces(stream, PIECE_BYTES):
            on_piece(len(piece))
            async with engine.begin() as conn:
                await _add_piece(conn, blob_id, seq, piece, capacity)
            size += len(piece)
            seq += 1
        if size == 0:
            raise InvalidInput("the attachment body is empty")
        async with engine.begin() as conn:
            await conn.execute(
                update(attachments).where(attachments.c.id == blob_id).values(size=size)
            )
    except BaseException:
        # Best effort: if even this fails, the sweeper deletes the row at its expiry.
        with contextlib.suppress(Exception):
            async with engine.begin() as conn:
                await conn.execute(delete(attachments).where(attachments.c.id == blob_id))
        raise
    return blob_id, size


async def _add_piece(
    conn: AsyncConnection, blob_id: bytes, seq: int, piece: bytes, capacity: int
) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
    # Insert first: on SQLite that takes the write lock, so the total counted next is final.
    await conn.execute(insert(attachment_pieces).values(attachment_id=blob_id, seq=seq, body=piece))
    if await stored_bytes(conn) > capacity:
        raise StorageFull(
            "the relay holds as many attachments as it may; try again once some are fetched"
        )


async def stored_bytes(conn: AsyncConnection) -> int:
    """The bytes of every blob stored or arriving, on this relay's database."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(func.length(attachment_pieces.c.body)), 0))
    )
    return int(total or 0)


async def size_of(conn: AsyncConnection, blob_id: bytes, now: float) -> int:
    """The size of a complete, unexpired blob; NotFound otherwise."""
    size = await conn.scalar(
        select(attachments.c.size).where(
            attachments.c.id == blob_id,
            attachments.c.expires_at > now,
            attachments.c.size.is_not(None),
        )
    )
    if size is None:
        raise NotFound("no such attachment, or it has expired")
    return int(size)


async def read(engine: AsyncEngine, blob_id: bytes) -> AsyncIterator[bytes]:
    """The blob's pieces in order, one query (and one connection checkout) per piece."""
    seq = 0
    while True:
        async with engine.connect() as conn:
            body = await conn.scalar(
                select(attachment_pieces.c.body).where(
                    attachment_pieces.c.attachment_id == blob_id, attachment_pieces.c.seq == seq
                )
            )
        if body is None:
            return
        yield bytes(body)
        seq += 1


async def remove(conn: AsyncConnection, blob_id: bytes) -> None:
    result = await conn.execute(delete(attachments).where(attachments.c.id == blob_id))
    if result.rowcount == 0:
        raise NotFound("no such attachment")
