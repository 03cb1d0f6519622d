"""Revoking a device or disabling a worker closes its open WebSockets at once (close 4408),
on the relay that acted and, over Redis, on another; and from the CLI. Real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from confide_server.app import create_app
from confide_server.cli import main
from confide_server.relay import Relay
from websockets.exceptions import ConnectionClosed

from .conftest import LiveServer, SettingsFactory
from .helpers import Device, capability, enrol, login, send, setup_org, step_up
from .wsclient import WsClient


async def _closed_with(ws: WsClient) -> tuple[dict[str, object], int | None]:
    """The error frame the relay sends, then the close code (bounded waits, no timing)."""
    error = await ws.get()
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            await ws.conn.recv()
    return error, ws.conn.close_code


async def _admin(client: httpx.AsyncClient, relay: Relay) -> Device:
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    return admin


async def test_revoking_a_device_closes_its_socket_and_cuts_it_off(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    admin = await _admin(live_client, live_relay)
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    ws = await WsClient.open(live.ws, worker.token)
    revoked = await live_client.post(
        f"/v1/admin/devices/{worker.device_id}/revoke", headers=admin.auth
    )
    assert revoked.status_code == 204
    error, code = await _closed_with(ws)
    assert error["type"] == "error" and error["error"] == "revoked"
    assert code == 4408
    assert (await live_client.get("/v1/devices/me", headers=worker.auth)).status_code == 401
    bundle = await live_client.get(f"/v1/devices/{worker.device_id}/bundle", headers=admin.auth)
    assert bundle.status_code == 404  # its prekeys were withdrawn
    refused = await send(live_client, worker.mailbox_id, cap, "after", b"x")
    assert refused.status_code == 403
    again = await WsClient.open(live.ws)
    await again.put({"type": "auth", "token": worker.token})
    assert (await again.get())["type"] == "error"
    await again.close()
    events = (await live_client.get("/v1/admin/audit", headers=admin.auth)).json()
    assert events[0]["action"] == "device.revoke"
    assert events[0]["subject"] == worker.device_id


async def test_disabling_a_worker_closes_its_sockets_and_enabling_lets_it_back(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    admin = await _admin(live_client, live_relay)
    worker = await enrol(live_client, live_relay)
    me = (await live_client.get("/v1/devices/me", headers=worker.auth)).json()
    ws = await WsClient.open(live.ws, worker.token)
    other = await WsClient.open(live.ws, admin.token)
    path = f"/v1/admin/workers/{me['worker_id']}"
    assert (await live_client.post(f"{path}/disable", headers=admin.auth)).status_code == 204
    _error, code = await _closed_with(ws)
    assert code == 4408
    await other.put({"type": "ping", "ref": 1})
    assert (await other.get())["type"] == "pong"  # nobody else's socket closed
    listed = (await live_client.get("/v1/admin/workers", headers=admin.auth)).json()
    assert [w["disabled"] for w in listed if w["worker_id"] == me["worker_id"]] == [True]
    assert (await live_client.post(f"{path}/enable", headers=admin.auth)).status_code == 204
    await login(live_client, worker)
    assert (await live_client.get("/v1/devices/me", headers=worker.auth)).status_code == 200
    role = await live_client.post(f"{path}/role", headers=admin.auth, json={"role": "supervisor"})
    assert role.status_code == 204
    me = (await live_client.get("/v1/devices/me", headers=worker.auth)).json()
    assert me["role"] == "supervisor"
    await other.close()


async def test_revoking_on_one_relay_closes_the_socket_on_another(
    postgres_url: str, redis_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(postgres_url, redis_url=redis_url, cutoff_check_seconds=3600.0)
    node_a = LiveServer(create_app(settings), settings.max_frame_bytes)
    node_b = LiveServer(create_app(settings), settings.max_frame_bytes)
    async with node_a, node_b, httpx.AsyncClient(base_url=node_a.http) as client_a:
        relay_a: Relay = node_a.app.state.relay
        admin = await _admin(client_a, relay_a)
        worker = await enrol(client_a, relay_a)
        ws = await WsClient.open(node_b.ws, worker.token)
        await ws.put({"type": "ping", "ref": 0})
        assert (await ws.get())["type"] == "pong"  # subscribed on node B
        revoked = await client_a.post(
            f"/v1/admin/devices/{worker.device_id}/revoke", headers=admin.auth
        )
        assert revoked.status_code == 204
        _error, code = await _closed_with(ws)
        assert code == 4408


async def test_the_cli_closes_sockets_over_redis(
    postgres_url: str,
    redis_url: str,
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(postgres_url, redis_url=redis_url, cutoff_check_seconds=3600.0)
    monkeypatch.setenv("CONFIDE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("CONFIDE_REDIS_URL", redis_url)
    async with (
        LiveServer(create_app(settings), settings.max_frame_bytes) as node,
        httpx.AsyncClient(base_url=node.http) as client,
    ):
        worker = await enrol(client, node.app.state.relay)
        ws = await WsClient.open(node.ws, worker.token)
        await ws.put({"type": "ping", "ref": 0})
        assert (await ws.get())["type"] == "pong"
        loop = asyncio.get_running_loop()
        code = await loop.run_in_executor(None, main, ["devices", "revoke", "--", worker.device_id])
        assert code == 0
        _error, close = await _closed_with(ws)
        assert close == 4408


async def test_without_redis_the_relay_notices_a_cli_revocation(
    sqlite_url: str, make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI beside a single SQLite relay: the relay's own check closes the socket."""
    settings = make_settings(sqlite_url, cutoff_check_seconds=0.2)
    monkeypatch.setenv("CONFIDE_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("CONFIDE_REDIS_URL", raising=False)
    async with (
        LiveServer(create_app(settings), settings.max_frame_bytes) as node,
        httpx.AsyncClient(base_url=node.http) as client,
    ):
        worker = await enrol(client, node.app.state.relay)
        me = (await client.get("/v1/devices/me", headers=worker.auth)).json()
        ws = await WsClient.open(node.ws, worker.token)
        loop = asyncio.get_running_loop()
        code = await loop.run_in_executor(None, main, ["workers", "disable", "--", me["worker_id"]])
        assert code == 0
        _error, close = await _closed_with(ws)
        assert close == 4408
