"""Web Push: an envelope queued for an offline worker device wakes it through its push service.

A push service stand-in runs on loopback (push_endpoint.py); the relay's request to it is
checked as a push service would: a VAPID signature (RFC 8292) that verifies with the public
key the relay serves, for this audience, a TTL above zero, and an empty body. Then the rest:
the rate limit per device, a dead subscription (410) forgotten, a push service that never
answers blocking neither sends nor other devices' pushes, the endpoint checks, revocation
and expiry deleting the row, and no endpoint in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confide_server.app import create_app
from confide_server.clock import expiry
from confide_server.errors import InvalidInput
from confide_server.push.endpoint import MAX_ENDPOINT, check_endpoint
from confide_server.push.sender import MAX_PENDING, Pusher
from confide_server.push.vapid import VapidKey
from confide_server.relay import Relay
from confide_server.services.sweeper import sweep
from confide_server.settings import PUSH_SERVICE_HOSTS, Settings
from confide_server.store.batch import Delivery
from confide_server.store.schema import push_subscriptions, vapid_key
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from py_vapid import Vapid02
from sqlalchemy import select

from .conftest import SettingsFactory
from .helpers import FakeClock, b64d, capability, enrol, join, send, setup_org, step_up
from .push_endpoint import PushEndpoint, PushRequest


@pytest.fixture
async def endpoint() -> AsyncIterator[PushEndpoint]:
    async with PushEndpoint() as server:
        yield server


def push_settings(make_settings: SettingsFactory, url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"push_allow_loopback": True, "push_grace_seconds": 0}
    return make_settings(url, **{**values, **overrides})


@pytest.fixture
async def push_app(
    db_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> AsyncIterator[FastAPI]:
    app = create_app(push_settings(make_settings, db_url, push_concurrency=1), clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(push_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=push_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as c:
        yield c


@pytest.fixture
def relay(push_app: FastAPI) -> Relay:
    r: Relay = push_app.state.relay
    return r


async def _subscribed_worker(
    client: httpx.AsyncClient, relay: Relay, endpoint_url: str
) -> tuple[Any, str]:
    worker = await enrol(client, relay)
    answer = await client.put(
        "/v1/push/subscription", headers=worker.auth, json={"endpoint": endpoint_url}
    )
    assert answer.status_code == 200, answer.text
    return worker, await capability(client, worker)


def _claims(authorization: str) -> dict[str, Any]:
    token = authorization.split(" ", 1)[1].split(",")[0].removeprefix("t=")
    payload: dict[str, Any] = json.loads(b64d(token.split(".")[1]))
    return payload


def _check_push(request: PushRequest, public_key: str, origin: str, now: float) -> None:
    assert request.method == "POST"
    assert request.body == b""
    assert request.headers["content-length"] == "0"
    assert "content-encoding" not in request.headers
    assert int(request.headers["ttl"]) > 0
    authorization = request.headers["authorization"]
    assert authorization.startswith("vapid t=")
    assert f",k={public_key}" in authorization
    assert Vapid02.verify(authorization) is True
    claims = _claims(authorization)
    assert claims["aud"] == origin
    assert now < claims["exp"] <= now + 24 * 3600


async def test_an_envelope_for_an_offline_worker_sends_an_empty_signed_push(
    client: httpx.AsyncClient, relay: Relay, endpoint: PushEndpoint, clock: FakeClock
) -> None:
    worker, cap = await _subscribed_worker(client, relay, endpoint.url("/push/one"))
    key = (await client.get("/v1/push/key", headers=worker.auth)).json()["public_key"]
    assert len(b64d(key)) == 65 and b64d(key)[0] == 4  # an uncompressed P-256 point
    assert (await send(client, worker.mailbox_id, cap, "m1", b"sealed")).status_code == 202
    [request] = await endpoint.wait_for(1)
    assert request.path == "/push/one"
    _check_push(request, key, f"http://127.0.0.1:{endpoint.port}", clock())
    # A wrong key does not verify it: the check above can fail.
    other = VapidKey.generate().public_key
    forged = request.headers["authorization"].replace(f"k={key}", f"k={other}")
    assert Vapid02.verify(forged) is False


async def test_one_push_per_device_per_interval(
    client: httpx.AsyncClient, relay: Relay, endpoint: PushEndpoint
) -> None:
    first, cap1 = await _subscribed_worker(client, relay, endpoint.url("/push/first"))
    second, cap2 = await _subscribed_worker(client, relay, endpoint.url("/push/second"))
    for n in range(3):
        assert (await send(client, first.mailbox_id, cap1, f"a{n}", b"x")).status_code == 202
    assert (await send(client, second.mailbox_id, cap2, "b0", b"x")).status_code == 202
    # One slot (push_concurrency=1): pushes leave in the order their envelopes were queued,
    # so by the time the second device's push arrives, any further push to the first has.
    await endpoint.wait_for(1, "/push/second")
    assert [r.path for r in endpoint.requests] == ["/push/first", "/push/second"]


class Gate:
    """The push task's pause, held until the test lets it go."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def __call__(self, _seconds: float) -> None:
        self.entered.set()
        await self.open.wait()
        self.open.clear()

    async def wait_entered(self) -> None:
        async with asyncio.timeout(10):
            await self.entered.wait()
        self.entered.clear()


