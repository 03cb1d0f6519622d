"""Prekey upload and bundle fetch (docs/protocol.md, "Prekeys")."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from confide_server.api.convert import bundle_out, one_time_in, signed_prekey_in
from confide_server.api.deps import (
    ClockDep,
    DatabaseDep,
    PrincipalDep,
    RelayDep,
    SettingsDep,
    path_id,
)
from confide_server.api.types import PROBLEMS, BundleOut, Model, OneTimePrekeyIn, SignedPrekeyIn
from confide_server.errors import InvalidInput
from confide_server.fanout import Fanout
from confide_server.services import prekeys
from confide_server.store.schema import mailboxes

router = APIRouter(prefix="/v1", tags=["prekeys"], responses=PROBLEMS)


class OneTimeUploadIn(Model):
    prekeys: list[OneTimePrekeyIn] = Field(min_length=1, max_length=1000)


class PrekeyStatus(BaseModel):
    one_time_prekeys: int
    low: bool


def notify_if_low(fanout: Fanout, low_watermark: int, mailbox_id: bytes, remaining: int) -> None:
    """Tell the owner's live connections that its one-time prekeys are running out."""
    if remaining < low_watermark:
        fanout.notify(mailbox_id, {"kind": "prekeys-low", "remaining": remaining})


@router.put("/prekeys/signed", status_code=204)
async def put_signed(
    body: SignedPrekeyIn, principal: PrincipalDep, db: DatabaseDep, clock: ClockDep
) -> None:
    """Replace the signed prekey; its signature must verify with the identity key."""
    async with db.write() as conn:
        await prekeys.set_signed_prekey(
            conn, principal.device_id, principal.identity_key, signed_prekey_in(body), clock()
        )


@router.post("/prekeys/one-time")
async def upload(
    body: OneTimeUploadIn,
    principal: PrincipalDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> PrekeyStatus:
    if len(body.prekeys) > settings.max_prekeys_per_upload:
        raise InvalidInput(f"at most {settings.max_prekeys_per_upload} prekeys per upload")
    async with db.write() as conn:
        have = await prekeys.add_one_time_prekeys(
            conn,
            principal.device_id,
            one_time_in(body.prekeys),
            clock(),
            max_stock=settings.max_one_time_prekeys,
        )
    return PrekeyStatus(one_time_prekeys=have, low=have < settings.prekey_low_watermark)


@router.get("/prekeys/status")
async def status(principal: PrincipalDep, db: DatabaseDep, settings: SettingsDep) -> PrekeyStatus:
    async with db.read() as conn:
        have = await prekeys.count(conn, principal.device_id)
    return PrekeyStatus(one_time_prekeys=have, low=have < settings.prekey_low_watermark)


@router.get("/devices/{device_id}/bundle")
async def bundle(
    device_id: str,
    principal: PrincipalDep,
    relay: RelayDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> BundleOut:
    """The device's prekey bundle; consumes one one-time prekey. Rate limited per caller."""
    target = path_id(device_id, "device_id")
    relay.prekey_fetches.hit(principal.device_id, "prekey fetches")
    async with db.write() as conn:
        claimed = await prekeys.claim_bundle(conn, target)
        owner_mailbox = await conn.scalar(
            select(mailboxes.c.id).where(mailboxes.c.device_id == target)
        )
    if owner_mailbox is not None:
        notify_if_low(relay.fanout, settings.prekey_low_watermark, owner_mailbox, claimed.remaining)
    return bundle_out(claimed)
