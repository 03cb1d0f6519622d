"""The organisation's terms for peer support groups, versioned like its policy.

A client joining a group by a group invite link is shown these terms (what other members
will read, the limits of confidentiality in a group) and signs a group consent receipt that
names a version and its SHA-256 (docs/protocol.md G§4, G§9). The relay only publishes the
text: it never learns which groups exist or who consented to what, because group receipts
travel only inside the end-to-end channel to the group's workers.
"""

from __future__ import annotations

from confide_server.services import versioned_text
from confide_server.services.versioned_text import Policy
from confide_server.store.schema import group_terms
from confide_server.store.sqla_async import AsyncConnection

__all__ = ["current", "publish", "show"]

WHAT = "group-terms"


async def publish(conn: AsyncConnection, text: str, now: float, actor: str) -> Policy:
    """Store the next version of the group terms and write it to the audit trail."""
    return await versioned_text.publish(conn, group_terms, text, now, actor, WHAT)


async def current(conn: AsyncConnection) -> Policy | None:
    return await versioned_text.current(conn, group_terms)


async def show(conn: AsyncConnection, version: int) -> Policy:
    return await versioned_text.show(conn, group_terms, version, WHAT)
