"""The admin API for workers and devices (the web console's; the CLI uses the same services).

Reading needs the admin role; every change also needs a step-up within the last
``CONFIDE_STEP_UP_SECONDS`` (services/stepup.py). Revoking a device or disabling a worker
closes its open WebSockets at once on every relay process (cutoff.py, close code 4408).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from confide_server import cutoff
from confide_server.api.admin_deps import AdminActDep, AdminReadDep
from confide_server.api.deps import ClockDep, DatabaseDep, RelayDep, SettingsDep, path_id
from confide_server.api.types import PROBLEMS, Key32, Model, Sig64
from confide_server.clock import expiry
from confide_server.encoding import b64d, b64e
from confide_server.errors import Unauthenticated
from confide_server.services import audit, organisation, staff, stepup

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=PROBLEMS)

Role = Literal["worker", "supervisor", "admin"]


class StepUpIn(Model):
    challenge: Key32
    signature: Sig64


class StepUpOut(BaseModel):
    until: int


class WorkerOut(BaseModel):
    worker_id: str
    role: str
    disabled: bool
    created_day: int
    devices: int


class DeviceOut(BaseModel):
    device_id: str
    kind: str
    worker_id: str | None
    revoked: bool
    created_day: int


class EnrolmentIn(Model):
    role: Role = "worker"


class EnrolmentOut(BaseModel):
    worker_id: str
    enrolment_code: str
    expires_at: int


class RoleIn(Model):
    role: Role


@router.post("/step-up")
async def step_up(
    body: StepUpIn, admin: AdminReadDep, db: DatabaseDep, clock: ClockDep, settings: SettingsDep
) -> StepUpOut:
    """Confirm again: sign ``"Confide step-up v1\\0" + challenge`` with the device's key."""
    try:
        async with db.write() as conn:
            until = await stepup.confirm(
                conn,
                admin,
                body.challenge,
                body.signature,
                clock(),
                settings.step_up_seconds,
            )
    except Unauthenticated:
        # A wrong signature is a failed admin attempt: recorded, then refused.
        async with db.write() as conn:
            await audit.append(
                conn, clock(), "admin.denied", stepup.actor_of(admin), None, "step-up"
            )
        raise
    return StepUpOut(until=until)


@router.get("/workers")
async def list_workers(admin: AdminReadDep, db: DatabaseDep) -> list[WorkerOut]:
    async with db.read() as conn:
        rows = await staff.list_workers(conn)
    return [WorkerOut.model_validate(r.as_json()) for r in rows]


@router.post("/enrolment-codes", status_code=201)
async def enrol_worker(
    body: EnrolmentIn, admin: AdminActDep, db: DatabaseDep, clock: ClockDep, settings: SettingsDep
) -> EnrolmentOut:
    """A new worker and a one-time code for its first device (the console shows it as a QR)."""
    now = clock()
    ttl = settings.enrolment_code_ttl_seconds
    async with db.write() as conn:
        worker_id, code = await organisation.enrol_worker(
            conn, body.role, now, ttl, stepup.actor_of(admin)
        )
    return EnrolmentOut(
        worker_id=b64e(worker_id), enrolment_code=b64e(code), expires_at=expiry(now, ttl)
    )


@router.post("/workers/{worker_id}/role", status_code=204)
async def set_role(
    worker_id: str, body: RoleIn, admin: AdminActDep, db: DatabaseDep, clock: ClockDep
) -> None:
    async with db.write() as conn:
        await staff.set_role(
            conn, path_id(worker_id, "worker_id"), body.role, clock(), stepup.actor_of(admin)
        )


@router.post("/workers/{worker_id}/disable", status_code=204)
async def disable_worker(
    worker_id: str, admin: AdminActDep, relay: RelayDep, db: DatabaseDep, clock: ClockDep
) -> None:
    """Disable a worker (for example when they leave): their devices lose access at once."""
    async with db.write() as conn:
        mailbox_ids = await staff.disable(
            conn, path_id(worker_id, "worker_id"), clock(), stepup.actor_of(admin)
        )
    cutoff.announce(relay.fanout, mailbox_ids)


@router.post("/workers/{worker_id}/enable", status_code=204)
async def enable_worker(
    worker_id: str, admin: AdminActDep, db: DatabaseDep, clock: ClockDep
) -> None:
    async with db.write() as conn:
        await staff.enable(conn, path_id(worker_id, "worker_id"), clock(), stepup.actor_of(admin))


@router.get("/devices")
async def list_devices(
    admin: AdminReadDep, db: DatabaseDep, worker_id: str | None = Query(default=None)
) -> list[DeviceOut]:
    worker = None if worker_id is None else b64d(worker_id, "worker_id", size=16)
    async with db.read() as conn:
        rows = await staff.list_devices(conn, worker)
    return [DeviceOut.model_validate(r.as_json()) for r in rows]


@router.post("/devices/{device_id}/revoke", status_code=204)
async def revoke_device(
    device_id: str, admin: AdminActDep, relay: RelayDep, db: DatabaseDep, clock: ClockDep
) -> None:
    async with db.write() as conn:
        mailbox_id = await staff.revoke_device(
            conn, path_id(device_id, "device_id"), clock(), stepup.actor_of(admin)
        )
    cutoff.announce(relay.fanout, [mailbox_id])
