"""A mailbox and its send capability written straight into a fresh database, for the tests
of the store's backends (no devices, no foreign keys)."""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_MAILBOX = "INSERT INTO mailboxes (id, device_id) VALUES (:m, :d)"
_CAPABILITY = (
    "INSERT INTO capabilities (id, secret_hash, mailbox_id, revoked) VALUES (:i, :h, :m, false)"
)


def _values(mailbox: bytes, capability_hash: bytes) -> tuple[dict[str, bytes], dict[str, bytes]]:
    return {"m": mailbox, "d": os.urandom(16)}, {
        "i": os.urandom(16),
        "h": capability_hash,
        "m": mailbox,
    }


async def seed(engine: AsyncEngine, mailbox: bytes, capability_hash: bytes) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(text("PRAGMA foreign_keys=OFF"))
        else:
            await conn.execute(text("SET session_replication_role = replica"))
        box, cap = _values(mailbox, capability_hash)
        await conn.execute(text(_MAILBOX), box)
        await conn.execute(text(_CAPABILITY), cap)


def seed_sqlite(path: str, mailbox: bytes, capability_hash: bytes) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys=OFF")
    box, cap = _values(mailbox, capability_hash)
    db.execute(_MAILBOX, box)
    db.execute(_CAPABILITY.replace("false", "0"), cap)
    db.commit()
    db.close()
