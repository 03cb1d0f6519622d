"""Challenges and session tokens: Ed25519 challenge-response, no passwords.

A device asks for a challenge (32 random bytes, single use, 60 s), signs
``b"Confide auth v1\\x00" + challenge`` with its identity key and exchanges the signature for
a bearer token (32 random bytes; only its SHA-256 is stored) that expires after
``token_ttl_seconds``. The same challenges serve proof of possession at registration, under
the registration domain tag.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from confide_server.clock import expiry
from confide_server.errors import Expired, InvalidInput, Unauthenticated
from confide_server.services.identity import AUTH_TAG, verify
from confide_server.store.schema import challenges as challenges_table
from confide_server.store.schema import devices, mailboxes, sessions, workers
from confide_server.store.sqla_async import AsyncConnection


def digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The device behind a session token."""

    device_id: bytes
    kind: str
    mailbox_id: bytes
    identity_key: bytes
    worker_id: bytes | None
    role: str | None
    token_hash: bytes


async def new_challenge(conn: AsyncConnection, now: float, ttl: int) -> tuple[bytes, int]:
    challenge = os.urandom(32)
    expires_at = expiry(now, ttl)
    await conn.execute(insert(challenges_table).values(challenge=challenge, expires_at=expires_at))
    return challenge, expires_at


async def consume_challenge(conn: AsyncConnection, challenge: bytes, now: float) -> None:
    """Use up a challenge: it must exist, be unused and unexpired."""
    row = (
        await conn.execute(
            delete(challenges_table)
            .where(challenges_table.c.challenge == challenge)
            .returning(challenges_table.c.expires_at)
        )
    ).first()
    if row is None:
        raise Unauthenticated("unknown or already used challenge")
    if row.expires_at <= now:
        raise Expired("the challenge has expired; ask for a new one")


async def issue_token(
    conn: AsyncConnection,
    device_id: bytes,
    challenge: bytes,
    signature: bytes,
    now: float,
    ttl: int,
) -> tuple[bytes, int]:
    """Check a signed challenge from ``device_id`` and return a new token and its expiry."""
    device = (
        await conn.execute(
            select(devices.c.identity_key, devices.c.revoked).where(devices.c.id == device_id)
        )
    ).first()
    await consume_challenge(conn, challenge, now)
    if device is None or device.revoked:
        raise Unauthenticated("unknown or revoked device")
    try:
        verify(device.identity_key, AUTH_TAG + challenge, signature, "signature")
    except InvalidInput as exc:
        raise Unauthenticated(exc.detail) from None
    token = os.urandom(32)
    expires_at = expiry(now, ttl)
    await conn.execute(
        insert(sessions).values(
            token_hash=digest(token), device_id=device_id, expires_at=expires_at
        )
    )
    return token, expires_at


async def authenticate(conn: AsyncConnection, token: bytes, now: float) -> Principal:
    token_hash = digest(token)
    row = (
        await conn.execute(
            select(
                sessions.c.expires_at,
                devices.c.id,
                devices.c.kind,
                devices.c.identity_key,
                devices.c.revoked,
                devices.c.worker_id,
                workers.c.role,
                workers.c.disabled,
                mailboxes.c.id.label("mailbox_id"),
            )
            .select_from(
                sessions.join(devices, devices.c.id == sessions.c.device_id)
                .join(mailboxes, mailboxes.c.device_id == devices.c.id)
                .outerjoin(workers, workers.c.id == devices.c.worker_id)
            )
            .where(sessions.c.token_hash == token_hash)
        )
    ).first()
    if row is None:
        raise Unauthenticated("unknown token")
    if row.expires_at <= now:
        raise Expired("the token has expired; authenticate again")
    if row.revoked or row.disabled:
        raise Unauthenticated("the device or its worker has been disabled")
    return Principal(
        device_id=row.id,
        kind=row.kind,
        mailbox_id=row.mailbox_id,
        identity_key=row.identity_key,
        worker_id=row.worker_id,
        role=row.role,
        token_hash=token_hash,
    )


async def revoke_token(conn: AsyncConnection, token_hash: bytes) -> None:
    await conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))
