"""Texts the organisation publishes in numbered versions: its policy and its group terms.

Each version is kept with the SHA-256 of its text (receipts name a version and that hash)
and the day it was published; publishing writes an audit event. The tables differ only in
name (store/schema.py ``policies`` and ``group_terms``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Table, func, insert, select

from confide_server.clock import day_of
from confide_server.errors import InvalidInput, NotFound
from confide_server.services import audit
from confide_server.store.sqla_async import AsyncConnection

__all__ = ["Policy", "current", "publish", "show"]


@dataclass(frozen=True, slots=True)
class Policy:
    """One published version: the policy's or the group terms'."""

    version: int
    text: str
    sha256: str


async def publish(
    conn: AsyncConnection, table: Table, text: str, now: float, actor: str, what: str
) -> Policy:
    """Store the next version of ``table``'s text; ``what`` names it in errors and the audit."""
    if not text.strip():
        raise InvalidInput(f"the {what.replace('-', ' ')} text must not be empty")
    latest = await conn.scalar(select(func.max(table.c.version)))
    version = (latest or 0) + 1
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    await conn.execute(
        insert(table).values(version=version, text=text, sha256=sha, published_day=day_of(now))
    )
    await audit.append(conn, now, f"{what}.publish", actor, str(version), sha[:16])
    return Policy(version, text, sha)


async def current(conn: AsyncConnection, table: Table) -> Policy | None:
    row = (
        await conn.execute(
            select(table.c.version, table.c.text, table.c.sha256)
            .order_by(table.c.version.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Policy(row.version, row.text, row.sha256)


async def show(conn: AsyncConnection, table: Table, version: int, what: str) -> Policy:
    row = (
        await conn.execute(select(table.c.text, table.c.sha256).where(table.c.version == version))
    ).first()
    if row is None:
        raise NotFound(f"no {what.replace('-', ' ')} version {version}")
    return Policy(version, row.text, row.sha256)
