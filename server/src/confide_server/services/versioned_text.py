"""Texts the organisation publishes in numbered versions: its policy and its group terms.

Each version is kept with the SHA-256 of its text (receipts name a version and that hash)
and the day it was published; publishing writes an audit event. The tables differ only in
name (store/schema.py ``policies`` and ``group_terms``), except that a policy version also
names the language of its first text (``policies.language``) and may have translations
(services/policy_texts.py); the group terms have one language.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select

from confide_server.clock import day_of
from confide_server.errors import InvalidInput, NotFound
from confide_server.services import audit
from confide_server.store.sqla_async import AsyncConnection

__all__ = ["Policy", "PolicyText", "current", "publish", "show"]


@dataclass(frozen=True, slots=True)
class PolicyText:
    """One more language of a policy version (services/policy_texts.py)."""

    language: str
    text: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Policy:
    """One published version: the policy's or the group terms'.

    ``language`` is that of its first text; ``translations`` the policy's further languages.
    """

    version: int
    text: str
    sha256: str
    language: str = "en"
    translations: tuple[PolicyText, ...] = ()


def _language(table: Table) -> list[Any]:
    """The table's language column, if it has one (``policies`` does)."""
    return [table.c.language] if "language" in table.c else []


async def publish(
    conn: AsyncConnection,
    table: Table,
    text: str,
    now: float,
    actor: str,
    what: str,
    language: str | None = None,
) -> Policy:
    """Store the next version of ``table``'s text; ``what`` names it in errors and the audit.

    ``language`` (an already checked tag) is stored for a table with a language column.
    """
    if not text.strip():
        raise InvalidInput(f"the {what.replace('-', ' ')} text must not be empty")
    latest = await conn.scalar(select(func.max(table.c.version)))
    version = (latest or 0) + 1
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    values: dict[str, Any] = {
        "version": version,
        "text": text,
        "sha256": sha,
        "published_day": day_of(now),
    }
    detail = sha[:16]
    if language is not None:
        values["language"] = language
        detail = f"{detail} {language}"
    await conn.execute(insert(table).values(**values))
    await audit.append(conn, now, f"{what}.publish", actor, str(version), detail)
    return Policy(version, text, sha, language or "en")


async def current(conn: AsyncConnection, table: Table) -> Policy | None:
    row = (
        await conn.execute(
            select(table.c.version, table.c.text, table.c.sha256, *_language(table))
            .order_by(table.c.version.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return Policy(row.version, row.text, row.sha256, getattr(row, "language", "en"))


async def show(conn: AsyncConnection, table: Table, version: int, what: str) -> Policy:
    row = (
        await conn.execute(
            select(table.c.text, table.c.sha256, *_language(table)).where(
                table.c.version == version
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"no {what.replace('-', ' ')} version {version}")
    return Policy(version, row.text, row.sha256, getattr(row, "language", "en"))
