"""What the relay holds about a device: every row that refers to it, table by table.

The answer follows docs/operations.md's table of what is stored. Opaque blobs (queued
envelopes, consent receipts) are given by size and expiry, never their bytes; rows are
given only for what refers to this device (its id, its mailbox, or its worker), and a field
that names someone else (the client device on a receipt a worker holds) is left out.
Tables whose rows cannot be tied to a device (attachments, idempotency records,
challenges) are not listed: the relay itself cannot tell whose they are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select

from confide_server.encoding import b64e
from confide_server.services.auth import Principal
from confide_server.store.schema import (
    audit_events,
    capabilities,
    consent_receipts,
    devices,
    enrolment_codes,
    envelopes,
    invites,
    one_time_prekeys,
    push_subscriptions,
    sessions,
    signed_prekeys,
    workers,
)
from confide_server.store.sqla_async import AsyncConnection

Records = dict[str, list[dict[str, Any]]]


async def about(conn: AsyncConnection, me: Principal) -> Records:
    out: Records = {}
    out["devices"] = await _rows(
        conn,
        select(devices).where(devices.c.id == me.device_id),
        lambda r: {
            "device_id": b64e(r.id),
            "identity_key": b64e(r.identity_key),
            "kind": r.kind,
            "revoked": bool(r.revoked),
            "created_day": r.created_day,
            # Which worker device invited this one is not shown: it is another device's id.
            "invited": r.invited_by is not None,
        },
    )
    # A worker's device: the client devices that joined through its invites, without their ids.
    out["devices"] += await _rows(
        conn,
        select(devices).where(devices.c.invited_by == me.device_id).order_by(devices.c.created_day),
        lambda r: {
            "kind": r.kind,
            "invited_by_this_device": True,
            "revoked": bool(r.revoked),
            "created_day": r.created_day,
        },
    )
    out["mailboxes"] = [{"mailbox_id": b64e(me.mailbox_id)}]
    out["sessions"] = await _rows(
        conn,
        select(sessions).where(sessions.c.device_id == me.device_id),
        lambda r: {"expires_at": r.expires_at, "this_session": r.token_hash == me.token_hash},
    )
    out["signed_prekeys"] = await _rows(
        conn,
        select(signed_prekeys).where(signed_prekeys.c.device_id == me.device_id),
        lambda r: {"key_id": r.key_id, "created_day": r.created_day},
    )
    out["one_time_prekeys"] = await _rows(
        conn,
        select(one_time_prekeys).where(one_time_prekeys.c.device_id == me.device_id),
        lambda r: {"key_id": r.key_id, "created_day": r.created_day},
    )
    # The push service's host says which one it is; the rest of the URL identifies the device
    # there, and is the device's own to know.
    out["push_subscriptions"] = await _rows(
        conn,
        select(push_subscriptions).where(push_subscriptions.c.device_id == me.device_id),
        lambda r: {"push_service": urlsplit(r.endpoint).hostname, "expires_at": r.expires_at},
    )
    out["capabilities"] = await _rows(
        conn,
        select(capabilities).where(capabilities.c.mailbox_id == me.mailbox_id),
        lambda r: {
            "capability_id": b64e(r.id),
            "revoked": bool(r.revoked),
            "expires_at": r.expires_at,
        },
    )
    out["envelopes"] = await _rows(
        conn,
        select(
            envelopes.c.id, envelopes.c.expires_at, func.length(envelopes.c.body).label("size")
        ).where(envelopes.c.mailbox_id == me.mailbox_id),
        lambda r: {"envelope_id": b64e(r.id), "size": r.size, "expires_at": r.expires_at},
    )
    out["invites"] = await _rows(
        conn,
        select(invites).where(invites.c.worker_device_id == me.device_id),
        lambda r: {"used": bool(r.used), "expires_at": r.expires_at},
    )
    out["consent_receipts"] = await _rows(
        conn,
        select(
            consent_receipts.c.id,
            consent_receipts.c.kind,
            consent_receipts.c.created_day,
            func.length(consent_receipts.c.receipt).label("size"),
        ).where(
            or_(
                consent_receipts.c.client_device_id == me.device_id,
                consent_receipts.c.worker_device_id == me.device_id,
            )
        ),
        lambda r: {
            "receipt_id": b64e(r.id),
            "kind": r.kind,
            "size": r.size,
            "created_day": r.created_day,
        },
    )
    if me.worker_id is not None:
        out.update(await _worker_records(conn, me))
    out["audit_events"] = await _audit(conn, me)
    return out


async def _audit(conn: AsyncConnection, me: Principal) -> list[dict[str, Any]]:
    ids = [b64e(me.device_id)] + ([] if me.worker_id is None else [b64e(me.worker_id)])
    return await _rows(
        conn,
        select(audit_events)
        .where(or_(audit_events.c.actor.in_(ids), audit_events.c.subject.in_(ids)))
        .order_by(audit_events.c.id),
        lambda r: {
            "id": r.id,
            "hour": r.hour,
            "action": r.action,
            # Who acted on this device is an admin's business, not an id to hand out.
            "actor": r.actor if r.actor in ids or r.actor == "cli" else "admin",
            "subject": r.subject,
            "detail": r.detail,
        },
    )


async def _worker_records(conn: AsyncConnection, me: Principal) -> Records:
    assert me.worker_id is not None
    out: Records = {}
    out["workers"] = await _rows(
        conn,
        select(workers).where(workers.c.id == me.worker_id),
        lambda r: {
            "worker_id": b64e(r.id),
            "role": r.role,
            "disabled": bool(r.disabled),
            "created_day": r.created_day,
        },
    )
    out["enrolment_codes"] = await _rows(
        conn,
        select(enrolment_codes).where(enrolment_codes.c.worker_id == me.worker_id),
        lambda r: {"used": bool(r.used), "expires_at": r.expires_at},
    )
    return out


async def _rows(conn: AsyncConnection, query: Any, shape: Any) -> list[dict[str, Any]]:
    return [shape(r) for r in await conn.execute(query)]
