"""Invites: a worker creates one, a client's device redeems it (docs/protocol.md, "Invites")."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from confide_server.api.convert import bundle_out, policy_out
from confide_server.api.deps import (
    ClientKeyDep,
    ClockDep,
    DatabaseDep,
    RelayDep,
    SettingsDep,
    WorkerDep,
    path_id,
)
from confide_server.api.devices import RegistrationIn
from confide_server.api.prekeys import notify_if_low
from confide_server.api.types import PROBLEMS, BundleOut, Key32, Model, PolicyOut
from confide_server.encoding import b64e
from confide_server.services import invites, org_settings

router = APIRouter(prefix="/v1/invites", tags=["invites"], responses=PROBLEMS)


class InviteIn(Model):
    ttl: int | None = Field(default=None, gt=0, description="seconds; capped by the setting")


class InviteOut(BaseModel):
    token: str
    expires_at: int
    url: str
    capability_id: str


class RedeemIn(RegistrationIn):
    token: Key32


class RedeemOut(BaseModel):
    device_id: str
    mailbox_id: str
    worker_bundle: BundleOut
    worker_mailbox_id: str
    worker_capability: str
    policy: PolicyOut | None


@router.post("", status_code=201)
async def create(
    worker: WorkerDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    body: InviteIn | None = None,
) -> InviteOut:
    """A single-use, expiring invite; the link carries the token in its fragment."""
    async with db.write() as conn:
        # The organisation's invite lifetime (services/org_settings.py) caps the relay's.
        limit = min(
            settings.invite_ttl_seconds,
            await org_settings.value(conn, "invite_ttl_seconds"),
        )
        ttl = min(body.ttl, limit) if body is not None and body.ttl is not None else limit
        token, expires_at, capability_id = await invites.create(
            conn, worker.device_id, worker.mailbox_id, clock(), ttl
        )
    link = f"{settings.public_url.rstrip('/')}/join#{b64e(token)}"
    return InviteOut(
        token=b64e(token), expires_at=expires_at, url=link, capability_id=b64e(capability_id)
    )


@router.post("/redeem", status_code=201)
async def redeem(
    body: RedeemIn,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    client: ClientKeyDep,
) -> RedeemOut:
    """Register the client's device and hand over what it needs to reach its worker."""
    relay.redemptions.hit(client, "invite redemptions")
    async with db.write() as conn:
        done = await invites.redeem(
            conn,
            body.token,
            body.registration(),
            clock(),
            settings.max_one_time_prekeys,
        )
    notify_if_low(
        relay.fanout,
        settings.prekey_low_watermark,
        done.worker_mailbox_id,
        done.worker_bundle.remaining,
    )
    return RedeemOut(
        device_id=b64e(done.device.device_id),
        mailbox_id=b64e(done.device.mailbox_id),
        worker_bundle=bundle_out(done.worker_bundle),
        worker_mailbox_id=b64e(done.worker_mailbox_id),
        worker_capability=b64e(done.worker_capability),
        policy=policy_out(done.policy),
    )


@router.delete("/{capability_id}", status_code=204)
async def cancel(capability_id: str, worker: WorkerDep, db: DatabaseDep) -> None:
    """Cancel a pending invite, named by the capability id it was created with."""
    async with db.write() as conn:
        await invites.cancel(conn, worker.device_id, path_id(capability_id, "capability_id"))
