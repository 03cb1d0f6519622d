"""Fan-out across two relays sharing PostgreSQL, over Redis; and delivery without Redis."""

from __future__ import annotations

import socket

import httpx
from confide_server.app import create_app

from .conftest import LiveServer, SettingsFactory
from .helpers import b64d, capability, enrol
from .wsclient import WsClient


async def test_envelope_sent_on_one_relay_reaches_the_other(
    postgres_url: str, redis_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(postgres_url, redis_url=redis_url)
    node_a = LiveServer(create_app(settings), settings.max_frame_bytes)
    node_b = LiveServer(create_app(settings), settings.max_frame_bytes)
    async with node_a, node_b, httpx.AsyncClient(base_url=node_a.http) as client_a:
        worker = await enrol(client_a, node_a.app.state.relay)
        cap = await capability(client_a, worker)
        async with httpx.AsyncClient(base_url=node_b.http) as client_b:
            ready = (await client_b.get("/readyz")).json()
            assert ready["checks"] == {"database": True, "redis": True}
        receiver = await WsClient.open(node_b.ws, worker.token)
        await receiver.put({"type": "ping", "ref": 0})
        assert (await receiver.get())["type"] == "pong"
        sender = await WsClient.open(node_a.ws)
        for i in range(5):
            await sender.send(worker.mailbox_id, cap, f"x{i}", b"x%d" % i, ref=i)
            assert (await sender.get())["type"] == "accepted"
        got = [await receiver.get() for _ in range(5)]
        assert sorted(b64d(f["body"]) for f in got) == [b"x%d" % i for i in range(5)]
        await sender.close()
        await receiver.close()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_without_redis_delivery_falls_back_to_the_queue(
    postgres_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        postgres_url,
        redis_url=f"redis://127.0.0.1:{_dead_port()}/0",
        redis_poll_interval_seconds=0.2,
    )
    node_a = LiveServer(create_app(settings), settings.max_frame_bytes)
    node_b = LiveServer(create_app(settings), settings.max_frame_bytes)
    async with node_a, node_b, httpx.AsyncClient(base_url=node_a.http) as client_a:
        ready = await client_a.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"] is False
        worker = await enrol(client_a, node_a.app.state.relay)
        cap = await capability(client_a, worker)
        receiver = await WsClient.open(node_b.ws, worker.token)
        sender = await WsClient.open(node_a.ws)
        await sender.send(worker.mailbox_id, cap, "y", b"y", ref=1)
        assert (await sender.get())["type"] == "accepted"
        got = await receiver.get()
        assert b64d(got["body"]) == b"y"
        await sender.close()
        await receiver.close()