async def test_an_envelope_acknowledged_within_the_grace_wakes_nobody(
    sqlite_url: str, make_settings: SettingsFactory, endpoint: PushEndpoint
) -> None:
    settings = push_settings(make_settings, sqlite_url, push_grace_seconds=2, push_concurrency=1)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        relay: Relay = app.state.relay
        assert relay.pusher is not None
        gate = Gate()
        relay.pusher._pause = gate
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            # Read elsewhere (as by a socket on another relay process) before the grace ends.
            reader, cap1 = await _subscribed_worker(client, relay, endpoint.url("/push/read"))
            away, cap2 = await _subscribed_worker(client, relay, endpoint.url("/push/away"))
            sent = await send(client, reader.mailbox_id, cap1, "r", b"x")
            await gate.wait_entered()
            acked = await client.post(
                f"/v1/mailboxes/{reader.mailbox_id}/acks",
                headers=reader.auth,
                json={"ids": [sent.json()["id"]]},
            )
            assert acked.status_code == 204
            gate.open.set()
            assert (await send(client, away.mailbox_id, cap2, "a", b"x")).status_code == 202
            await gate.wait_entered()
            gate.open.set()
            await endpoint.wait_for(1, "/push/away")
            assert [r.path for r in endpoint.requests] == ["/push/away"]


async def test_a_gone_subscription_is_deleted(
    client: httpx.AsyncClient, relay: Relay, endpoint: PushEndpoint
) -> None:
    endpoint.status["/push/gone"] = 410
    worker, cap = await _subscribed_worker(client, relay, endpoint.url("/push/gone"))
    assert (await send(client, worker.mailbox_id, cap, "m1", b"x")).status_code == 202
    await endpoint.wait_for(1)
    async with asyncio.timeout(10):
        while await _subscription(relay, worker.device_id) is not None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert relay.metrics.push.labels("gone").value == 1


async def _subscription(relay: Relay, device_id: str) -> str | None:
    async with relay.engine.connect() as conn:
        value = await conn.scalar(
            select(push_subscriptions.c.endpoint).where(
                push_subscriptions.c.device_id == b64d(device_id)
            )
        )
    return None if value is None else str(value)


async def test_a_push_service_that_never_answers_blocks_neither_sends_nor_other_pushes(
    sqlite_url: str, make_settings: SettingsFactory, endpoint: PushEndpoint
) -> None:
    app = create_app(push_settings(make_settings, sqlite_url, push_concurrency=2))
    async with app.router.lifespan_context(app):
        relay: Relay = app.state.relay
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            endpoint.hold.add("/push/stuck")
            stuck, cap1 = await _subscribed_worker(client, relay, endpoint.url("/push/stuck"))
            fine, cap2 = await _subscribed_worker(client, relay, endpoint.url("/push/fine"))
            assert (await send(client, stuck.mailbox_id, cap1, "s", b"x")).status_code == 202
            await endpoint.wait_for(1, "/push/stuck")
            # The stuck push service holds its request; the relay goes on accepting sends.
            for n in range(5):
                sent = await send(client, stuck.mailbox_id, cap1, f"more{n}", b"x")
                assert sent.status_code == 202
            assert (await send(client, fine.mailbox_id, cap2, "f", b"x")).status_code == 202
            await endpoint.wait_for(1, "/push/fine")
            pending = await client.get(
                f"/v1/mailboxes/{stuck.mailbox_id}/messages", headers=stuck.auth
            )
            assert pending.status_code == 200 and len(pending.json()["envelopes"]) == 6


