"""Consent receipts and revocations: stored as signed, returned to the worker they name.

The receipt's format belongs to confide_crypto (it starts with a version byte and carries its
own domain tag); the relay only checks that the submitting client device signed exactly these
bytes with its identity key, and keeps bytes and signature for the worker and for the record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from confide_server.clock import day_of
from confide_server.errors import Forbidden, InvalidInput
from confide_server.services.auth import Principal
from confide_server.services.identity import verify
from confide_server.services.organisation import require_worker
from confide_server.store.schema import consent_receipts

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


async def submit(
    conn: AsyncConnection,
    client: Principal,
    worker_device_id: bytes,
    kind: str,
    receipt: bytes,
    signature: bytes,
    now: float,
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
    await conn.execute(
        insert(consent_receipts).values(
            id=receipt_id,
            client_device_id=client.device_id,
            worker_device_id=worker_device_id,
            kind=kind,
            receipt=receipt,
            signature=signature,
            created_day=day_of(now),
        )
    )
    return receipt_id


async def for_worker(conn: AsyncConnection, worker_device_id: bytes) -> list[StoredReceipt]:
    rows = await conn.execute(
        select(consent_receipts).where(consent_receipts.c.worker_device_id == worker_device_id)
    )
    return [
        StoredReceipt(r.id, r.client_device_id, r.kind, r.receipt, r.signature, r.created_day)
        for r in rows
    ]
