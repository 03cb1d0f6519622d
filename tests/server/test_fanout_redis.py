"""Fan-out across two relays sharing PostgreSQL, over Redis; one deployment's channels kept
apart from another's on the same Redis server; and delivery without Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from confide_server.app import create_app
from confide_server.fanout.redis import Channels, RedisFanout
from confide_server.settings import Settings
from confide_server.store.batch import Delivery
from redis.asyncio import Redis
from sqlalchemy.exc import OperationalError

from .conftest import LiveServer, SettingsFactory
from .helpers import b64d, capability, enrol
from .wsclient import WsClient


class ChannelSpy:
    """Every publication on the Redis server, whatever its channel (pub/sub has no databases)."""

    def __init__(self, url: str) -> None:
        self._client = Redis.from_url(url)
        self._pubsub = self._client.pubsub()

    async def start(self) -> None:
        await self._pubsub.psubscribe("*")
        # Only once Redis confirms is every later publication sure to reach the spy.
        async with asyncio.timeout(30):
            while True:
                message = await self._pubsub.get_message(timeout=1)
                if message is not None and message["type"] == "psubscribe":
                    return

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._client.aclose()

    async def channel_of(self, needle: bytes) -> bytes:
        """The channel of the first publication containing ``needle`` (others are skipped)."""
        async with asyncio.timeout(30):
            while True:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None and needle in message["data"]:
                    channel: bytes = message["channel"]
                    return channel


@asynccontextmanager
async def spying(url: str) -> AsyncIterator[ChannelSpy]:
    spy = ChannelSpy(url)
    await spy.start()
    try:
        yield spy
    finally:
        await spy.close()


async def _send_one(node: LiveServer, body: bytes) -> None:
    """Enrol a worker on ``node`` and send one envelope to its mailbox there."""
    async with httpx.AsyncClient(base_url=node.http) as client:
        worker = await enrol(client, node.app.state.relay)
        cap = await capability(client, worker)
    sender = await WsClient.open(node.ws)
    await sender.send(worker.mailbox_id, cap, "spied", body, ref=1)
    assert (await sender.get())["type"] == "accepted"
    await sender.close()


async def test_two_deployments_on_one_redis_use_channels_of_their_own(
    make_postgres_url: Callable[[], str], redis_url: str, make_settings: SettingsFactory
) -> None:
    # Two deployments (each its own database) on one Redis server: what one relay publishes
    # must never reach a channel the other listens on.
    staging = make_settings(make_postgres_url(), redis_url=redis_url)
    production = make_settings(make_postgres_url(), redis_url=redis_url)
    node_s = LiveServer(create_app(staging), staging.max_frame_bytes)
    node_p = LiveServer(create_app(production), production.max_frame_bytes)
    body_s, body_p = os.urandom(24), os.urandom(24)
    async with spying(redis_url) as spy, node_s, node_p:
        await _send_one(node_s, body_s)
        await _send_one(node_p, body_p)
        channel_s, channel_p = await spy.channel_of(body_s), await spy.channel_of(body_p)
    assert channel_s != channel_p
    assert channel_s.endswith(b":envelopes") and channel_p.endswith(b":envelopes")


async def test_relays_on_one_database_share_their_channels_across_restarts(
    postgres_url: str, redis_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(postgres_url, redis_url=redis_url)
    bodies = [os.urandom(24) for _ in range(3)]
    channels = []
    async with spying(redis_url) as spy:
        for body in bodies:
            # A new relay each time: the name comes from the database, not from the process.
            async with LiveServer(create_app(settings), settings.max_frame_bytes) as node:
                await _send_one(node, body)
            channels.append(await spy.channel_of(body))
    assert len(set(channels)) == 1


async def test_a_configured_channel_prefix_names_the_channels(
    postgres_url: str, redis_url: str, make_settings: SettingsFactory
) -> None:
    prefix = f"confide:test-{os.urandom(4).hex()}"
    settings = make_settings(postgres_url, redis_url=redis_url, redis_channel_prefix=prefix)
    body = os.urandom(24)
    async with spying(redis_url) as spy:
        async with LiveServer(create_app(settings), settings.max_frame_bytes) as node:
            await _send_one(node, body)
        assert await spy.channel_of(body) == f"{prefix}:envelopes".encode()


def test_a_channel_prefix_is_a_plain_name() -> None:
    for bad in ("", "has space", "a*", "x" * 101, "new\nline"):
        try:
            Settings(redis_channel_prefix=bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
    assert Settings(redis_channel_prefix="confide:staging").redis_channel_prefix


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
            assert ready["checks"] == {"database": True, "storage": True, "redis": True}
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


@asynccontextmanager
async def black_hole() -> AsyncIterator[str]:
    """A Redis URL whose server accepts connections and never answers: Redis frozen, in process."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.close()


async def test_a_redis_that_never_answers_gets_the_fallback_of_one_that_is_down(
    postgres_url: str, make_settings: SettingsFactory
) -> None:
    async with black_hole() as url:
        settings = make_settings(
            postgres_url,
            redis_url=url,
            redis_poll_interval_seconds=0.2,
            redis_timeout_seconds=0.5,
        )
        node_a = LiveServer(create_app(settings), settings.max_frame_bytes)
        node_b = LiveServer(create_app(settings), settings.max_frame_bytes)
        async with node_a, node_b, httpx.AsyncClient(base_url=node_b.http) as client_b:
            ready = await client_b.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["redis"] is False
            assert "confide_fanout_healthy 0.0" in (await client_b.get("/metrics")).text
            async with httpx.AsyncClient(base_url=node_a.http) as client_a:
                worker = await enrol(client_a, node_a.app.state.relay)
                cap = await capability(client_a, worker)
            receiver = await WsClient.open(node_b.ws, worker.token)
            sender = await WsClient.open(node_a.ws)
            await sender.send(worker.mailbox_id, cap, "z", b"z", ref=1)
            assert (await sender.get())["type"] == "accepted"
            assert b64d((await receiver.get())["body"]) == b"z"  # by polling the queue
            # The publication itself gave up after the timeout and was counted.
            for _ in range(200):
                if node_a.app.state.relay.fanout.dropped:
                    break
                await asyncio.sleep(0.05)
            assert node_a.app.state.relay.fanout.dropped >= 1
            await sender.close()
            await receiver.close()


async def test_a_relay_started_while_its_database_is_down_names_its_channels_later(
    redis_url: str,
) -> None:
    # The channels are named after the database's deployment id; a database that does not
    # answer at start delays the name, and publications wait for it rather than going astray.
    prefix = f"confide:test-{os.urandom(4).hex()}"
    attempts = []

    async def channels() -> Channels:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("SELECT id FROM deployment", {}, OSError("database down"))
        return Channels.named(prefix)

    fanout = RedisFanout(redis_url, channels, poll_interval=3600, timeout=1)
    body = os.urandom(24)
    async with spying(redis_url) as spy:
        await fanout.start()
        try:
            fanout.publish([Delivery(os.urandom(16), os.urandom(16), body)])
            assert await spy.channel_of(body) == f"{prefix}:envelopes".encode()
            for _ in range(200):  # the subscription's confirmation may still be on its way
                if fanout.healthy:
                    break
                await asyncio.sleep(0.05)
            assert fanout.healthy and len(attempts) == 2
        finally:
            await fanout.close()