async def test_the_endpoint_never_reaches_the_logs(
    client: httpx.AsyncClient,
    relay: Relay,
    endpoint: PushEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything at INFO (where httpx names each URL it requests), the relay's own at DEBUG.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="confide_server")
    endpoint.status["/push/secret-device-path"] = 500
    worker, cap = await _subscribed_worker(client, relay, endpoint.url("/push/secret-device-path"))
    assert (await send(client, worker.mailbox_id, cap, "m", b"x")).status_code == 202
    await endpoint.wait_for(1)
    async with asyncio.timeout(10):
        while relay.metrics.push.labels("failed").value == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert "push service answered 500" in caplog.text  # the failure was logged...
    assert "secret-device-path" not in caplog.text  # ...without its endpoint
    assert str(endpoint.port) not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com.evil.example/x",
        "https://evil.example/x",
        "https://8.8.8.8/x",
        "https://[2001:db8::1]/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://user:pw@fcm.googleapis.com/x",
        "https://fcm.googleapis.com/x#part",
        "https://fcm.googleapis.com:99999/x",
        "https://fcm.googleapis.com/x y",
        "https://fcm.googleapis.com/é",
        "https://fcm.googleapis.com/" + "a" * MAX_ENDPOINT,
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
    ],
)
def test_endpoints_the_relay_refuses(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_endpoint(url, PUSH_SERVICE_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGuQ",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAA",
    ],
)
def test_endpoints_of_push_services_are_accepted(url: str) -> None:
    assert check_endpoint(url, PUSH_SERVICE_HOSTS) == url


def test_loopback_only_with_the_test_setting() -> None:
    assert check_endpoint("http://127.0.0.1:9/x", PUSH_SERVICE_HOSTS, allow_loopback=True)
    assert check_endpoint("http://[::1]:9/x", PUSH_SERVICE_HOSTS, allow_loopback=True)
    with pytest.raises(InvalidInput, match="https"):
        check_endpoint("http://127.0.0.1:9/x", PUSH_SERVICE_HOSTS)
    with pytest.raises(ValueError, match="PUSH_ALLOW_LOOPBACK"):
        Settings(env="production", turn_secret="x" * 32, push_allow_loopback=True)


