"""Group terms: published by an admin beside the policy, read by anyone, versioned."""

from __future__ import annotations

import hashlib

import httpx
from confide_server.relay import Relay

from .helpers import enrol, setup_org, step_up

TERMS = "Group terms v1: every member reads what you write in the group."


async def test_group_terms_are_published_versioned_and_public(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    assert (await client.get("/v1/organisation")).json()["group_terms"] is None
    admin = await enrol(client, relay, role="admin")
    worker = await enrol(client, relay)
    # Publishing is an admin's change: a worker is refused, and so is an admin without step-up.
    refused = await client.post("/v1/admin/group-terms", headers=worker.auth, json={"text": TERMS})
    assert refused.status_code == 403
    unstepped = await client.post("/v1/admin/group-terms", headers=admin.auth, json={"text": TERMS})
    assert unstepped.status_code == 403
    assert unstepped.json()["type"].endswith("/step-up-required")
    await step_up(client, admin)
    for bad in ({"text": ""}, {"text": 7}, {}):
        answer = await client.post("/v1/admin/group-terms", headers=admin.auth, json=bad)
        assert answer.status_code == 400, bad
        assert answer.headers["content-type"] == "application/problem+json"
    first = await client.post("/v1/admin/group-terms", headers=admin.auth, json={"text": TERMS})
    assert first.status_code == 201
    assert first.json() == {
        "version": 1,
        "text": TERMS,
        "sha256": hashlib.sha256(TERMS.encode()).hexdigest(),
    }
    second = await client.post(
        "/v1/admin/group-terms", headers=admin.auth, json={"text": TERMS + " And v2."}
    )
    assert second.json()["version"] == 2
    current = (await client.get("/v1/organisation")).json()
    assert current["group_terms"]["version"] == 2
    assert current["policy"]["version"] == 1, "the policy is untouched"
    assert (await client.get("/v1/group-terms/1")).json()["text"] == TERMS
    assert (await client.get("/v1/group-terms/3")).status_code == 404
    for bad_version in ("0", "x", str(2**31)):
        answer = await client.get(f"/v1/group-terms/{bad_version}")
        assert answer.status_code == 400, bad_version
    audit = await client.get("/v1/admin/audit?action=group-terms.publish", headers=admin.auth)
    assert len(audit.json()) == 2
