"""Invites: single use, expiring, hashed; redemption hands over bundle, capability and policy."""

from __future__ import annotations

import hashlib

import httpx
from confide_server.relay import Relay
from confide_server.store.schema import invites
from sqlalchemy import select

from .helpers import Device, FakeClock, b64d, challenge, enrol, invite, join, send, setup_org


async def test_redeem_returns_what_the_client_needs(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    policy = "Limits of confidentiality: risk of harm to self or others."
    await setup_org(relay, policy)
    worker = await enrol(client, relay)
    _client_device, out = await join(client, worker)
    assert out["worker_mailbox_id"] == worker.mailbox_id
    assert out["worker_bundle"]["device_id"] == worker.device_id
    assert b64d(out["worker_bundle"]["identity_key"]) == worker.identity_key
    assert out["worker_bundle"]["one_time_prekey"] is not None
    assert out["policy"] == {
        "version": 1,
        "text": policy,
        "sha256": hashlib.sha256(policy.encode()).hexdigest(),
        # The language of the version's first text, and none translated yet.
        "language": "en",
        "translations": [],
    }
    # The capability from the invite lets the client write to the worker's mailbox.
    response = await send(client, worker.mailbox_id, out["worker_capability"], "m1", b"hello")
    assert response.status_code == 202, response.text


async def test_invite_link_keeps_token_in_fragment(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    response = await client.post("/v1/invites", headers=worker.auth, json={"ttl": 600})
    body = response.json()
    assert body["url"].endswith("/join#" + body["token"])
    async with relay.engine.connect() as conn:
        stored = (await conn.execute(select(invites.c.token_hash))).scalars().all()
    assert stored == [hashlib.sha256(b64d(body["token"])).digest()]


async def test_replayed_invite_is_refused(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    token = await invite(client, worker)
    for expected in (201, 410):
        body = Device().registration(await challenge(client))
        body["token"] = token
        response = await client.post("/v1/invites/redeem", json=body)
        assert response.status_code == expected
    assert response.json()["type"].endswith("/already-used")


async def test_expired_invite_is_refused(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    worker = await enrol(client, relay)
    response = await client.post("/v1/invites", headers=worker.auth, json={"ttl": 120})
    token = response.json()["token"]
    clock.now += 121
    body = Device().registration(await challenge(client))
    body["token"] = token
    response = await client.post("/v1/invites/redeem", json=body)
    assert response.status_code == 410
    assert response.json()["type"].endswith("/expired")


async def test_only_workers_create_invites(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    client_device, _ = await join(client, worker)
    response = await client.post("/v1/invites", headers=client_device.auth)
    assert response.status_code == 403


async def test_expired_challenge(client: httpx.AsyncClient, relay: Relay, clock: FakeClock) -> None:
    worker = await enrol(client, relay)
    body = Device().registration(await challenge(client))
    body["token"] = await invite(client, worker)
    clock.now += 61
    response = await client.post("/v1/invites/redeem", json=body)
    assert response.status_code == 410
    assert "challenge" in response.json()["detail"]


async def test_a_worker_cancels_its_pending_invite(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    other = await enrol(client, relay)
    made = (await client.post("/v1/invites", headers=worker.auth)).json()
    path = f"/v1/invites/{made['capability_id']}"

    # Another worker's device cannot cancel it, and a malformed id is refused.
    refused = await client.delete(path, headers=other.auth)
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.delete("/v1/invites/not-an-id", headers=worker.auth)).status_code == 400
    assert (await client.delete(path)).status_code == 401

    assert (await client.delete(path, headers=worker.auth)).status_code == 204
    # Cancelled is gone: the link no longer redeems, its capability no longer writes.
    body = Device().registration(await challenge(client))
    body["token"] = made["token"]
    redeemed = await client.post("/v1/invites/redeem", json=body)
    assert redeemed.status_code == 404
    assert redeemed.json()["type"].endswith("/not-found")
    secret = hashlib.sha256(b"Confide invite capability v1\x00" + b64d(made["token"])).digest()
    from confide_server.encoding import b64e

    sent = await send(client, worker.mailbox_id, b64e(secret), "after-cancel", b"x")
    assert sent.status_code == 403
    assert (await client.delete(path, headers=worker.auth)).status_code == 404
    async with relay.engine.connect() as conn:
        assert (await conn.execute(select(invites.c.token_hash))).all() == []


async def test_a_redeemed_invite_cannot_be_cancelled(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    worker = await enrol(client, relay)
    made = (await client.post("/v1/invites", headers=worker.auth)).json()
    body = Device().registration(await challenge(client))
    body["token"] = made["token"]
    assert (await client.post("/v1/invites/redeem", json=body)).status_code == 201
    refused = await client.delete(f"/v1/invites/{made['capability_id']}", headers=worker.auth)
    assert refused.status_code == 410
    assert refused.json()["type"].endswith("/already-used")
