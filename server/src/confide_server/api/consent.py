"""Consent receipts: clients submit them signed, their worker reads them back a page at a time."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from confide_server.api.deps import ClockDep, DatabaseDep, PrincipalDep, RelayDep, WorkerDep
from confide_server.api.types import PROBLEMS, Id16, Model, Receipt, Sig64
from confide_server.encoding import b64d, b64e
from confide_server.services import consent

router = APIRouter(prefix="/v1/consent", tags=["consent"], responses=PROBLEMS)

PAGE_DEFAULT = 50
PAGE_MAX = 200


class ConsentIn(Model):
    worker_device_id: Id16
    kind: Literal["receipt", "revocation"] = "receipt"
    receipt: Receipt
    signature: Sig64


class ConsentCreated(BaseModel):
    receipt_id: str


class ConsentOut(BaseModel):
    receipt_id: str
    client_device_id: str
    kind: str
    receipt: str
    signature: str
    created_day: int


class ConsentPage(BaseModel):
    """One page of records; ``next`` is the cursor for the following page, or null."""

    records: list[ConsentOut]
    next: str | None


@router.post("", status_code=201)
async def submit(
    body: ConsentIn, principal: PrincipalDep, relay: RelayDep, db: DatabaseDep, clock: ClockDep
) -> ConsentCreated:
    """Store a consent receipt or revocation signed by this client device's identity key."""
    relay.quotas.consent_submissions.hit(principal.device_id, "consent submissions")
    async with db.write() as conn:
        receipt_id = await consent.submit(
            conn,
            principal,
            body.worker_device_id,
            body.kind,
            body.receipt,
            body.signature,
            clock(),
            relay.quotas.consent_records,
        )
    return ConsentCreated(receipt_id=b64e(receipt_id))


def _cursor(position: consent.Position) -> str:
    return b64e(position.created_day.to_bytes(8, "big") + position.id)


def _position(cursor: str | None) -> consent.Position | None:
    if cursor is None:
        return None
    raw = b64d(cursor, "after", size=24)
    return consent.Position(int.from_bytes(raw[:8], "big"), raw[8:])


@router.get("")
async def for_worker(
    worker: WorkerDep,
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    after: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
) -> ConsentPage:
    """The receipts and revocations that clients addressed to this worker device, oldest
    day first, ``limit`` at a time."""
    position = _position(after)
    async with db.read() as conn:
        # One more than asked says whether another page follows.
        stored = await consent.for_worker(conn, worker.device_id, position, limit + 1)
    page = stored[:limit]
    more = len(stored) > limit
    return ConsentPage(
        records=[
            ConsentOut(
                receipt_id=b64e(r.id),
                client_device_id=b64e(r.client_device_id),
                kind=r.kind,
                receipt=b64e(r.receipt),
                signature=b64e(r.signature),
                created_day=r.created_day,
            )
            for r in page
        ],
        next=_cursor(consent.Position(page[-1].created_day, page[-1].id)) if more else None,
    )
