"""The organisation as every device sees it: its policy, settings and workers.

The admin's routes are in api/admin.py and api/admin_org.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from confide_server.api.convert import policy_out, terms_out
from confide_server.api.deps import DatabaseDep, WorkerDep, path_id
from confide_server.api.types import PROBLEMS, PolicyOut, TermsOut
from confide_server.encoding import b64e
from confide_server.errors import NotFound
from confide_server.services import capabilities, group_terms, org_settings, org_texts, organisation

router = APIRouter(prefix="/v1", tags=["organisation"], responses=PROBLEMS)


class OrganisationOut(BaseModel):
    name: str
    max_retention_seconds: int
    policy: PolicyOut | None
    # The terms a client joining a peer support group agrees to (docs/protocol.md G§4).
    group_terms: TermsOut | None = None
    # The organisation's settings the apps apply (services/org_settings.py), in seconds.
    settings: dict[str, int]
    # Its own wording of the privacy guide and the call checklist: name -> language -> text
    # (services/org_texts.py); the apps use their own for anything missing.
    texts: dict[str, dict[str, str]] = {}


class WorkerDevice(BaseModel):
    worker_id: str
    role: str
    device_id: str


@router.get("/organisation")
async def get_organisation(db: DatabaseDep) -> OrganisationOut:
    """Public: the organisation's name, retention limit and current confidentiality policy."""
    async with db.read() as conn:
        org = await organisation.get(conn)
        policy = await organisation.current_policy(conn)
        terms = await group_terms.current(conn)
        values = await org_settings.all_values(conn)
        texts = await org_texts.all_texts(conn)
    if org is None:
        raise NotFound("the organisation has not been created yet (confide create-org)")
    return OrganisationOut(
        name=org.name,
        max_retention_seconds=org.max_retention_seconds,
        policy=policy_out(policy),
        group_terms=terms_out(terms),
        settings=values,
        texts=texts,
    )


# A version is 1 or more and fits the column's integer (past it, the database driver fails).
TermsVersion = Annotated[int, Path(ge=1, lt=2**31)]


@router.get("/group-terms/{version}")
async def get_group_terms(version: TermsVersion, db: DatabaseDep) -> TermsOut:
    """Public: one version of the group terms, so a member can read what it agreed to."""
    async with db.read() as conn:
        out = terms_out(await group_terms.show(conn, version))
    assert out is not None
    return out


@router.get("/workers")
async def list_workers(worker: WorkerDep, db: DatabaseDep) -> list[WorkerDevice]:
    """Worker devices and roles, so a worker can find a supervisor's device for consultation."""
    async with db.read() as conn:
        rows = await organisation.worker_devices(conn)
    return [WorkerDevice(worker_id=b64e(w), role=r, device_id=b64e(d)) for w, r, d in rows]


class ColleagueCapability(BaseModel):
    device_id: str
    mailbox_id: str
    capability_id: str
    capability: str


@router.post("/workers/{device_id}/capabilities", status_code=201)
async def colleague_capability(
    device_id: str, worker: WorkerDep, db: DatabaseDep
) -> ColleagueCapability:
    """A send capability for a colleague's mailbox (for consultation with a supervisor).

    Within the organisation's staff the relay mints it on the colleague's behalf, so it
    learns that this worker may write to that colleague; it still records no sender on the
    envelopes themselves.
    """
    target = path_id(device_id, "device_id")
    async with db.write() as conn:
        mailbox_id = await organisation.require_worker(conn, target)
        capability_id, secret = await capabilities.mint(conn, mailbox_id)
    return ColleagueCapability(
        device_id=device_id,
        mailbox_id=b64e(mailbox_id),
        capability_id=b64e(capability_id),
        capability=b64e(secret),
    )
