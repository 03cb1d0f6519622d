"""The organisation's own wording for two texts its apps show, per language.

``privacy_guide`` is the client's guide "Keeping this conversation private" (a private
place, headphones, lock-screen previews, what quick exit wipes and what it does not, shared
devices); ``call_checklist`` is the worker's checklist before a call (a private room,
headphones, no names on the call). The apps carry their own wording of both in every
language they have; a text set here replaces it for that language only. The texts are
public: the client's page reads them before anyone signs in (GET /v1/organisation). Plain
text, one paragraph or list item per line; the apps show it as text, never as markup.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from confide_server.clock import day_of
from confide_server.errors import InvalidInput, NotFound
from confide_server.services import audit
from confide_server.services.policy_texts import language_tag
from confide_server.store.schema import org_texts
from confide_server.store.sqla_async import AsyncConnection

NAMES = ("privacy_guide", "call_checklist")
MAX_TEXT = 8_000


def _name(name: str) -> str:
    if name not in NAMES:
        raise NotFound(f"no organisation text {name!r}; the texts are {', '.join(NAMES)}")
    return name


async def all_texts(conn: AsyncConnection) -> dict[str, dict[str, str]]:
    """Name -> language -> text, for every text the organisation has set."""
    out: dict[str, dict[str, str]] = {}
    rows = await conn.execute(
        select(org_texts.c.name, org_texts.c.language, org_texts.c.text).order_by(
            org_texts.c.name, org_texts.c.language
        )
    )
    for r in rows:
        out.setdefault(r.name, {})[r.language] = r.text
    return out


async def put(
    conn: AsyncConnection, name: str, language: str, text: str, now: float, actor: str
) -> None:
    name, tag = _name(name), language_tag(language)
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"an organisation text has 1 to {MAX_TEXT} characters")
    where = (org_texts.c.name == name) & (org_texts.c.language == tag)
    changed = await conn.execute(
        update(org_texts).where(where).values(text=text, updated_day=day_of(now))
    )
    if not changed.rowcount:
        await conn.execute(
            insert(org_texts).values(name=name, language=tag, text=text, updated_day=day_of(now))
        )
    await audit.append(conn, now, "text.set", actor, f"{name}/{tag}", f"{len(text)} characters")


async def remove(conn: AsyncConnection, name: str, language: str, now: float, actor: str) -> None:
    """Go back to the apps' own wording for ``name`` in ``language``."""
    name, tag = _name(name), language_tag(language)
    gone = await conn.execute(
        delete(org_texts).where((org_texts.c.name == name) & (org_texts.c.language == tag))
    )
    if not gone.rowcount:
        raise NotFound(f"the organisation has set no {name} in {tag}")
    await audit.append(conn, now, "text.reset", actor, f"{name}/{tag}", None)
