"""Invites: a worker's single-use, expiring link that lets a client's device join.

The relay stores SHA-256(token), the inviting worker device, the expiry, and a pending send
capability for the worker's mailbox derived from the token (services/capabilities.py). The
token itself travels only in the link's fragment (``/join#<token>``), which browsers do not
send to servers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from confide_server.clock import expiry
from confide_server.errors import AlreadyUsed, Expired, NotFound
from confide_server.services import capabilities, organisation, prekeys
from confide_server.services.auth import digest
from confide_server.services.devices import Registered, Registration, register
from confide_server.store.schema import capabilities as capabilities_table
from confide_server.store.schema import invites, mailboxes
from confide_server.store.sqla_async import AsyncConnection


@dataclass(frozen=True, slots=True)
class Redeemed:
    device: Registered
    worker_bundle: prekeys.Bundle
    worker_mailbox_id: bytes
    worker_capability: bytes
    policy: organisation.Policy | None


async def create(
    conn: AsyncConnection, worker_device_id: bytes, worker_mailbox_id: bytes, now: float, ttl: int
) -> tuple[bytes, int, bytes]:
    """A new invite: (token, expiry, id of the capability it will hand to the client)."""
    token = os.urandom(32)
    expires_at = expiry(now, ttl)
    capability_id, _ = await capabilities.mint(
        conn, worker_mailbox_id, secret=capabilities.invite_capability(token), expires_at=expires_at
    )
    await conn.execute(
        insert(invites).values(
            token_hash=digest(token),
            worker_device_id=worker_device_id,
            capability_id=capability_id,
            used=False,
            expires_at=expires_at,
        )
    )
    return token, expires_at, capability_id


async def redeem(
    conn: AsyncConnection, token: bytes, reg: Registration, now: float, max_stock: int
) -> Redeemed:
    token_hash = digest(token)
    row = (
        await conn.execute(
            update(invites)
            .where(
                invites.c.token_hash == token_hash,
                invites.c.used.is_(False),
                invites.c.expires_at > int(now),
            )
            .values(used=True)
            .returning(invites.c.worker_device_id, invites.c.capability_id)
        )
    ).first()
    if row is None:
        used = await conn.scalar(select(invites.c.used).where(invites.c.token_hash == token_hash))
        if used is None:
            raise NotFound("unknown invite")
        if used:
            raise AlreadyUsed("this invite has already been used")
        raise Expired("this invite has expired; ask your worker for a new one")
    device = await register(
        conn,
        reg,
        kind="client",
        worker_id=None,
        now=now,
        max_stock=max_stock,
        invited_by=row.worker_device_id,
    )
    await conn.execute(
        update(capabilities_table)
        .where(capabilities_table.c.id == row.capability_id)
        .values(expires_at=None)
    )
    worker_mailbox_id = await conn.scalar(
        select(mailboxes.c.id).where(mailboxes.c.device_id == row.worker_device_id)
    )
    assert worker_mailbox_id is not None
    return Redeemed(
        device=device,
        worker_bundle=await prekeys.claim_bundle(conn, row.worker_device_id),
        worker_mailbox_id=worker_mailbox_id,
        worker_capability=capabilities.invite_capability(token),
        policy=await organisation.current_policy(conn),
    )


async def cancel(conn: AsyncConnection, worker_device_id: bytes, capability_id: bytes) -> None:
    """Withdraw a pending invite of this worker device: the row and its capability go.

    A cancelled invite is then unknown (redeeming it is 404). An invite of another device is
    not found either, so nothing tells a worker whether someone else's id exists.
    """
    used = await conn.scalar(
        select(invites.c.used).where(
            invites.c.capability_id == capability_id,
            invites.c.worker_device_id == worker_device_id,
        )
    )
    if used is None:
        raise NotFound("no such pending invite of this device")
    if used:
        raise AlreadyUsed("this invite was redeemed; revoke the client's capability instead")
    await conn.execute(delete(invites).where(invites.c.capability_id == capability_id))
    await conn.execute(
        delete(capabilities_table).where(
            capabilities_table.c.id == capability_id, capabilities_table.c.expires_at.is_not(None)
        )
    )
