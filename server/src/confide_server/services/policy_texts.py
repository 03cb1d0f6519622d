"""One policy version in several languages (docs/protocol.md, "Policy translations").

A version's first text lives in ``policies`` with its language; further languages are added
as translations of that version, each with its own SHA-256. A client reads the text in its
language and its consent receipt (format 2) names that language and that text's hash, so the
organisation's record shows exactly which words were agreed to. A translation is published
once and never replaced: receipts may name its hash for as long as the version is kept. A
changed wording is a new version, as for the first text.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import insert, select

from confide_server.clock import day_of
from confide_server.errors import Conflict, InvalidInput, NotFound
from confide_server.services import audit
from confide_server.services.versioned_text import PolicyText
from confide_server.store.schema import policies, policy_translations
from confide_server.store.sqla_async import AsyncConnection

# A BCP 47 tag as the apps use them: a primary language subtag, then optional subtags
# ("es", "es-MX", "zh-Hant"). Stored as given, with the primary subtag in lower case.
_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
MAX_TEXT = 100_000


def language_tag(tag: str) -> str:
    """The tag, normalised (primary subtag in lower case); InvalidInput if it is not one."""
    if not isinstance(tag, str) or len(tag) > 35 or not _TAG.match(tag):
        raise InvalidInput("a language is a BCP 47 tag such as en, es or es-MX")
    primary, _, rest = tag.partition("-")
    return primary.lower() + (f"-{rest}" if rest else "")


def check_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("the policy text must not be empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"the policy text must be at most {MAX_TEXT} characters")
    return text


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def translations(conn: AsyncConnection, version: int) -> tuple[PolicyText, ...]:
    rows = await conn.execute(
        select(
            policy_translations.c.language, policy_translations.c.text, policy_translations.c.sha256
        )
        .where(policy_translations.c.version == version)
        .order_by(policy_translations.c.language)
    )
    return tuple(PolicyText(r.language, r.text, r.sha256) for r in rows)


async def languages(conn: AsyncConnection) -> dict[int, list[str]]:
    """Version -> the languages of its translations (not its first text's)."""
    out: dict[int, list[str]] = {}
    rows = await conn.execute(
        select(policy_translations.c.version, policy_translations.c.language).order_by(
            policy_translations.c.version, policy_translations.c.language
        )
    )
    for r in rows:
        out.setdefault(r.version, []).append(r.language)
    return out


async def add(
    conn: AsyncConnection, version: int, language: str, text: str, now: float, actor: str
) -> PolicyText:
    """Publish version ``version``'s text in ``language``; Conflict if it has one already."""
    tag, text = language_tag(language), check_text(text)
    first = await conn.scalar(select(policies.c.language).where(policies.c.version == version))
    if first is None:
        raise NotFound(f"no policy version {version}")
    if first == tag or await conn.scalar(
        select(policy_translations.c.version).where(
            policy_translations.c.version == version, policy_translations.c.language == tag
        )
    ):
        raise Conflict(f"policy version {version} already has a text in {tag}")
    sha = sha256_hex(text)
    await conn.execute(
        insert(policy_translations).values(
            version=version, language=tag, text=text, sha256=sha, published_day=day_of(now)
        )
    )
    await audit.append(conn, now, "policy.translate", actor, f"{version}/{tag}", sha[:16])
    return PolicyText(tag, text, sha)


async def published_sha256(conn: AsyncConnection, version: int, language: str | None) -> str | None:
    """The hash of version ``version``'s text in ``language`` (its first text for None)."""
    row = (
        await conn.execute(
            select(policies.c.sha256, policies.c.language).where(policies.c.version == version)
        )
    ).first()
    if row is None:
        return None
    if language is None or language == row.language:
        return str(row.sha256)
    sha = await conn.scalar(
        select(policy_translations.c.sha256).where(
            policy_translations.c.version == version, policy_translations.c.language == language
        )
    )
    return None if sha is None else str(sha)
