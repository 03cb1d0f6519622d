"""A new policy version reaches every open app at once: a ``policy`` notice (issue 14).

Seen: after a new policy version, a worker whose app stayed open was not told and kept
sending under the old one, and a client with the page open was never prompted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from confide_server.app import create_app
from confide_server.services import organisation
from confide_server.settings import Settings

from .conftest import LiveServer, SettingsFactory, uvicorn_ws
from .helpers import enrol, join, setup_org, step_up
from .wsclient import WsClient


@pytest.fixture
async def quick_live(db_url: str, make_settings: SettingsFactory) -> AsyncIterator[LiveServer]:
    # The watch that catches changes made outside this process looks every 0.1 s here.
    settings: Settings = make_settings(db_url, cutoff_check_seconds=0.1)
    app = create_app(settings)
    async with LiveServer(app, settings.max_frame_bytes, uvicorn_ws("relay")) as server:
        yield server


async def test_publishing_tells_every_connected_worker_and_client(quick_live: LiveServer) -> None:

    relay = quick_live.app.state.relay
    await setup_org(relay)
    async with httpx.AsyncClient(base_url=quick_live.http) as client:
        admin = await enrol(client, relay, role="admin")
        worker = await enrol(client, relay)
        person, _ = await join(client, worker)
        sockets = [await WsClient.open(quick_live.ws, d.token) for d in (worker, person)]
        await step_up(client, admin)
        published = await client.post(
            "/v1/admin/policies", headers=admin.auth, json={"text": "Version two."}
        )
        assert published.status_code == 201, published.text
        sha256 = published.json()["sha256"]
    want = {"type": "notice", "kind": "policy", "version": 2, "sha256": sha256}
    for ws in sockets:
        assert await ws.get() == want
        await ws.close()


async def test_a_version_published_elsewhere_reaches_open_apps_too(
    quick_live: LiveServer,
) -> None:
    """The CLI publishes straight into the database and holds no connection."""

    relay = quick_live.app.state.relay
    await setup_org(relay)
    async with httpx.AsyncClient(base_url=quick_live.http) as client:
        worker = await enrol(client, relay)
    ws = await WsClient.open(quick_live.ws, worker.token)
    async with relay.engine.begin() as conn:
        policy = await organisation.publish_policy(conn, "Version two.", relay.clock(), "cli")
    notice = await ws.get()
    if notice.get("version") == 1:
        # The watch may have first looked before setup_org published version 1, and then
        # announced it; the socket may be open in time to hear that too.
        notice = await ws.get()
    assert notice == {"type": "notice", "kind": "policy", "version": 2, "sha256": policy.sha256}
    await ws.close()


async def test_the_notice_crosses_relays_over_redis(
    postgres_url: str, redis_url: str, make_settings: SettingsFactory
) -> None:
    """Published through one relay, heard on a connection to another, at once: the watch
    looks only once an hour here, so only Redis fan-out can carry it."""
    settings = make_settings(postgres_url, redis_url=redis_url, cutoff_check_seconds=3600)
    node_a = LiveServer(create_app(settings), settings.max_frame_bytes)
    node_b = LiveServer(create_app(settings), settings.max_frame_bytes)
    async with node_a, node_b, httpx.AsyncClient(base_url=node_a.http) as client:
        relay = node_a.app.state.relay
        await setup_org(relay)
        admin = await enrol(client, relay, role="admin")
        worker = await enrol(client, relay)
        listening = await WsClient.open(node_b.ws, worker.token)
        await listening.put({"type": "ping", "ref": 0})
        assert (await listening.get())["type"] == "pong"
        await step_up(client, admin)
        published = await client.post(
            "/v1/admin/policies", headers=admin.auth, json={"text": "Version two."}
        )
        assert published.status_code == 201, published.text
        notice = await listening.get()
        assert notice["kind"] == "policy" and notice["version"] == 2
        await listening.close()
