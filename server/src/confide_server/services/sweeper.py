"""The background sweeper: deletes everything whose time is up.

Expired envelopes, idempotency records (from the backend's one table, store/idempotency.py),
invites and their unredeemed capabilities, challenges, session tokens, enrolment codes,
attachments, one-time prekeys older than ``prekey_max_age_seconds``, and audit events and
consent receipts older than the organisation's ``audit_retention_seconds`` and
``consent_retention_seconds`` (the audit chain keeps its new starting point,
services/audit.py). One transaction per sweep; several relay processes may sweep the same
database, which is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    sessions,
)

log = logging.getLogger(__name__)


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


async def run_forever(
    engine: AsyncEngine, clock: Clock, interval: float, prekey_max_age: int
) -> None:
    while True:
        with contextlib.suppress(Exception):
            await sweep(engine, clock(), prekey_max_age)
        await asyncio.sleep(interval)
