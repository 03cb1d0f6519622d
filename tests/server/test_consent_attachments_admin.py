"""Consent receipts, attachment blobs, the organisation and admin actions, health and docs."""

from __future__ import annotations

import httpx
from confide_server.relay import Relay
from fastapi import FastAPI

from .conftest import SettingsFactory, in_memory
from .helpers import (
    FakeClock,
    b64d,
    b64e,
    consent_body,
    enrol,
    join,
    login,
    receipt_bytes,
    revocation_bytes,
    setup_org,
    step_up,
)


async def test_consent_receipt_round_trip(client: httpx.AsyncClient, relay: Relay) -> None:
    await setup_org(relay)
    worker = await enrol(client, relay)
    person, _ = await join(client, worker)
    receipt = receipt_bytes(person, worker)
    body = consent_body(person, worker, receipt)
    assert (await client.post("/v1/consent", headers=person.auth, json=body)).status_code == 201
    forged = dict(body, signature=b64e(worker.sign(receipt)))
    assert (await client.post("/v1/consent", headers=person.auth, json=forged)).status_code == 400
    # Workers do not submit receipts, and receipts go to worker devices only.
    assert (await client.post("/v1/consent", headers=worker.auth, json=body)).status_code == 403
    to_client = dict(body, worker_device_id=person.device_id)
    assert (
        await client.post("/v1/consent", headers=person.auth, json=to_client)
    ).status_code == 404
    revoke = consent_body(person, worker, revocation_bytes(person, receipt), kind="revocation")
    assert (await client.post("/v1/consent", headers=person.auth, json=revoke)).status_code == 201
    listed = (await client.get("/v1/consent", headers=worker.auth)).json()["records"]
    assert sorted(r["kind"] for r in listed) == ["receipt", "revocation"]
    got = next(r for r in listed if r["kind"] == "receipt")
    assert b64d(got["receipt"]) == receipt
    assert got["client_device_id"] == person.device_id
    assert (await client.get("/v1/consent", headers=person.auth)).status_code == 403


async def test_attachments(client: httpx.AsyncClient, relay: Relay, clock: FakeClock) -> None:
    worker = await enrol(client, relay)
    blob = bytes(range(256)) * 100
    up = await client.post("/v1/attachments", headers=worker.auth, content=blob)
    assert up.status_code == 201
    url = f"/v1/attachments/{up.json()['attachment_id']}"
    down = await client.get(url, headers=worker.auth)
    assert down.content == blob
    assert (await client.get(url)).status_code == 401
    assert (await client.delete(url, headers=worker.auth)).status_code == 204
    assert (await client.get(url, headers=worker.auth)).status_code == 404
    up = await client.post("/v1/attachments", headers=worker.auth, content=b"x")
    clock.now += relay.settings.attachment_ttl_seconds + 1
    await login(client, worker)  # the old token has expired by now too
    expired = await client.get(f"/v1/attachments/{up.json()['attachment_id']}", headers=worker.auth)
    assert expired.status_code == 404
    assert (await client.post("/v1/attachments", headers=worker.auth)).status_code == 400


