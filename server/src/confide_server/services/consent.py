"""Consent receipts and revocations: stored as signed, returned to the worker they name.

The receipt's format belongs to confide_crypto (it starts with a version byte and carries its
own domain tag); the relay only checks that the submitting client device signed exactly these
bytes with its identity key, and keeps bytes and signature for the worker and for the record.

A client device may keep at most ``max_records`` of them (CONFIDE_CONSENT_RECORDS_PER_DEVICE):
records are never swept, so without a quota one client could fill the worker's list and the
disk. The worker reads them a page at a time, oldest day first (``for_worker``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import func, insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from confide_server.clock import day_of
from confide_server.errors import Forbidden, InvalidInput, QuotaExceeded
from confide_server.services.auth import Principal
from confide_server.services.identity import verify
from confide_server.services.organisation import require_worker
from confide_server.store.schema import consent_receipts, devices

KINDS = ("receipt", "revocation")
MAX_RECEIPT_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    id: bytes
    client_device_id: bytes
    kind: str
    receipt: bytes
    signature: bytes
    created_day: int


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page of a worker's records ends: records sort by (created_day, id)."""

    created_day: int
    id: bytes


async def submit(
    conn: AsyncConnection,
    client: Principal,
    worker_device_id: bytes,
    kind: str,
    receipt: bytes,
    signature: bytes,
    now: float,
    max_records: int,
) -> bytes:
    if client.kind != "client":
        raise Forbidden("only a client device submits consent receipts")
    if kind not in KINDS:
        raise InvalidInput("kind must be receipt or revocation")
    if not receipt or len(receipt) > MAX_RECEIPT_BYTES:
        raise InvalidInput(f"receipt must be 1 to {MAX_RECEIPT_BYTES} bytes")
    verify(client.identity_key, receipt, signature, "signature")
    await require_worker(conn, worker_device_id)
    receipt_id = os.urandom(16)
    row = {
        "id": receipt_id,
        "client_device_id": client.device_id,
        "worker_device_id": worker_device_id,
        "kind": kind,
        "receipt": receipt,
        "signature": signature,
        "created_day": day_of(now),
    }
    await _insert_within_quota(conn, row, max_records)
    return receipt_id


async def _insert_within_quota(
    conn: AsyncConnection, row: dict[str, object], max_records: int
) -> None:
    """Insert ``row`` only while its client device holds fewer than ``max_records``.

    The count and the insert are one statement, so on SQLite (where the write lock is taken
    at a transaction's first write) two concurrent submissions cannot both pass the count.
    On PostgreSQL neither would see the other's uncommitted row, so the device's row is
    locked first and they count one after the other.
    """
    device_id = row["client_device_id"]
    await conn.execute(select(devices.c.id).where(devices.c.id == device_id).with_for_update())
    held = (
        select(func.count())
        .select_from(consent_receipts)
        .where(consent_receipts.c.client_device_id == device_id)
        .scalar_subquery()
    )
    source = select(
        *(literal(value, consent_receipts.c[name].type).label(name) for name, value in row.items())
    ).where(held < max_records)
    result = await conn.execute(insert(consent_receipts).from_select(list(row), source))
    if result.rowcount == 0:
        raise QuotaExceeded(f"this device already has {max_records} consent records stored")


async def for_worker(
    conn: AsyncConnection, worker_device_id: bytes, after: Position | None, limit: int
) -> list[StoredReceipt]:
    """Up to ``limit`` records addressed to this worker device, after ``after``."""
    order = (consent_receipts.c.created_day, consent_receipts.c.id)
    query = select(consent_receipts).where(consent_receipts.c.worker_device_id == worker_device_id)
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(after.created_day, after.id))
    rows = await conn.execute(query.order_by(*order).limit(limit))
    return [
        StoredReceipt(r.id, r.client_device_id, r.kind, r.receipt, r.signature, r.created_day)
        for r in rows
    ]
