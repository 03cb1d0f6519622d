"""Worker device enrolment and "who am I" (docs/protocol.md, "Devices")."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from confide_server.api.convert import one_time_in, signed_prekey_in
from confide_server.api.deps import (
    ClientKeyDep,
    ClockDep,
    DatabaseDep,
    PrincipalDep,
    RelayDep,
    SettingsDep,
)
from confide_server.api.types import PROBLEMS, Key32, Model, OneTimePrekeyIn, Sig64, SignedPrekeyIn
from confide_server.encoding import b64e
from confide_server.services import organisation
from confide_server.services.devices import Registration, register

router = APIRouter(prefix="/v1/devices", tags=["devices"], responses=PROBLEMS)


class RegistrationIn(Model):
    identity_key: Key32
    challenge: Key32
    signature: Sig64
    signed_prekey: SignedPrekeyIn
    one_time_prekeys: list[OneTimePrekeyIn] = Field(default_factory=list, max_length=1000)

    def registration(self) -> Registration:
        return Registration(
            identity_key=self.identity_key,
            challenge=self.challenge,
            signature=self.signature,
            signed_prekey=signed_prekey_in(self.signed_prekey),
            one_time_prekeys=one_time_in(self.one_time_prekeys),
        )


class EnrolIn(RegistrationIn):
    enrolment_code: Key32


class DeviceOut(BaseModel):
    device_id: str
    mailbox_id: str
    kind: str
    worker_id: str | None
    role: str | None


@router.post("/enrol", status_code=201)
async def enrol(
    body: EnrolIn,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    client: ClientKeyDep,
) -> DeviceOut:
    """Register a worker's device with a one-time enrolment code."""
    relay.redemptions.hit(client, "registrations")
    now = clock()
    async with db.write() as conn:
        worker_id, role = await organisation.use_enrolment_code(conn, body.enrolment_code, now)
        device = await register(
            conn,
            body.registration(),
            kind="worker",
            worker_id=worker_id,
            now=now,
            max_stock=settings.max_one_time_prekeys,
        )
    return DeviceOut(
        device_id=b64e(device.device_id),
        mailbox_id=b64e(device.mailbox_id),
        kind="worker",
        worker_id=b64e(worker_id),
        role=role,
    )


@router.get("/me")
async def me(principal: PrincipalDep) -> DeviceOut:
    return DeviceOut(
        device_id=b64e(principal.device_id),
        mailbox_id=b64e(principal.mailbox_id),
        kind=principal.kind,
        worker_id=None if principal.worker_id is None else b64e(principal.worker_id),
        role=principal.role,
    )