async def test_subscriptions_are_checked_and_for_workers_only(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    worker = await enrol(client, relay)
    bad = await client.put(
        "/v1/push/subscription", headers=worker.auth, json={"endpoint": "https://evil.example/x"}
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    extra = await client.put(
        "/v1/push/subscription",
        headers=worker.auth,
        json={"endpoint": "https://fcm.googleapis.com/x", "keys": {"auth": "x"}},
    )
    assert extra.status_code == 400  # the relay keeps no keys, and takes none
    wrong_type = await client.put(
        "/v1/push/subscription", headers=worker.auth, json={"endpoint": 7}
    )
    assert wrong_type.status_code == 400
    no_token = await client.get("/v1/push/key")
    assert no_token.status_code == 401
    client_device, _ = await join(client, worker)
    for answer in (
        await client.get("/v1/push/key", headers=client_device.auth),
        await client.put(
            "/v1/push/subscription",
            headers=client_device.auth,
            json={"endpoint": "https://fcm.googleapis.com/x"},
        ),
    ):
        assert answer.status_code == 403


async def test_revoking_the_device_or_disabling_its_worker_deletes_its_subscription(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    worker = await enrol(client, relay)
    url = "https://fcm.googleapis.com/fcm/send/one"
    await client.put("/v1/push/subscription", headers=worker.auth, json={"endpoint": url})
    assert await _subscription(relay, worker.device_id) == url
    records = (await client.get("/v1/devices/me/records", headers=worker.auth)).json()
    [row] = records["push_subscriptions"]
    assert row["push_service"] == "fcm.googleapis.com" and "one" not in json.dumps(row)
    revoked = await client.post(f"/v1/admin/devices/{worker.device_id}/revoke", headers=admin.auth)
    assert revoked.status_code == 204
    assert await _subscription(relay, worker.device_id) is None
    # Disabling a worker cuts off each of its devices the same way.
    other = await enrol(client, relay)
    await client.put("/v1/push/subscription", headers=other.auth, json={"endpoint": url})
    me = (await client.get("/v1/devices/me", headers=other.auth)).json()
    disabled = await client.post(f"/v1/admin/workers/{me['worker_id']}/disable", headers=admin.auth)
    assert disabled.status_code == 204
    assert await _subscription(relay, other.device_id) is None


async def test_the_app_can_unsubscribe_and_unrenewed_subscriptions_expire(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    worker = await enrol(client, relay)
    url = "https://fcm.googleapis.com/fcm/send/one"
    await client.put("/v1/push/subscription", headers=worker.auth, json={"endpoint": url})
    assert (await client.delete("/v1/push/subscription", headers=worker.auth)).status_code == 204
    assert await _subscription(relay, worker.device_id) is None
    saved = await client.put("/v1/push/subscription", headers=worker.auth, json={"endpoint": url})
    ttl = relay.settings.push_subscription_ttl_seconds
    assert saved.json()["expires_at"] == expiry(clock(), ttl)
    counts = await sweep(relay.engine, saved.json()["expires_at"] - 1, 10**9)
    assert counts["push_subscriptions"] == 0
    counts = await sweep(relay.engine, saved.json()["expires_at"], 10**9)
    assert counts["push_subscriptions"] == 1
    assert await _subscription(relay, worker.device_id) is None


async def test_without_a_key_push_is_off_and_messages_flow(
    sqlite_url: str, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = push_settings(make_settings, sqlite_url, push_vapid_key_file=blocker / "key.pem")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        relay: Relay = app.state.relay
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            worker = await enrol(client, relay)
            assert (await client.get("/v1/push/key", headers=worker.auth)).status_code == 404
            cap = await capability(client, worker)
            assert (await send(client, worker.mailbox_id, cap, "m", b"x")).status_code == 202


async def test_relays_on_one_database_sign_with_one_stored_key(
    db_url: str, make_settings: SettingsFactory
) -> None:
    keys = []
    for _ in range(2):  # a restart, or a second relay process on the same database
        app = create_app(push_settings(make_settings, db_url))
        async with app.router.lifespan_context(app):
            relay: Relay = app.state.relay
            assert relay.pusher is not None
            key = await relay.pusher.key()
            assert key is not None
            keys.append(key.public_key)
            async with relay.engine.connect() as conn:
                rows = (await conn.execute(select(vapid_key))).all()
            assert len(rows) == 1 and rows[0].private_pem.startswith("-----BEGIN PRIVATE KEY")
    assert keys[0] == keys[1]


async def test_a_key_file_keeps_the_key_out_of_the_database(
    sqlite_url: str, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    path = tmp_path / "secrets" / "vapid.pem"
    app = create_app(push_settings(make_settings, sqlite_url, push_vapid_key_file=path))
    async with app.router.lifespan_context(app):
        relay: Relay = app.state.relay
        assert relay.pusher is not None
        key = await relay.pusher.key()
        assert key is not None and key.public_key == VapidKey.load_or_create(path).public_key
        async with relay.engine.connect() as conn:
            assert (await conn.execute(select(vapid_key))).all() == []


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vapid-private.pem"
    first = VapidKey.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert VapidKey.load_or_create(path).public_key == first.public_key
    assert VapidKey.generate().public_key != first.public_key


# --- the send path's side, in memory ---------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _delivery(mailbox: bytes) -> Delivery:
    return Delivery(mailbox_id=mailbox, envelope_id=os.urandom(16), body=b"x")


def _pusher(tmp_path: Path, connected: set[bytes], monotonic: _Clock) -> Pusher:
    settings = Settings(data_dir=tmp_path, web_dist=None, push_min_interval_seconds=60)
    relay_parts: Any = None  # committed() never touches the database
    return Pusher(
        relay_parts,
        tmp_path / "vapid-private.pem",
        settings,
        FakeClock(),
        connected.__contains__,
        monotonic=monotonic,
    )


def test_committed_wakes_offline_mailboxes_once_per_interval(tmp_path: Path) -> None:
    monotonic = _Clock()
    online, offline = b"o" * 16, b"f" * 16
    pusher = _pusher(tmp_path, {online}, monotonic)
    pusher.committed([_delivery(online), _delivery(offline), _delivery(offline)])
    assert list(pusher._pending) == [offline]
    pusher._pending.clear()
    monotonic.now += 59
    pusher.committed([_delivery(offline)])
    assert list(pusher._pending) == []
    monotonic.now += 1
    pusher.committed([_delivery(offline)])
    assert list(pusher._pending) == [offline]


def test_committed_drops_beyond_the_pending_bound(tmp_path: Path) -> None:
    pusher = _pusher(tmp_path, set(), _Clock())
    pusher.committed(_delivery(n.to_bytes(16, "big")) for n in range(MAX_PENDING + 3))
    assert len(pusher._pending) == MAX_PENDING
    assert pusher.outcomes.labels("dropped").value == 3


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.from_regex(r"\Ahttps?://[^/]{0,30}/[ -~]{0,40}\Z"))
def test_any_text_is_an_endpoint_or_invalid_input(url: str) -> None:
    with contextlib.suppress(InvalidInput):
        assert check_endpoint(url, PUSH_SERVICE_HOSTS, allow_loopback=True) == url
