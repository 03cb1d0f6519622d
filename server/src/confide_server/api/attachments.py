"""Encrypted attachment blobs: raw bytes in and out (application/octet-stream)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from confide_server.api.deps import PrincipalDep, RelayDep, path_id
from confide_server.api.types import PROBLEMS
from confide_server.clock import expiry
from confide_server.encoding import b64e
from confide_server.errors import InvalidInput, TooLarge
from confide_server.services import attachments

router = APIRouter(prefix="/v1/attachments", tags=["attachments"], responses=PROBLEMS)


class AttachmentOut(BaseModel):
    attachment_id: str
    expires_at: int


@router.post("", status_code=201)
async def upload(request: Request, principal: PrincipalDep, relay: RelayDep) -> AttachmentOut:
    """Store an encrypted blob (the body, as-is) until deleted or expired."""
    limit = relay.settings.max_attachment_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"an attachment may be at most {limit} bytes")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("the attachment body is empty")
    expires_at = expiry(relay.clock(), relay.settings.attachment_ttl_seconds)
    async with relay.engine.begin() as conn:
        blob_id = await attachments.put(conn, b"".join(chunks), expires_at)
    return AttachmentOut(attachment_id=b64e(blob_id), expires_at=expires_at)


@router.get("/{attachment_id}", response_class=Response)
async def download(attachment_id: str, principal: PrincipalDep, relay: RelayDep) -> Response:
    async with relay.reader.connect() as conn:
        body = await attachments.get(conn, path_id(attachment_id, "attachment_id"), relay.clock())
    return Response(body, media_type="application/octet-stream")


@router.delete("/{attachment_id}", status_code=204)
async def delete(attachment_id: str, principal: PrincipalDep, relay: RelayDep) -> None:
    async with relay.engine.begin() as conn:
        await attachments.remove(conn, path_id(attachment_id, "attachment_id"))
