"""Encrypted attachment blobs: raw bytes in and out (application/octet-stream), streamed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from confide_server.api.deps import (
    ClockDep,
    DatabaseDep,
    PrincipalDep,
    RelayDep,
    SettingsDep,
    path_id,
)
from confide_server.api.types import PROBLEMS, problem_response
from confide_server.clock import expiry
from confide_server.encoding import b64e
from confide_server.errors import InvalidInput, TooLarge
from confide_server.quotas import Quotas
from confide_server.services import attachments

router = APIRouter(prefix="/v1/attachments", tags=["attachments"], responses=PROBLEMS)


class AttachmentOut(BaseModel):
    attachment_id: str
    expires_at: int


class _Charge:
    """Counts an upload's pieces against the size limit and the device's daily bytes."""

    def __init__(self, quotas: Quotas, device_id: bytes, limit: int) -> None:
        self._quotas, self._device_id, self._limit = quotas, device_id, limit
        self.taken = 0

    def __call__(self, size: int) -> None:
        if self.taken + size > self._limit:
            raise TooLarge(f"an attachment may be at most {self._limit} bytes")
        self._quotas.attachment_bytes.take(self._device_id, size)
        self.taken += size

    def refund(self) -> None:
        self._quotas.attachment_bytes.give_back(self._device_id, self.taken)


FULL: dict[int | str, dict[str, Any]] = {
    507: problem_response("The relay's attachment storage is full (all devices together)")
}


@router.post("", status_code=201, responses=FULL)
async def upload(
    request: Request,
    principal: PrincipalDep,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> AttachmentOut:
    """Store an encrypted blob (the body, as-is) until deleted or expired."""
    quotas = relay.quotas
    quotas.attachment_uploads.hit(principal.device_id, "attachment uploads")
    # The organisation's retention limit caps attachments as it caps queued envelopes.
    expires_at = expiry(
        clock(), settings.attachment_ttl_seconds, limit=max(60, relay.max_retention)
    )
    charge = _Charge(quotas, principal.device_id, settings.max_attachment_bytes)
    with quotas.uploads_in_flight.hold(principal.device_id):
        try:
            blob_id, _size = await attachments.put(
                db.engine,
                request.stream(),
                expires_at,
                charge,
                settings.max_attachment_storage_bytes,
            )
        except ClientDisconnect:
            charge.refund()
            # Nobody is left to read this; it is not a fault of the relay's either.
            raise InvalidInput("the upload ended before its body did") from None
        except BaseException:
            charge.refund()
            raise
    return AttachmentOut(attachment_id=b64e(blob_id), expires_at=expires_at)


@router.get(
    "/{attachment_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(
    attachment_id: str, principal: PrincipalDep, db: DatabaseDep, clock: ClockDep
) -> Response:
    """The blob's bytes, streamed piece by piece."""
    blob_id = path_id(attachment_id, "attachment_id")
    async with db.read() as conn:
        size = await attachments.size_of(conn, blob_id, clock())
    return StreamingResponse(
        attachments.read(db.reader, blob_id),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


@router.delete("/{attachment_id}", status_code=204)
async def delete(attachment_id: str, principal: PrincipalDep, db: DatabaseDep) -> None:
    async with db.write() as conn:
        await attachments.remove(conn, path_id(attachment_id, "attachment_id"))
