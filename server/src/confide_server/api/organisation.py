"""The organisation's policy, its workers, and admin actions (enrolment codes, policy, audit)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from confide_server.api.convert import policy_out
from confide_server.api.deps import AdminDep, RelayDep, WorkerDep, path_id
from confide_server.api.types import PROBLEMS, Model, PolicyOut
from confide_server.encoding import b64e
from confide_server.errors import NotFound
from confide_server.services import capabilities, organisation

router = APIRouter(prefix="/v1", tags=["organisation"], responses=PROBLEMS)


class OrganisationOut(BaseModel):
    name: str
    max_retention_seconds: int
    policy: PolicyOut | None


class WorkerDevice(BaseModel):
    worker_id: str
    role: str
    device_id: str


class EnrolmentIn(Model):
    role: Literal["worker", "supervisor", "admin"] = "worker"


class EnrolmentOut(BaseModel):
    worker_id: str
    enrolment_code: str
    expires_at: int


class PolicyIn(Model):
    text: str = Field(min_length=1, max_length=100_000)


class AuditEvent(BaseModel):
    hour: int
    action: str
    actor: str
    subject: str | None


@router.get("/organisation")
async def get_organisation(relay: RelayDep) -> OrganisationOut:
    """Public: the organisation's name, retention limit and current confidentiality policy."""
    async with relay.reader.connect() as conn:
        org = await organisation.get(conn)
        policy = await organisation.current_policy(conn)
    if org is None:
        raise NotFound("the organisation has not been created yet (confide create-org)")
    return OrganisationOut(
        name=org.name, max_retention_seconds=org.max_retention_seconds, policy=policy_out(policy)
    )


@router.get("/workers")
async def list_workers(worker: WorkerDep, relay: RelayDep) -> list[WorkerDevice]:
    """Worker devices and roles, so a worker can find a supervisor's device for consultation."""
    async with relay.reader.connect() as conn:
        rows = await organisation.worker_devices(conn)
    return [WorkerDevice(worker_id=b64e(w), role=r, device_id=b64e(d)) for w, r, d in rows]


class ColleagueCapability(BaseModel):
    device_id: str
    mailbox_id: str
    capability_id: str
    capability: str


@router.post("/workers/{device_id}/capabilities", status_code=201)
async def colleague_capability(
    device_id: str, worker: WorkerDep, relay: RelayDep
) -> ColleagueCapability:
    """A send capability for a colleague's mailbox (for consultation with a supervisor).

    Within the organisation's staff the relay mints it on the colleague's behalf, so it
    learns that this worker may write to that colleague; it still records no sender on the
    envelopes themselves.
    """
    target = path_id(device_id, "device_id")
    async with relay.engine.begin() as conn:
        mailbox_id = await organisation.require_worker(conn, target)
        capability_id, secret = await capabilities.mint(conn, mailbox_id)
    return ColleagueCapability(
        device_id=device_id,
        mailbox_id=b64e(mailbox_id),
        capability_id=b64e(capability_id),
        capability=b64e(secret),
    )


@router.post("/admin/enrolment-codes", status_code=201)
async def enrol_worker(body: EnrolmentIn, admin: AdminDep, relay: RelayDep) -> EnrolmentOut:
    now = relay.clock()
    ttl = relay.settings.enrolment_code_ttl_seconds
    assert admin.worker_id is not None
    async with relay.engine.begin() as conn:
        worker_id, code = await organisation.enrol_worker(
            conn, body.role, now, ttl, b64e(admin.worker_id)
        )
    return EnrolmentOut(
        worker_id=b64e(worker_id), enrolment_code=b64e(code), expires_at=int(now) + ttl
    )


@router.post("/admin/policies", status_code=201)
async def publish_policy(body: PolicyIn, admin: AdminDep, relay: RelayDep) -> PolicyOut:
    assert admin.worker_id is not None
    async with relay.engine.begin() as conn:
        policy = await organisation.publish_policy(
            conn, body.text, relay.clock(), b64e(admin.worker_id)
        )
    out = policy_out(policy)
    assert out is not None
    return out


@router.post("/admin/workers/{worker_id}/disable", status_code=204)
async def disable_worker(worker_id: str, admin: AdminDep, relay: RelayDep) -> None:
    """Disable a worker (for example when they leave): their devices lose access at once."""
    assert admin.worker_id is not None
    async with relay.engine.begin() as conn:
        await organisation.disable_worker(
            conn, path_id(worker_id, "worker_id"), relay.clock(), b64e(admin.worker_id)
        )


@router.get("/admin/audit")
async def audit(
    admin: AdminDep, relay: RelayDep, limit: int = Query(default=100, ge=1, le=1000)
) -> list[AuditEvent]:
    async with relay.reader.connect() as conn:
        events = await organisation.audit_log(conn, limit)
    return [AuditEvent.model_validate(e) for e in events]
