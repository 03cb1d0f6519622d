"""Registering a device: proof of possession, its mailbox and its first prekeys.

Shared by the two ways in (services/enrolment.py for workers, services/invites.py for
clients). The device proves it holds its identity key by signing
``b"Confide device registration v1\\x00" + challenge``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import insert, select

from confide_server.clock import day_of
from confide_server.encoding import b64e
from confide_server.errors import Conflict
from confide_server.services import audit, prekeys
from confide_server.services.auth import consume_challenge
from confide_server.services.identity import REGISTRATION_TAG, check_identity_key, verify
from confide_server.store.schema import devices, mailboxes
from confide_server.store.sqla_async import AsyncConnection


@dataclass(frozen=True, slots=True)
class Registration:
    """What a new device sends to join."""

    identity_key: bytes
    challenge: bytes
    signature: bytes
    signed_prekey: prekeys.SignedPrekey
    one_time_prekeys: list[prekeys.OneTimePrekey]


@dataclass(frozen=True, slots=True)
class Registered:
    device_id: bytes
    mailbox_id: bytes


async def register(
    conn: AsyncConnection,
    reg: Registration,
    *,
    kind: str,
    worker_id: bytes | None,
    now: float,
    max_stock: int,
    invited_by: bytes | None = None,
) -> Registered:
    await consume_challenge(conn, reg.challenge, now)
    check_identity_key(reg.identity_key)
    verify(reg.identity_key, REGISTRATION_TAG + reg.challenge, reg.signature, "signature")
    taken = await conn.scalar(
        select(devices.c.id).where(devices.c.identity_key == reg.identity_key)
    )
    if taken is not None:
        raise Conflict("a device with this identity key is already registered")
    device_id, mailbox_id = os.urandom(16), os.urandom(16)
    await conn.execute(
        insert(devices).values(
            id=device_id,
            identity_key=reg.identity_key,
            kind=kind,
            worker_id=worker_id,
            invited_by=invited_by,
            revoked=False,
            created_day=day_of(now),
        )
    )
    await conn.execute(insert(mailboxes).values(id=mailbox_id, device_id=device_id))
    await prekeys.set_signed_prekey(conn, device_id, reg.identity_key, reg.signed_prekey, now)
    await prekeys.add_one_time_prekeys(
        conn, device_id, reg.one_time_prekeys, now, max_stock=max_stock
    )
    if worker_id is not None:
        # Staff devices are audited; a client's registration is not (it would only add a
        # finer timestamp about a client to what the devices table already says).
        await audit.append(conn, now, "device.register", b64e(worker_id), b64e(device_id))
    return Registered(device_id, mailbox_id)
