"""Step-up: an admin confirms again before acting, if the last confirmation is old.

The admin's device signs ``b"Confide step-up v1\\x00" + challenge`` with its identity key;
the worker app does so only after the admin has typed the passphrase again and it has
re-opened the key store with it. The relay then lets that session (one token) act as admin
until ``step_up_seconds`` have passed. The relay cannot see a passphrase: what it checks is
a fresh signature by the device's key, bound to this session.
"""

from __future__ import annotations

from sqlalchemy import select, update

from confide_server.clock import expiry
from confide_server.encoding import b64e
from confide_server.errors import InvalidInput, StepUpRequired, Unauthenticated
from confide_server.services import audit
from confide_server.services.auth import Principal, consume_challenge
from confide_server.services.identity import verify
from confide_server.store.schema import sessions
from confide_server.store.sqla_async import AsyncConnection

STEP_UP_TAG = b"Confide step-up v1\x00"


def actor_of(principal: Principal) -> str:
    assert principal.worker_id is not None
    return b64e(principal.worker_id)


async def confirm(
    conn: AsyncConnection,
    admin: Principal,
    challenge: bytes,
    signature: bytes,
    now: float,
    lasts: int,
) -> int:
    """Check the signed challenge; the session may act until the returned time."""
    await consume_challenge(conn, challenge, now)
    try:
        verify(admin.identity_key, STEP_UP_TAG + challenge, signature, "signature")
    except InvalidInput as exc:
        raise Unauthenticated(exc.detail) from None
    until = expiry(now, lasts)  # stored, so rounded up to the minute like every expiry
    await conn.execute(
        update(sessions)
        .where(sessions.c.token_hash == admin.token_hash)
        .values(step_up_until=until)
    )
    await audit.append(conn, now, "admin.step-up", actor_of(admin))
    return until


async def require(conn: AsyncConnection, admin: Principal, now: float) -> None:
    until = await conn.scalar(
        select(sessions.c.step_up_until).where(sessions.c.token_hash == admin.token_hash)
    )
    if until is None or until <= now:
        raise StepUpRequired(
            "confirm with your passphrase first (POST /v1/admin/step-up); "
            "the last confirmation is missing or too old"
        )
