"""Sending, fetching and acknowledging envelopes over HTTP, and managing send capabilities.

Sending needs only the mailbox id and a capability: no Authorization header, so the relay
cannot tell who sent an envelope. Everything else here is for the mailbox's owner.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from confide_server.api.deps import (
    DatabaseDep,
    MailboxesDep,
    MetricsDep,
    PrincipalDep,
    SettingsDep,
    owner_only,
    path_id,
)
from confide_server.api.types import PROBLEMS, Envelope, Id16, Key32, Model
from confide_server.encoding import b64e
from confide_server.errors import InvalidInput, TooLarge
from confide_server.services import capabilities

router = APIRouter(prefix="/v1/mailboxes", tags=["mailboxes"], responses=PROBLEMS)


class SendIn(Model):
    capability: Key32
    client_message_id: str = Field(min_length=1, max_length=128)
    body: Envelope
    ttl: int | None = Field(default=None, gt=0)


class SendOut(BaseModel):
    status: str
    id: str | None
    duplicate: bool


class EnvelopeOut(BaseModel):
    id: str
    body: str


class FetchOut(BaseModel):
    envelopes: list[EnvelopeOut]


class AckIn(Model):
    ids: list[Id16] = Field(min_length=1, max_length=512)


class CapabilityOut(BaseModel):
    capability_id: str
    capability: str


class CapabilityInfo(BaseModel):
    capability_id: str
    revoked: bool


@router.post("/{mailbox_id}/messages", status_code=202)
async def send(
    mailbox_id: str, body: SendIn, settings: SettingsDep, mailboxes: MailboxesDep
) -> SendOut:
    """Queue one opaque envelope; 202 only once it is durable. Idempotent per client_message_id."""
    target = path_id(mailbox_id, "mailbox_id")
    if not body.body:
        raise InvalidInput("body must not be empty")
    if len(body.body) > settings.max_envelope_bytes:
        raise TooLarge(f"an envelope may be at most {settings.max_envelope_bytes} bytes")
    result = await mailboxes.send(
        target, body.capability, body.client_message_id, body.body, body.ttl
    )
    return SendOut(
        status="accepted",
        id=None if result.envelope_id is None else b64e(result.envelope_id),
        duplicate=result.duplicate,
    )


@router.get("/{mailbox_id}/messages")
async def fetch(
    mailbox_id: str,
    principal: PrincipalDep,
    mailboxes: MailboxesDep,
    limit: int = Query(default=100, ge=1, le=500),
) -> FetchOut:
    """Pending envelopes in order; they stay until acknowledged or expired."""
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    rows = await mailboxes.pending(principal.mailbox_id, limit)
    return FetchOut(envelopes=[EnvelopeOut(id=b64e(i), body=b64e(b)) for _s, i, b in rows])


@router.post("/{mailbox_id}/acks", status_code=204)
async def ack(
    mailbox_id: str,
    body: AckIn,
    principal: PrincipalDep,
    mailboxes: MailboxesDep,
    metrics: MetricsDep,
) -> None:
    """Delete acknowledged envelopes (unknown ids are ignored, so acks can be retried)."""
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    await mailboxes.ack(principal.mailbox_id, body.ids)
    metrics.acked.inc(len(body.ids))


@router.post("/{mailbox_id}/capabilities", status_code=201)
async def mint(mailbox_id: str, principal: PrincipalDep, db: DatabaseDep) -> CapabilityOut:
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    async with db.write() as conn:
        capability_id, secret = await capabilities.mint(conn, principal.mailbox_id)
    return CapabilityOut(capability_id=b64e(capability_id), capability=b64e(secret))


@router.get("/{mailbox_id}/capabilities")
async def list_capabilities(
    mailbox_id: str, principal: PrincipalDep, db: DatabaseDep
) -> list[CapabilityInfo]:
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    async with db.read() as conn:
        rows = await capabilities.listing(conn, principal.mailbox_id)
    return [CapabilityInfo(capability_id=b64e(i), revoked=r) for i, r in rows]


@router.delete("/{mailbox_id}/capabilities/{capability_id}", status_code=204)
async def revoke(
    mailbox_id: str, capability_id: str, principal: PrincipalDep, db: DatabaseDep
) -> None:
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    async with db.write() as conn:
        await capabilities.revoke(
            conn, principal.mailbox_id, path_id(capability_id, "capability_id")
        )


@router.post("/{mailbox_id}/capabilities/{capability_id}/rotate", status_code=201)
async def rotate(
    mailbox_id: str, capability_id: str, principal: PrincipalDep, db: DatabaseDep
) -> CapabilityOut:
    """Revoke a capability and mint its replacement in one transaction."""
    owner_only(principal, path_id(mailbox_id, "mailbox_id"))
    async with db.write() as conn:
        await capabilities.revoke(
            conn, principal.mailbox_id, path_id(capability_id, "capability_id")
        )
        new_id, secret = await capabilities.mint(conn, principal.mailbox_id)
    return CapabilityOut(capability_id=b64e(new_id), capability=b64e(secret))
