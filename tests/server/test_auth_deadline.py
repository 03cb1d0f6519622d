"""A WebSocket that never authenticates is closed after ``ws_auth_timeout_seconds`` (4401).

Answering pings (the relay's keepalive, or the protocol's own ``ping`` frames) does not keep
such a socket open: only ``auth``, or envelopes the relay accepts from it (a sealed-sender
client holding a valid capability), do. docs/protocol.md, "WebSocket".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from confide_server.app import create_app
from confide_server.relay import Relay
from confide_server.ws.protocol import uvicorn_ws
from websockets.exceptions import ConnectionClosed

from .conftest import LiveServer, SettingsFactory
from .helpers import capability, enrol
from .wsclient import WsClient

DEADLINE = 0.5
ROUNDS = 200  # bounds each test's wait: ROUNDS * STEP seconds
STEP = 0.05


@pytest.fixture(params=["relay", "asgi"])
async def server(
    request: pytest.FixtureRequest, sqlite_url: str, make_settings: SettingsFactory
) -> AsyncIterator[LiveServer]:
    settings = make_settings(sqlite_url, ws_auth_timeout_seconds=DEADLINE)
    app = create_app(settings)
    async with LiveServer(app, settings.max_frame_bytes, uvicorn_ws(request.param)) as live:
        yield live


async def pong_until_closed(ws: WsClient) -> list[dict[str, object]]:
    """Ping and read the answers until the relay closes; every frame other than pong."""
    others: list[dict[str, object]] = []
    for i in range(ROUNDS):
        await ws.put({"type": "ping", "ref": i})
        frame = await ws.get()
        if frame["type"] != "pong":
            others.append(frame)
        await asyncio.sleep(STEP)
    raise AssertionError(f"still open after {ROUNDS} pings; frames: {others}")


async def test_an_unauthenticated_socket_that_only_pings_is_closed_4401(
    server: LiveServer,
) -> None:
    ws = await WsClient.open(server.ws)
    with pytest.raises(ConnectionClosed) as closed:
        await pong_until_closed(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_the_deadline_is_explained_by_an_error_frame(server: LiveServer) -> None:
    ws = await WsClient.open(server.ws)
    frame = await asyncio.wait_for(ws.conn.recv(), timeout=ROUNDS * STEP)
    assert '"error":"unauthenticated"' in str(frame).replace(" ", "")
    with pytest.raises(ConnectionClosed):
        await ws.get()


async def test_authenticated_and_sending_sockets_outlive_the_deadline(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.http) as client:
        relay: Relay = server.app.state.relay
        worker = await enrol(client, relay)
        cap = await capability(client, worker)
    receiver = await WsClient.open(server.ws, worker.token)
    sender = await WsClient.open(server.ws)  # sealed sender: no auth, accepted sends
    elapsed, i = 0.0, 0
    while elapsed < 3 * DEADLINE:
        await sender.send(worker.mailbox_id, cap, f"m{i}", b"m", ref=i)
        assert (await sender.get())["type"] == "accepted"
        envelope = await receiver.get()
        await receiver.put({"type": "ack", "ids": [envelope["id"]]})
        await asyncio.sleep(STEP * 2)
        elapsed, i = elapsed + STEP * 2, i + 1
    for ws in (receiver, sender):
        await ws.put({"type": "ping", "ref": "still-open"})
        assert await ws.get() == {"type": "pong", "ref": "still-open"}
        await ws.close()
