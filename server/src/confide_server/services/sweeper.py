"""The background sweeper: deletes everything whose time is up.

Expired envelopes, idempotency records (from the backend's one table, store/idempotency.py),
invites and their unredeemed capabilities, challenges, session tokens, enrolment codes,
attachments, push subscriptions not renewed, one-time prekeys older than
``prekey_max_age_seconds``, and audit events and consent receipts older than the
organisation's ``audit_retention_seconds`` and ``consent_retention_seconds`` (the audit
chain keeps its new starting point, services/audit.py). One transaction per sweep; several
relay processes may sweep the same database, which is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import delete, select

from confide_server.clock import Clock, day_of, hour_of
from confide_server.services import audit, org_settings
from confide_server.store.idempotency import records_table
from confide_server.store.schema import (
    attachments,
    capabilities,
    challenges,
    consent_receipts,
    enrolment_codes,
    envelopes,
    invites,
    metadata,
    one_time_prekeys,
    push_subscriptions,
    sessions,
)
from confide_server.store.sqla_async import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# The wall clock may run this far ahead of the monotonic reckoning and still be followed
# (the two tick alike, both slewed by NTP; this absorbs rounding and small steps).
AGREE = 1.0


async def sweep(engine: AsyncEngine, now: float, prekey_max_age: int) -> dict[str, int]:
    """Delete expired rows; returns how many of each kind went."""
    t = int(now)
    counts: dict[str, int] = {}
    keys = metadata.tables[records_table(engine.dialect.name)]
    async with engine.begin() as conn:
        expired_invites = select(invites.c.capability_id).where(
            invites.c.expires_at <= t, invites.c.used.is_(False)
        )
        doomed_capabilities = list((await conn.scalars(expired_invites)).all())
        for name, statement in (
            ("envelopes", delete(envelopes).where(envelopes.c.expires_at <= t)),
            ("idempotency_keys", delete(keys).where(keys.c.expires_at <= t)),
            ("invites", delete(invites).where(invites.c.expires_at <= t)),
            (
                "capabilities",
                delete(capabilities).where(
                    capabilities.c.id.in_(doomed_capabilities)
                    | (capabilities.c.expires_at.is_not(None) & (capabilities.c.expires_at <= t))
                ),
            ),
            ("challenges", delete(challenges).where(challenges.c.expires_at <= t)),
            ("sessions", delete(sessions).where(sessions.c.expires_at <= t)),
            ("enrolment_codes", delete(enrolment_codes).where(enrolment_codes.c.expires_at <= t)),
            ("attachments", delete(attachments).where(attachments.c.expires_at <= t)),
            (
                "push_subscriptions",
                delete(push_subscriptions).where(push_subscriptions.c.expires_at <= t),
            ),
            (
                "one_time_prekeys",
                delete(one_time_prekeys).where(
                    one_time_prekeys.c.created_day < day_of(now - prekey_max_age)
                ),
            ),
        ):
            counts[name] = (await conn.execute(statement)).rowcount
        counts.update(await _past_retention(conn, now))
    return counts


async def _past_retention(conn: AsyncConnection, now: float) -> dict[str, int]:
    values = await org_settings.all_values(conn)
    consent_cutoff = day_of(now - values["consent_retention_seconds"])
    consents = await conn.execute(
        delete(consent_receipts).where(consent_receipts.c.created_day < consent_cutoff)
    )
    events = await audit.prune(conn, hour_of(now - values["audit_retention_seconds"]))
    return {"consent_receipts": consents.rowcount, "audit_events": events}


class ExpiryClock:
    """The time the sweeper deletes by: the wall clock, never ahead of a monotonic reckoning.

    A wall clock set wrongly ahead (eight days, say) and then put back made the sweeper
    delete queued envelopes still within their TTL (issue 19 §10). This clock follows the
    wall clock while it runs as the monotonic clock does, and at once when it goes back;
    when it leaps ahead of the time reckoned by the monotonic clock since the two last
    agreed, it keeps to the reckoning, so nothing is deleted before it is due by the time
    that has really passed. The price: after a genuine forward correction, expiry lags the
    wall clock by the correction until the relay restarts (docs/operations.md, §7).
    """

    def __init__(self, wall: Clock, monotonic: Clock = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._anchor: tuple[float, float] | None = None  # (wall, monotonic) when they agreed

    def __call__(self) -> float:
        wall, elapsed = self._wall(), self._monotonic()
        if self._anchor is not None:
            reckoned = self._anchor[0] + (elapsed - self._anchor[1])
            if wall > reckoned + AGREE:
                return reckoned
        self._anchor = (wall, elapsed)
        return wall


async def run_forever(
    engine: AsyncEngine,
    clock: Clock,
    interval: float,
    prekey_max_age: int,
    monotonic: Clock = time.monotonic,
) -> None:
    expiry = ExpiryClock(clock, monotonic)
    while True:
        with contextlib.suppress(Exception):
            await sweep(engine, expiry(), prekey_max_age)
        await asyncio.sleep(interval)
