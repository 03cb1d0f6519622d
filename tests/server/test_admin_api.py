"""The admin API beyond workers and devices: step-up's limits, settings, policies with their
consent counts, and the audit trail's filters and verification."""

from __future__ import annotations

import httpx
from confide_server.clock import day_of
from confide_server.relay import Relay
from confide_server.services import sweeper
from confide_server.store.schema import consent_receipts
from sqlalchemy import select, update

from .helpers import (
    FakeClock,
    b64d,
    b64e,
    challenge,
    consent_body,
    enrol,
    join,
    org_with_setting,
    receipt_bytes,
    revocation_bytes,
    setup_org,
    step_up,
)


async def test_step_up_is_checked_audited_and_expires(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    c = await challenge(client)
    forged = await client.post(
        "/v1/admin/step-up",
        headers=admin.auth,
        json={"challenge": c, "signature": b64e(admin.sign(b"Confide auth v1\x00" + b64d(c)))},
    )
    assert forged.status_code == 401
    await step_up(client, admin)
    assert (
        await client.put(
            "/v1/admin/settings/idle_lock_seconds", headers=admin.auth, json={"value": 120}
        )
    ).status_code == 204
    clock.now += relay.settings.step_up_seconds + 1
    stale = await client.put(
        "/v1/admin/settings/idle_lock_seconds", headers=admin.auth, json={"value": 180}
    )
    assert stale.status_code == 403 and stale.json()["type"].endswith("/step-up-required")
    events = (await client.get("/v1/admin/audit?action=admin.", headers=admin.auth)).json()
    # A change refused for a stale confirmation is a failed admin attempt too (issue 15).
    assert [(e["action"], e["detail"]) for e in reversed(events)] == [
        ("admin.denied", "step-up"),
        ("admin.step-up", None),
        ("admin.denied", "step-up-required"),
    ]


async def test_settings_bounds_and_the_public_view(client: httpx.AsyncClient, relay: Relay) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    listed = {
        s["name"]: s for s in (await client.get("/v1/admin/settings", headers=admin.auth)).json()
    }
    assert listed["audit_retention_seconds"]["value"] == 6 * 365 * 86400
    for name, value in (
        ("idle_lock_seconds", 1),
        ("nonsense", 60),
        ("disappearing_min_seconds", 365 * 86400),
    ):
        bad = await client.put(
            f"/v1/admin/settings/{name}", headers=admin.auth, json={"value": value}
        )
        assert bad.status_code == 400, name
    ok = await client.put(
        "/v1/admin/settings/max_retention_seconds", headers=admin.auth, json={"value": 86400}
    )
    assert ok.status_code == 204
    org = (await client.get("/v1/organisation")).json()
    assert org["max_retention_seconds"] == 86400
    assert org["settings"]["max_retention_seconds"] == 86400
    assert org["settings"]["invite_ttl_seconds"] == listed["invite_ttl_seconds"]["value"]


async def test_policies_history_diff_and_consent_counts(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay, policy="Line one.\nLine two.\n")
    admin = await enrol(client, relay, role="admin")
    worker = await enrol(client, relay)
    await step_up(client, admin)
    v2 = await client.post(
        "/v1/admin/policies", headers=admin.auth, json={"text": "Line one.\nLine 2.\n"}
    )
    assert v2.status_code == 201
    people = [await join(client, worker) for _ in range(3)]
    texts = {1: "Line one.\nLine two.\n", 2: "Line one.\nLine 2.\n"}
    for (person, _), version in zip(people, (1, 2, 2), strict=True):
        body = consent_body(person, worker, receipt_bytes(person, worker, version, texts[version]))
        assert (await client.post("/v1/consent", headers=person.auth, json=body)).status_code == 201
    # The third person withdraws: their conversation no longer counts.
    third, _ = people[2]
    revocation = revocation_bytes(third, receipt_bytes(third, worker, 2, texts[2]))
    withdraw = consent_body(third, worker, revocation, kind="revocation")
    assert (await client.post("/v1/consent", headers=third.auth, json=withdraw)).status_code == 201
    history = (await client.get("/v1/admin/policies", headers=admin.auth)).json()
    assert [(p["version"], p["active_consents"]) for p in history] == [(1, 1), (2, 1)]
    diff = (await client.get("/v1/admin/policies/1/diff/2", headers=admin.auth)).json()["diff"]
    assert "-Line two." in diff and "+Line 2." in diff
    assert (await client.get("/v1/admin/policies/9", headers=admin.auth)).status_code == 404
    assert (await client.get("/v1/admin/policies/1", headers=worker.auth)).status_code == 403


async def test_audit_filters_and_verify(client: httpx.AsyncClient, relay: Relay) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    everything = (await client.get("/v1/admin/audit", headers=admin.auth)).json()
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    exact = (await client.get("/v1/admin/audit?action=policy.publish", headers=admin.auth)).json()
    assert {e["action"] for e in exact} == {"policy.publish"}
    hour = everything[0]["hour"]
    later = (await client.get(f"/v1/admin/audit?since={hour + 3600}", headers=admin.auth)).json()
    assert later == []
    verified = (await client.get("/v1/admin/audit/verify", headers=admin.auth)).json()
    assert verified["intact"] is True and verified["events"] == len(everything)
    assert verified["head"] == everything[0]["hash"]
    bad = await client.get("/v1/admin/audit?limit=0", headers=admin.auth)
    assert bad.status_code == 400


async def test_the_sweeper_applies_consent_retention(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    await setup_org(relay)
    worker = await enrol(client, relay)
    person, _ = await join(client, worker)
    for purpose in ("first", "second"):
        body = consent_body(person, worker, receipt_bytes(person, worker, purpose=purpose))
        assert (await client.post("/v1/consent", headers=person.auth, json=body)).status_code == 201
    async with relay.engine.begin() as conn:
        # One record is seven years old: past the default six years of retention.
        oldest = await conn.scalar(select(consent_receipts.c.id).limit(1))
        await conn.execute(
            update(consent_receipts)
            .where(consent_receipts.c.id == oldest)
            .values(created_day=day_of(clock.now - 7 * 365 * 86400))
        )
    counts = await sweeper.sweep(relay.engine, clock.now, relay.settings.prekey_max_age_seconds)
    assert counts["consent_receipts"] == 1
    listed = (await client.get("/v1/consent", headers=worker.auth)).json()["records"]
    assert len(listed) == 1 and listed[0]["receipt_id"] != b64e(oldest)


async def test_numbers_beyond_the_database_integer_are_refused_not_500(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    """Found by the schemathesis check: a version or time past 64 bits reached the database."""
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    huge = 2**80
    for path in (
        f"/v1/admin/policies/{huge}",
        f"/v1/admin/policies/{huge}/diff/1",
        f"/v1/admin/policies/1/diff/{huge}",
        f"/v1/admin/audit?since={huge}",
        f"/v1/admin/audit?until={huge}",
        "/v1/admin/policies/0",
        "/v1/admin/policies/-1",
    ):
        answer = await client.get(path, headers=admin.auth)
        assert answer.status_code == 400, (path, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_the_organisations_invite_lifetime_caps_every_invite(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    admin = await org_with_setting(client, relay, "invite_ttl_seconds", 3600)
    for body in (None, {"ttl": 30 * 86_400}):
        made = await client.post("/v1/invites", headers=admin.auth, json=body)
        assert made.status_code == 201
        assert clock.now + 3600 <= made.json()["expires_at"] < clock.now + 3600 + 60
    shorter = await client.post("/v1/invites", headers=admin.auth, json={"ttl": 600})
    assert shorter.json()["expires_at"] < clock.now + 600 + 60
