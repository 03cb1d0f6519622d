"""Consent receipts and revocations: stored as signed, returned to the worker they name.

The receipt's format belongs to confide_crypto (docs/protocol.md part 2 section 10); the
relay reads it without keys (services/consent_format.py) and stores only what it can check:
a well-formed receipt or revocation, signed by the submitting client device's identity key
and naming that key, addressed to the worker device whose invite the client redeemed
(``devices.invited_by``). A receipt must name that worker device's key (by fingerprint) and
a published policy version with its hash; a revocation must end a receipt this client
device stored for that worker, and not be dated before it. Anything else is
ConsentRejected (400 consent-rejected). Times are the devices' business: the worker checks a
receipt's signing time and expiry against its own clock.

A client device may keep at most ``max_records`` of them (CONFIDE_CONSENT_RECORDS_PER_DEVICE):
records are never swept, so without a quota one client could fill the worker's list and the
disk. The worker reads them a page at a time, oldest day first (``for_worker``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import func, insert, literal, select, tuple_

from confide_server.clock import day_of
from confide_server.errors import ConsentRejected, Forbidden, InvalidInput, QuotaExceeded
from confide_server.services import policy_texts
from confide_server.services.auth import Principal
from confide_server.services.consent_format import decode_receipt, decode_revocation
from confide_server.services.identity import verify
from confide_server.services.organisation import require_worker
from confide_server.store.schema import consent_receipts, devices, policies
from confide_server.store.sqla_async import AsyncConnection

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
    await _check_record(conn, client, worker_device_id, kind, receipt)
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


async def _check_record(
    conn: AsyncConnection, client: Principal, worker_device_id: bytes, kind: str, data: bytes
) -> None:
    """Raise ConsentRejected unless ``data`` is a record this client may file for the worker."""
    row = (
        await conn.execute(
            select(devices.c.invited_by, devices.c.identity_key).where(
                devices.c.id.in_([client.device_id, worker_device_id])
            )
        )
    ).all()
    keys = {bytes(r.identity_key): r.invited_by for r in row}
    if keys.get(client.identity_key) != worker_device_id:
        raise ConsentRejected("this client device did not join through an invite of that worker")
    (worker_key,) = (key for key in keys if key != client.identity_key)
    if kind == "receipt":
        await _check_receipt(conn, client, worker_key, data)
    else:
        await _check_revocation(conn, client, worker_device_id, data)


async def _check_receipt(
    conn: AsyncConnection, client: Principal, worker_key: bytes, data: bytes
) -> None:
    receipt = decode_receipt(data)
    if receipt.client_identity_key != client.identity_key:
        raise ConsentRejected("the receipt names another client key than the signer's")
    if not hmac.compare_digest(receipt.worker_key_fingerprint, hashlib.sha256(worker_key).digest()):
        raise ConsentRejected("the receipt names another worker key than that worker device's")
    # A format 2 receipt names the language of the text read: its hash must be that text's.
    # A format 1 receipt names none, and so the version's first text.
    version, language = receipt.policy_version, receipt.policy_language
    if await conn.scalar(select(policies.c.version).where(policies.c.version == version)) is None:
        raise ConsentRejected(f"there is no policy version {version}")
    published = await policy_texts.published_sha256(conn, version, language)
    if published is None:
        raise ConsentRejected(f"policy version {version} has no text in {language}")
    if receipt.policy_sha256.hex() != published:
        raise ConsentRejected(
            f"the receipt's policy hash is not that of policy version {version}"
            + (f" in {language}" if language else "")
        )


async def _check_revocation(
    conn: AsyncConnection, client: Principal, worker_device_id: bytes, data: bytes
) -> None:
    revocation = decode_revocation(data)
    if revocation.client_identity_key != client.identity_key:
        raise ConsentRejected("the revocation names another client key than the signer's")
    stored = await conn.scalars(
        select(consent_receipts.c.receipt).where(
            consent_receipts.c.client_device_id == client.device_id,
            consent_receipts.c.worker_device_id == worker_device_id,
            consent_receipts.c.kind == "receipt",
        )
    )
    ended = next(
        (bytes(r) for r in stored if hashlib.sha256(r).digest() == revocation.receipt_sha256),
        None,
    )
    if ended is None:
        raise ConsentRejected("the revocation names no stored receipt of this client and worker")
    if revocation.revoked_at < decode_receipt(ended).signed_at:
        raise ConsentRejected("the revocation is dated before the receipt it ends")


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
