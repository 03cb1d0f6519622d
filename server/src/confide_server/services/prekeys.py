"""Signed and one-time prekeys (X3DH section 3.3 of the Signal specification).

The relay checks the signed prekey's signature (domain tag in services/identity.py), keeps a
bounded stock of one-time prekeys, and hands each one out exactly once. Claiming is a single
``DELETE ... WHERE key_id = (SELECT ... LIMIT 1) RETURNING``; on PostgreSQL the subquery
takes ``FOR UPDATE SKIP LOCKED`` so concurrent fetches each get a different key instead of
waiting on, or colliding over, the same row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from confide_server.clock import day_of
from confide_server.errors import Conflict, InvalidInput, NotFound
from confide_server.services.identity import signed_prekey_message, verify
from confide_server.store.schema import devices, one_time_prekeys, signed_prekeys
from confide_server.store.sqla_async import AsyncConnection


@dataclass(frozen=True, slots=True)
class SignedPrekey:
    key_id: int
    public_key: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class OneTimePrekey:
    key_id: int
    public_key: bytes


@dataclass(frozen=True, slots=True)
class Bundle:
    device_id: bytes
    identity_key: bytes
    signed_prekey: SignedPrekey
    one_time_prekey: OneTimePrekey | None
    remaining: int


async def set_signed_prekey(
    conn: AsyncConnection, device_id: bytes, identity_key: bytes, spk: SignedPrekey, now: float
) -> None:
    if not 0 <= spk.key_id < 2**32:
        raise InvalidInput("signed_prekey.key_id must fit in 32 bits")
    verify(
        identity_key,
        signed_prekey_message(spk.key_id, spk.public_key),
        spk.signature,
        "signed_prekey.signature",
    )
    await conn.execute(delete(signed_prekeys).where(signed_prekeys.c.device_id == device_id))
    await conn.execute(
        insert(signed_prekeys).values(
            device_id=device_id,
            key_id=spk.key_id,
            public_key=spk.public_key,
            signature=spk.signature,
            created_day=day_of(now),
        )
    )


async def count(conn: AsyncConnection, device_id: bytes) -> int:
    return int(
        await conn.scalar(select(func.count()).where(one_time_prekeys.c.device_id == device_id))
        or 0
    )


async def add_one_time_prekeys(
    conn: AsyncConnection,
    device_id: bytes,
    keys: list[OneTimePrekey],
    now: float,
    *,
    max_stock: int,
) -> int:
    """Store a batch of one-time prekeys; returns how many the device now has."""
    if not keys:
        return await count(conn, device_id)
    ids = [k.key_id for k in keys]
    if len(set(ids)) != len(ids) or any(not 0 <= i < 2**32 for i in ids):
        raise InvalidInput("one_time_prekeys key_ids must be distinct 32-bit integers")
    clash = await conn.scalar(
        select(func.count()).where(
            one_time_prekeys.c.device_id == device_id, one_time_prekeys.c.key_id.in_(ids)
        )
    )
    if clash:
        raise Conflict("a one-time prekey with one of these key_ids is already stored")
    have = await count(conn, device_id)
    if have + len(keys) > max_stock:
        raise InvalidInput(f"a device may hold at most {max_stock} one-time prekeys")
    day = day_of(now)
    await conn.execute(
        insert(one_time_prekeys),
        [
            {
                "device_id": device_id,
                "key_id": k.key_id,
                "public_key": k.public_key,
                "created_day": day,
            }
            for k in keys
        ],
    )
    return have + len(keys)


async def claim_bundle(conn: AsyncConnection, device_id: bytes) -> Bundle:
    """The device's prekey bundle, consuming one one-time prekey if any is left."""
    row = (
        await conn.execute(
            select(
                devices.c.identity_key,
                devices.c.revoked,
                signed_prekeys.c.key_id,
                signed_prekeys.c.public_key,
                signed_prekeys.c.signature,
            )
            .select_from(devices.join(signed_prekeys, signed_prekeys.c.device_id == devices.c.id))
            .where(devices.c.id == device_id)
        )
    ).first()
    if row is None or row.revoked:
        raise NotFound("no such device, or it has no signed prekey")
    pick = (
        select(one_time_prekeys.c.key_id)
        .where(one_time_prekeys.c.device_id == device_id)
        .order_by(one_time_prekeys.c.key_id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    claimed = (
        await conn.execute(
            delete(one_time_prekeys)
            .where(
                one_time_prekeys.c.device_id == device_id,
                one_time_prekeys.c.key_id == pick.scalar_subquery(),
            )
            .returning(one_time_prekeys.c.key_id, one_time_prekeys.c.public_key)
        )
    ).first()
    return Bundle(
        device_id=device_id,
        identity_key=row.identity_key,
        signed_prekey=SignedPrekey(row.key_id, row.public_key, row.signature),
        one_time_prekey=None
        if claimed is None
        else OneTimePrekey(claimed.key_id, claimed.public_key),
        remaining=await count(conn, device_id),
    )
