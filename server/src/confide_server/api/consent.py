"""Consent receipts: clients submit them signed, their worker reads them back."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from confide_server.api.deps import PrincipalDep, RelayDep, WorkerDep
from confide_server.api.types import PROBLEMS, Id16, Model, Receipt, Sig64
from confide_server.encoding import b64e
from confide_server.services import consent

router = APIRouter(prefix="/v1/consent", tags=["consent"], responses=PROBLEMS)


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


@router.post("", status_code=201)
async def submit(body: ConsentIn, principal: PrincipalDep, relay: RelayDep) -> ConsentCreated:
    """Store a consent receipt or revocation signed by this client device's identity key."""
    async with relay.engine.begin() as conn:
        receipt_id = await consent.submit(
            conn,
            principal,
            body.worker_device_id,
            body.kind,
            body.receipt,
            body.signature,
            relay.clock(),
        )
    return ConsentCreated(receipt_id=b64e(receipt_id))


@router.get("")
async def for_worker(worker: WorkerDep, relay: RelayDep) -> list[ConsentOut]:
    """The receipts and revocations that clients addressed to this worker device."""
    async with relay.reader.connect() as conn:
        stored = await consent.for_worker(conn, worker.device_id)
    return [
        ConsentOut(
            receipt_id=b64e(r.id),
            client_device_id=b64e(r.client_device_id),
            kind=r.kind,
            receipt=b64e(r.receipt),
            signature=b64e(r.signature),
            created_day=r.created_day,
        )
        for r in stored
    ]
