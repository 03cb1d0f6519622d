"""The admin API for the organisation: policies, settings and the audit trail.

Reading needs the admin role; publishing a policy and changing a setting also need a recent
step-up (services/stepup.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from confide_server import policy_notice
from confide_server.api.admin_deps import AdminActDep, AdminReadDep
from confide_server.api.convert import policy_out, terms_out
from confide_server.api.deps import ClockDep, DatabaseDep, RelayDep
from confide_server.api.types import PROBLEMS, UNIX_SECONDS_MAX, Model, PolicyOut, TermsOut
from confide_server.clock import hour_of
from confide_server.services import (
    audit,
    group_terms,
    org_settings,
    organisation,
    policies,
    stepup,
)

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=PROBLEMS)


class PolicyIn(Model):
    text: str = Field(min_length=1, max_length=100_000)
    # The language the text is written in (BCP 47: "en", "es", "es-MX").
    language: str = Field(default="en", min_length=2, max_length=35)


class PolicyVersionOut(BaseModel):
    version: int
    sha256: str
    published_day: int
    length: int
    active_consents: int
    languages: list[str]


class DiffOut(BaseModel):
    a: int
    b: int
    diff: str


class SettingOut(BaseModel):
    name: str
    value: int
    default: int
    minimum: int
    maximum: int
    meaning: str


class SettingIn(Model):
    value: int = Field(ge=0, le=10**12)


class AuditEventOut(BaseModel):
    id: int
    hour: int
    action: str
    actor: str
    subject: str | None
    detail: str | None
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    intact: bool
    events: int
    head: str | None
    broken_event_id: int | None
    detail: str | None


@router.post("/policies", status_code=201)
async def publish_policy(
    body: PolicyIn, admin: AdminActDep, db: DatabaseDep, clock: ClockDep, relay: RelayDep
) -> PolicyOut:
    async with db.write() as conn:
        policy = await organisation.publish_policy(
            conn, body.text, clock(), stepup.actor_of(admin), body.language
        )
    # Every open app hears of the new version at once (relay notice, over Redis too).
    await policy_notice.announce(db.engine, relay.fanout, policy)
    out = policy_out(policy)
    assert out is not None
    return out


@router.post("/group-terms", status_code=201)
async def publish_group_terms(
    body: PolicyIn, admin: AdminActDep, db: DatabaseDep, clock: ClockDep
) -> TermsOut:
    """A new version of the terms shown to clients joining a peer support group."""
    async with db.write() as conn:
        terms = await group_terms.publish(conn, body.text, clock(), stepup.actor_of(admin))
    out = terms_out(terms)
    assert out is not None
    return out


@router.get("/policies")
async def policy_history(admin: AdminReadDep, db: DatabaseDep) -> list[PolicyVersionOut]:
    """Every version, oldest first, with how many active conversations consent to each."""
    async with db.read() as conn:
        versions = await policies.history(conn)
        counts = await policies.consent_counts(conn)
    return [
        PolicyVersionOut(
            version=v.version,
            sha256=v.sha256,
            published_day=v.published_day,
            length=v.length,
            active_consents=counts.get(v.version, 0),
            languages=list(v.languages),
        )
        for v in versions
    ]


# A version is 1 or more and fits the column's integer (past it, the database driver fails).
PolicyVersion = Annotated[int, Path(ge=1, lt=2**31)]


@router.get("/policies/{version}")
async def policy_version(version: PolicyVersion, admin: AdminReadDep, db: DatabaseDep) -> PolicyOut:
    async with db.read() as conn:
        out = policy_out(await policies.show(conn, version))
    assert out is not None
    return out


@router.get("/policies/{a}/diff/{b}")
async def policy_diff(
    a: PolicyVersion, b: PolicyVersion, admin: AdminReadDep, db: DatabaseDep
) -> DiffOut:
    async with db.read() as conn:
        return DiffOut(a=a, b=b, diff=await policies.diff(conn, a, b))


@router.get("/settings")
async def settings_list(admin: AdminReadDep, db: DatabaseDep) -> list[SettingOut]:
    async with db.read() as conn:
        values = await org_settings.all_values(conn)
    return [
        SettingOut(
            name=s.name,
            value=values[s.name],
            default=s.default,
            minimum=s.minimum,
            maximum=s.maximum,
            meaning=s.meaning,
        )
        for s in org_settings.SETTINGS.values()
    ]


@router.put("/settings/{name}", status_code=204)
async def settings_set(
    name: str,
    body: SettingIn,
    admin: AdminActDep,
    relay: RelayDep,
    db: DatabaseDep,
    clock: ClockDep,
) -> None:
    async with db.write() as conn:
        await org_settings.change(conn, name, body.value, clock(), stepup.actor_of(admin))
    await relay.refresh_retention()


@router.get("/audit")
async def audit_events(
    admin: AdminReadDep,
    db: DatabaseDep,
    limit: int = Query(default=100, ge=1, le=1000),
    action: str | None = Query(default=None, max_length=64),
    since: int | None = Query(default=None, ge=0, le=UNIX_SECONDS_MAX, description="Unix seconds"),
    until: int | None = Query(default=None, ge=0, le=UNIX_SECONDS_MAX, description="Unix seconds"),
) -> list[AuditEventOut]:
    """Newest first; ``action`` is exact, or a prefix if it ends in a dot (``worker.``)."""
    async with db.read() as conn:
        since_hour = None if since is None else hour_of(since)
        events = await audit.latest(
            conn, limit, action=action, since_hour=since_hour, until_hour=until
        )
    return [AuditEventOut.model_validate(e.as_json()) for e in events]


@router.get("/audit/verify")
async def audit_verify(admin: AdminReadDep, db: DatabaseDep) -> VerifyOut:
    async with db.read() as conn:
        try:
            count, head = await audit.verify(conn)
        except audit.ChainBroken as exc:
            return VerifyOut(
                intact=False, events=0, head=None, broken_event_id=exc.event_id, detail=exc.detail
            )
    return VerifyOut(intact=True, events=count, head=head.hex(), broken_event_id=None, detail=None)
