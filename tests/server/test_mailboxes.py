"""HTTP send, fetch and acknowledge; capabilities; idempotency; limits."""

from __future__ import annotations

import httpx
from confide_server.relay import Relay
from fastapi import FastAPI

from .conftest import SettingsFactory, in_memory
from .helpers import FakeClock, b64d, b64e, capability, enrol, join, send


async def test_send_fetch_ack(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    cap = await capability(client, worker)
    for i in range(3):
        response = await send(client, worker.mailbox_id, cap, f"m{i}", f"body {i}".encode())
        assert response.status_code == 202
        assert response.json()["status"] == "accepted"
    fetched = await client.get(f"/v1/mailboxes/{worker.mailbox_id}/messages", headers=worker.auth)
    envelopes = fetched.json()["envelopes"]
    assert [b64d(e["body"]) for e in envelopes] == [b"body 0", b"body 1", b"body 2"]
    ids = [e["id"] for e in envelopes[:2]]
    acked = await client.post(
        f"/v1/mailboxes/{worker.mailbox_id}/acks", headers=worker.auth, json={"ids": ids}
    )
    assert acked.status_code == 204
    left = await client.get(f"/v1/mailboxes/{worker.mailbox_id}/messages", headers=worker.auth)
    assert [b64d(e["body"]) for e in left.json()["envelopes"]] == [b"body 2"]


async def test_retry_after_ack_is_not_delivered_again(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    worker = await enrol(client, relay)
    cap = await capability(client, worker)
    first = await send(client, worker.mailbox_id, cap, "same-id", b"once")
    assert first.json()["duplicate"] is False
    fetched = await client.get(f"/v1/mailboxes/{worker.mailbox_id}/messages", headers=worker.auth)
    ids = [e["id"] for e in fetched.json()["envelopes"]]
    await client.post(
        f"/v1/mailboxes/{worker.mailbox_id}/acks", headers=worker.auth, json={"ids": ids}
    )
    retry = await send(client, worker.mailbox_id, cap, "same-id", b"once")
    assert retry.status_code == 202
    assert retry.json()["duplicate"] is True
    again = await client.get(f"/v1/mailboxes/{worker.mailbox_id}/messages", headers=worker.auth)
    assert again.json()["envelopes"] == []


async def test_capability_rules(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    other = await enrol(client, relay)
    cap = await capability(client, worker)
    # A capability for one mailbox does not open another, and unknown mailboxes look the same.
    wrong = await send(client, other.mailbox_id, cap, "x", b"x")
    assert wrong.status_code == 403
    assert wrong.json()["type"].endswith("/capability-rejected")
    unknown = await send(client, b64e(bytes(16)), cap, "x", b"x")
    assert unknown.status_code == 403
    made = await client.post(f"/v1/mailboxes/{worker.mailbox_id}/capabilities", headers=worker.auth)
    cap_id, secret = made.json()["capability_id"], made.json()["capability"]
    assert (await send(client, worker.mailbox_id, secret, "a", b"a")).status_code == 202
    rotated = await client.post(
        f"/v1/mailboxes/{worker.mailbox_id}/capabilities/{cap_id}/rotate", headers=worker.auth
    )
    assert rotated.status_code == 201
    assert (await send(client, worker.mailbox_id, secret, "b", b"b")).status_code == 403
    new_secret = rotated.json()["capability"]
    assert (await send(client, worker.mailbox_id, new_secret, "c", b"c")).status_code == 202
    revoke = await client.delete(
        f"/v1/mailboxes/{worker.mailbox_id}/capabilities/{rotated.json()['capability_id']}",
        headers=worker.auth,
    )
    assert revoke.status_code == 204
    assert (await send(client, worker.mailbox_id, new_secret, "d", b"d")).status_code == 403
    listed = await client.get(
        f"/v1/mailboxes/{worker.mailbox_id}/capabilities", headers=worker.auth
    )
    assert {c["revoked"] for c in listed.json()} == {True, False}


async def test_foreign_mailbox(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    other = await enrol(client, relay)
    url = f"/v1/mailboxes/{other.mailbox_id}"
    assert (await client.get(f"{url}/messages", headers=worker.auth)).status_code == 403
    acks = await client.post(f"{url}/acks", headers=worker.auth, json={"ids": [b64e(bytes(16))]})
    assert acks.status_code == 403
    assert (await client.post(f"{url}/capabilities", headers=worker.auth)).status_code == 403
    bad = await client.get("/v1/mailboxes/not-an-id!/messages", headers=worker.auth)
    assert bad.status_code == 400


async def test_bad_send_bodies(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    cap = await capability(client, worker)
    url = f"/v1/mailboxes/{worker.mailbox_id}/messages"
    too_big = b"x" * (relay.settings.max_envelope_bytes + 1)
    assert (await send(client, worker.mailbox_id, cap, "big", too_big)).status_code == 413
    cases = [
        {"capability": cap, "client_message_id": "a", "body": "***"},
        {"capability": cap[:-2], "client_message_id": "a", "body": b64e(b"x")},
        {"capability": cap, "client_message_id": 5, "body": b64e(b"x")},
        {"capability": cap, "client_message_id": "", "body": b64e(b"x")},
        {"capability": cap, "client_message_id": "a", "body": ""},
        {"capability": cap, "client_message_id": "a", "body": b64e(b"x"), "ttl": -1},
        {"capability": cap, "client_message_id": "a", "body": b64e(b"x"), "extra": 1},
        [1, 2, 3],
    ]
    for case in cases:
        response = await client.post(url, json=case)
        assert response.status_code == 400, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    limit = max(relay.settings.max_http_body_bytes, relay.settings.max_frame_bytes)
    huge = b"{" + b" " * (limit + 10) + b"}"
    response = await client.post(url, content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_queue_depth_is_bounded(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    from confide_server.app import create_app

    app: FastAPI = create_app(make_settings(sqlite_url, max_queue_depth=3), clock=clock)
    async with in_memory(app) as client:
        worker = await enrol(client, app.state.relay)
        cap = await capability(client, worker)
        codes = [
            (await send(client, worker.mailbox_id, cap, f"q{i}", b"x")).status_code
            for i in range(5)
        ]
        assert codes == [202, 202, 202, 429, 429]
        full = await send(client, worker.mailbox_id, cap, "q9", b"x")
        assert full.json()["type"].endswith("/queue-full")


async def test_expired_envelopes_are_not_served(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    from confide_server.services.sweeper import sweep

    worker = await enrol(client, relay)
    client_device, out = await join(client, worker)
    url = f"/v1/mailboxes/{worker.mailbox_id}/messages"
    body = {"capability": out["worker_capability"], "client_message_id": "t", "ttl": 120}
    assert (await client.post(url, json={**body, "body": b64e(b"x")})).status_code == 202
    assert len((await client.get(url, headers=worker.auth)).json()["envelopes"]) == 1
    clock.now += 200
    await relay.refresh_retention()
    assert (await client.get(url, headers=worker.auth)).json()["envelopes"] == []
    counts = await sweep(relay.engine, clock(), relay.settings.prekey_max_age_seconds)
    assert counts["envelopes"] == 1
    # SQLite's writer logs idempotency keys in sent_log, PostgreSQL's in sent_messages.
    assert counts["idempotency_keys"] == 1
    assert client_device.mailbox_id


async def test_two_senders_cannot_collide_on_a_message_id(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    worker = await enrol(client, relay)
    first, second = await capability(client, worker), await capability(client, worker)
    one = await send(client, worker.mailbox_id, first, "1", b"from the first")
    two = await send(client, worker.mailbox_id, second, "1", b"from the second")
    assert one.json()["duplicate"] is False and two.json()["duplicate"] is False
    fetched = await client.get(f"/v1/mailboxes/{worker.mailbox_id}/messages", headers=worker.auth)
    assert len(fetched.json()["envelopes"]) == 2
