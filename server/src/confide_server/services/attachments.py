"""Attachment blobs: encrypted by the sender, stored until deleted or expired.

The blob id (16 random bytes) is the only handle; it travels inside the end-to-end channel.
The relay records no uploader (see quotas.py for how uploads are limited without one).

A blob is stored in pieces of ``PIECE_BYTES`` as it arrives, each piece in a short
transaction of its own, and read back one piece per query: an upload or a download holds
about one piece in memory whatever the blob's size, and never holds SQLite's write lock
while waiting on the network. The attachment row exists from the first byte (``size`` NULL
until the last piece is in), so an upload cut short is deleted at once or, if the relay
died, swept at its expiry like any other blob.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from confide_server.errors import InvalidInput, NotFound
from confide_server.store.schema import attachment_pieces, attachments

PIECE_BYTES = 1024 * 1024


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
) -> tuple[bytes, int]:
    """Store the blob ``stream`` yields; ``on_piece(n)`` may refuse each piece by raising.

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
                await conn.execute(
                    insert(attachment_pieces).values(attachment_id=blob_id, seq=seq, body=piece)
                )
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
