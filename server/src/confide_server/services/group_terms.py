"""The organisation's terms for peer support groups, versioned like its policy.

A client joining a group by a group invite link is shown these terms (what other members
will read, the limits of confidentiality in a group) and signs a group consent receipt that
names a version and its SHA-256 (docs/protocol.md G§4, G§9). The relay only publishes the
text: it never learns which groups exist or who consented to what, because group receipts
travel only inside the end-to-end channel to the group's workers.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from confide_server.clock import day_of
from confide_server.errors import InvalidInput, NotFound
from confide_server.services import audit
from confide_server.services.organisation import Policy
from confide_server.store.schema import group_terms

__all__ = ["current", "publish", "show"]


async def publish(conn: AsyncConnection, text: str, now: float, actor: str) -> Policy:
    """Store the next version of the group terms and write it to the audit trail."""
    if not text.strip():
        raise InvalidInput("the group terms must not be empty")
    latest = await conn.scalar(select(func.max(group_terms.c.version)))
    version = (latest or 0) + 1
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    await conn.execute(
        insert(group_terms).values(
            version=version, text=text, sha256=sha, published_day=day_of(now)
        )
    )
    await audit.append(conn, now, "group-terms.publish", actor, str(version), sha[:16])
    return Policy(version, text, sha)


async def current(conn: AsyncConnection) -> Policy | None:
    row = (
        await conn.execute(
            select(group_terms.c.version, group_terms.c.text, group_terms.c.sha256)
            .order_by(group_terms.c.version.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Policy(row.version, row.text, row.sha256)


async def show(conn: AsyncConnection, version: int) -> Policy:
    row = (
        await conn.execute(
            select(group_terms.c.text, group_terms.c.sha256).where(group_terms.c.version == version)
        )
    ).first()
    if row is None:
        raise NotFound(f"no group terms version {version}")
    return Policy(version, row.text, row.sha256)
