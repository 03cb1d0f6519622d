"""Prekeys: verified signed prekey, batch upload, atomic one-time claims, low notice, rate limit."""

from __future__ import annotations

import asyncio

import httpx
from confide_server.relay import Relay
from fastapi import FastAPI

from .conftest import LiveServer, SettingsFactory, in_memory
from .helpers import Device, FakeClock, enrol, join
from .wsclient import WsClient


async def test_concurrent_fetches_never_share_a_one_time_prekey(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    owner = await enrol(client, relay)  # registers 5 one-time prekeys
    fetchers = [await enrol(client, relay) for _ in range(4)]
    upload = await client.post(
        "/v1/prekeys/one-time", headers=owner.auth, json={"prekeys": owner.one_time_prekeys(7)}
    )
    assert upload.json()["one_time_prekeys"] == 12

    async def fetch(who: Device) -> int | None:
        response = await client.get(f"/v1/devices/{owner.device_id}/bundle", headers=who.auth)
        assert response.status_code == 200, response.text
        otp = response.json()["one_time_prekey"]
        return None if otp is None else int(otp["key_id"])

    got = await asyncio.gather(*(fetch(fetchers[i % 4]) for i in range(20)))
    claimed = [k for k in got if k is not None]
    assert sorted(claimed) == list(range(1, 13))
    assert got.count(None) == 8  # then the signed prekey alone
    status = await client.get("/v1/prekeys/status", headers=owner.auth)
    assert status.json() == {"one_time_prekeys": 0, "low": True}


async def test_signed_prekey_replacement_is_verified(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    owner = await enrol(client, relay)
    good = owner.signed_prekey(key_id=2)
    assert (
        await client.put("/v1/prekeys/signed", headers=owner.auth, json=good)
    ).status_code == 204
    forged = Device().signed_prekey(key_id=3)
    bad = await client.put("/v1/prekeys/signed", headers=owner.auth, json=forged)
    assert bad.status_code == 400
    other = await enrol(client, relay)
    bundle = await client.get(f"/v1/devices/{owner.device_id}/bundle", headers=other.auth)
    assert bundle.json()["signed_prekey"]["key_id"] == 2


async def test_duplicate_and_oversized_uploads(client: httpx.AsyncClient, relay: Relay) -> None:
    owner = await enrol(client, relay)
    keys = owner.one_time_prekeys(2)
    dup = await client.post("/v1/prekeys/one-time", headers=owner.auth, json={"prekeys": keys * 2})
    assert dup.status_code == 400
    ok = await client.post("/v1/prekeys/one-time", headers=owner.auth, json={"prekeys": keys})
    assert ok.status_code == 200
    again = await client.post("/v1/prekeys/one-time", headers=owner.auth, json={"prekeys": keys})
    assert again.status_code == 409
    many = owner.one_time_prekeys(relay.settings.max_prekeys_per_upload + 1)
    too_many = await client.post("/v1/prekeys/one-time", headers=owner.auth, json={"prekeys": many})
    assert too_many.status_code == 400


async def test_unknown_device_bundle(client: httpx.AsyncClient, relay: Relay) -> None:
    from .helpers import b64e

    asker = await enrol(client, relay)
    response = await client.get(f"/v1/devices/{b64e(bytes(16))}/bundle", headers=asker.auth)
    assert response.status_code == 404


async def test_bundle_fetches_are_rate_limited(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    from confide_server.app import create_app

    app: FastAPI = create_app(make_settings(sqlite_url, prekey_fetches_per_minute=3), clock=clock)
    async with in_memory(app) as client:
        owner = await enrol(client, app.state.relay)
        asker = await enrol(client, app.state.relay)
        url = f"/v1/devices/{owner.device_id}/bundle"
        codes = [(await client.get(url, headers=asker.auth)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        clock.now += 60
        assert (await client.get(url, headers=asker.auth)).status_code == 200


async def test_owner_hears_when_prekeys_run_low(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    ws = await WsClient.open(live.ws, worker.token)
    await join(live_client, worker)  # redemption claims one of the worker's 5 prekeys
    notice = await ws.get()
    assert notice == {"type": "notice", "kind": "prekeys-low", "remaining": 4}
    await ws.close()


async def test_concurrent_writers_never_fail(client: httpx.AsyncClient, relay: Relay) -> None:
    """Bundle claims, sends, logins and uploads at once: waits, never "database is locked"."""
    from .helpers import capability, login, send

    owner = await enrol(client, relay)
    asker = await enrol(client, relay)
    cap = await capability(client, owner)
    upload = {"prekeys": owner.one_time_prekeys(30)}
    assert (await client.post("/v1/prekeys/one-time", headers=owner.auth, json=upload)).is_success

    async def claim() -> int:
        url = f"/v1/devices/{owner.device_id}/bundle"
        return (await client.get(url, headers=asker.auth)).status_code

    async def post(i: int) -> int:
        return (await send(client, owner.mailbox_id, cap, f"c{i}", b"x")).status_code

    async def relogin() -> int:
        await login(client, asker)
        return 201

    codes = await asyncio.gather(
        *(claim() for _ in range(15)), *(post(i) for i in range(40)), *(relogin() for _ in range(5))
    )
    assert set(codes) <= {200, 201, 202}, codes