async def test_attachment_size_limit(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    from confide_server.app import create_app

    app: FastAPI = create_app(make_settings(sqlite_url, max_attachment_bytes=2048), clock=clock)
    async with in_memory(app) as client:
        worker = await enrol(client, app.state.relay)
        ok = await client.post("/v1/attachments", headers=worker.auth, content=b"x" * 2048)
        assert ok.status_code == 201
        big = await client.post("/v1/attachments", headers=worker.auth, content=b"x" * 2049)
        assert big.status_code == 413
        assert big.headers["content-type"] == "application/problem+json"


async def test_admin_actions_and_audit(client: httpx.AsyncClient, relay: Relay) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    worker = await enrol(client, relay)
    unconfirmed = await client.post("/v1/admin/enrolment-codes", headers=admin.auth, json={})
    assert unconfirmed.status_code == 403
    assert unconfirmed.json()["type"].endswith("/step-up-required")
    await step_up(client, admin)
    made = await client.post(
        "/v1/admin/enrolment-codes", headers=admin.auth, json={"role": "supervisor"}
    )
    assert made.status_code == 201 and len(b64d(made.json()["enrolment_code"])) == 32
    denied = await client.post("/v1/admin/enrolment-codes", headers=worker.auth, json={})
    assert denied.status_code == 403
    policy = await client.post("/v1/admin/policies", headers=admin.auth, json={"text": "v2 text"})
    assert policy.json()["version"] == 2
    org = (await client.get("/v1/organisation")).json()
    assert org["policy"]["version"] == 2 and org["name"] == "Test Peer Org"
    events = (await client.get("/v1/admin/audit", headers=admin.auth)).json()
    actions = {e["action"] for e in events}
    assert {"organisation.create", "policy.publish", "worker.enrol", "admin.step-up"} <= actions
    assert "admin.denied" in actions  # the plain worker's attempt
    assert all(e["hour"] % 3600 == 0 for e in events)
    workers = (await client.get("/v1/workers", headers=worker.auth)).json()
    assert {w["role"] for w in workers} == {"admin", "worker"}
    person, _ = await join(client, worker)
    assert (await client.get("/v1/workers", headers=person.auth)).status_code == 403
    me = (await client.get("/v1/devices/me", headers=worker.auth)).json()
    cut = await client.post(f"/v1/admin/workers/{me['worker_id']}/disable", headers=admin.auth)
    assert cut.status_code == 204
    assert (await client.get("/v1/devices/me", headers=worker.auth)).status_code == 401
    events = (await client.get("/v1/admin/audit", headers=admin.auth)).json()
    assert events[0]["action"] == "worker.disable"
    # Enrolment codes used and workers' devices registered are audited; a client's device
    # joining is not: nothing about a client enters the trail.
    assert {"enrolment.use", "device.register"} <= {e["action"] for e in events}
    assert all(person.device_id not in (e["subject"], e["actor"]) for e in events)


async def test_health_metrics_docs_and_headers(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.json() == {"status": "ok"}
    assert "wasm-unsafe-eval" in health.headers["content-security-policy"]
    assert health.headers["referrer-policy"] == "no-referrer"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": True,
        "storage": True,
    }
    metrics = (await client.get("/metrics")).text
    assert "confide_envelopes_accepted_total" in metrics
    docs = await client.get("/docs")
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "<script>" not in docs.text
    assert (await client.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Confide relay"
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405


async def test_turn_credentials_follow_the_coturn_scheme(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    import base64
    import hashlib
    import hmac

    worker = await enrol(client, relay)
    assert (await client.get("/v1/turn")).status_code == 401
    got = (await client.get("/v1/turn", headers=worker.auth)).json()
    expiry, _, _ = got["username"].partition(":")
    assert int(expiry) == int(clock()) + relay.settings.turn_ttl_seconds
    secret = relay.settings.turn_secret.encode()
    mac = hmac.new(secret, got["username"].encode(), hashlib.sha1).digest()
    assert got["credential"] == base64.b64encode(mac).decode()


async def test_consultation_with_a_supervisor(client: httpx.AsyncClient, relay: Relay) -> None:
    from .helpers import send

    worker = await enrol(client, relay)
    supervisor = await enrol(client, relay, role="supervisor")
    person, _ = await join(client, worker)
    listed = (await client.get("/v1/workers", headers=worker.auth)).json()
    target = next(w["device_id"] for w in listed if w["role"] == "supervisor")
    made = await client.post(f"/v1/workers/{target}/capabilities", headers=worker.auth)
    assert made.status_code == 201
    grant = made.json()
    assert grant["mailbox_id"] == supervisor.mailbox_id
    sent = await send(client, grant["mailbox_id"], grant["capability"], "consult-1", b"sealed")
    assert sent.status_code == 202
    # Clients cannot ask for capabilities to staff mailboxes, nor can anyone for a client's.
    url = f"/v1/workers/{target}/capabilities"
    assert (await client.post(url, headers=person.auth)).status_code == 403
    to_client = await client.post(
        f"/v1/workers/{person.device_id}/capabilities", headers=worker.auth
    )
    assert to_client.status_code == 404


async def test_invite_names_its_capability_so_it_can_be_revoked(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    from .helpers import Device, challenge, send

    worker = await enrol(client, relay)
    made = (await client.post("/v1/invites", headers=worker.auth)).json()
    body = Device().registration(await challenge(client))
    body["token"] = made["token"]
    joined = (await client.post("/v1/invites/redeem", json=body)).json()
    revoke = await client.delete(
        f"/v1/mailboxes/{worker.mailbox_id}/capabilities/{made['capability_id']}",
        headers=worker.auth,
    )
    assert revoke.status_code == 204
    blocked = await send(client, worker.mailbox_id, joined["worker_capability"], "after", b"x")
    assert blocked.status_code == 403
