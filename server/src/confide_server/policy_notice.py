"""Telling every open app that a new policy version was published (a ``policy`` notice).

A client's consent names one policy version; after a new one, a worker may not send until
the client agrees again, and the client must be asked. Both learn it at once from a notice
on their live connection, ``{"type": "notice", "kind": "policy", "version", "sha256"}``
(docs/protocol.md, WebSocket notices):

- the admin API (``announce``) sends it through fan-out to the mailbox of every device not
  revoked: on this process and, over Redis, on every other one;
- ``watch`` runs in each relay and, every few seconds, compares the current version with
  the one it last saw, and tells its own connections of a change made elsewhere (the CLI,
  which holds no connections, or while Redis was down).

A device may therefore hear of one version twice; the notice only says "fetch the policy
again", so a repeat does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from confide_server.fanout import Fanout
from confide_server.services.organisation import Policy, current_policy
from confide_server.store.schema import devices, mailboxes
from confide_server.store.sqla_async import AsyncEngine

log = logging.getLogger(__name__)

NOTICE_KIND = "policy"


def notice(policy: Policy) -> dict[str, object]:
    return {"kind": NOTICE_KIND, "version": policy.version, "sha256": policy.sha256}


async def announce(engine: AsyncEngine, fanout: Fanout, policy: Policy) -> None:
    async with engine.connect() as conn:
        mailbox_ids = await conn.scalars(
            select(mailboxes.c.id)
            .select_from(mailboxes.join(devices, devices.c.id == mailboxes.c.device_id))
            .where(devices.c.revoked.is_(False))
        )
        targets = [bytes(m) for m in mailbox_ids]
    payload = notice(policy)
    for mailbox_id in targets:
        fanout.notify(mailbox_id, dict(payload))


async def _current(engine: AsyncEngine) -> Policy | None:
    async with engine.connect() as conn:
        return await current_policy(conn)


async def watch(engine: AsyncEngine, fanout: Fanout, interval: float) -> None:
    seen: int | None = None
    with contextlib.suppress(Exception):
        policy = await _current(engine)
        seen = None if policy is None else policy.version
    while True:
        await asyncio.sleep(interval)
        try:
            policy = await _current(engine)
        except Exception:  # the database is away; the next round tries again
            log.debug("policy check failed", exc_info=True)
            continue
        if policy is None or policy.version == seen:
            continue
        seen = policy.version
        payload = notice(policy)
        for mailbox_id in fanout.connected():
            fanout.notify_here(mailbox_id, dict(payload))
