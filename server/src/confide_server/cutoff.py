"""Closing the open WebSockets of revoked devices and disabled workers, on every process.

The database is the truth (services/staff.py marks the device revoked, the worker disabled,
and deletes the tokens); this module makes live connections follow it at once:

- inside the relay, ``announce`` sends a ``revoked`` notice through fan-out, which reaches
  the mailbox's connections on this process and, over Redis, on every other one; a
  connection that receives it closes with 4408 (errors.Revoked) instead of passing it on;
- from the command line, ``announce_over_redis`` publishes the same notice on Redis;
- ``watch`` runs in each relay and, every few seconds, closes connections whose device is
  cut off in the database, so a change made without Redis (the CLI beside a single SQLite
  relay) or while Redis was down still takes effect within that interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable

import orjson
from sqlalchemy import select

from confide_server.fanout import Fanout
from confide_server.settings import Settings
from confide_server.store.schema import devices, mailboxes, workers
from confide_server.store.sqla_async import AsyncEngine

log = logging.getLogger(__name__)

NOTICE_KIND = "revoked"
NOTICE: dict[str, object] = {"kind": NOTICE_KIND}
_CHUNK = 500


def announce(fanout: Fanout, mailbox_ids: Iterable[bytes]) -> None:
    for mailbox_id in mailbox_ids:
        fanout.notify(mailbox_id, dict(NOTICE))


async def announce_over_redis(
    engine: AsyncEngine, settings: Settings, mailbox_ids: Iterable[bytes]
) -> None:
    """What ``RedisFanout.notify`` sends, from a process that holds no connections."""
    from confide_server.fanout.redis import connect, deployment_channels

    assert settings.redis_url is not None
    channels = await deployment_channels(engine, settings)
    node = os.urandom(16)  # no relay ignores it as its own
    client = connect(settings.redis_url, settings.redis_timeout_seconds)
    try:
        for mailbox_id in mailbox_ids:
            await client.publish(channels.notices, node + mailbox_id + orjson.dumps(NOTICE))
    finally:
        await client.aclose()


async def cut_off_among(engine: AsyncEngine, mailbox_ids: list[bytes]) -> list[bytes]:
    """Those of ``mailbox_ids`` whose device is revoked or whose worker is disabled."""
    found: list[bytes] = []
    for start in range(0, len(mailbox_ids), _CHUNK):
        chunk = mailbox_ids[start : start + _CHUNK]
        async with engine.connect() as conn:
            rows = await conn.scalars(
                select(mailboxes.c.id)
                .select_from(
                    mailboxes.join(devices, devices.c.id == mailboxes.c.device_id).outerjoin(
                        workers, workers.c.id == devices.c.worker_id
                    )
                )
                .where(
                    mailboxes.c.id.in_(chunk),
                    devices.c.revoked.is_(True) | workers.c.disabled.is_(True),
                )
            )
            found.extend(bytes(m) for m in rows)
    return found


async def watch(engine: AsyncEngine, fanout: Fanout, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(Exception):
            for mailbox_id in await cut_off_among(engine, fanout.connected()):
                fanout.notify_here(mailbox_id, dict(NOTICE))
