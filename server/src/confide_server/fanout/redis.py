"""Fan-out across relay processes over Redis pub/sub, falling back to the queue if Redis fails.

Each process publishes every committed envelope on its deployment's channel and delivers what
it hears to the sinks connected to it. Messages carry the publishing process's random id, so
a process ignores its own (it already delivered them in memory).

Channels belong to one deployment. Redis pub/sub ignores database numbers, so two deployments
sharing a Redis server (staging and production, or a hosting provider's customers) would hear
each other's ciphertext and mailbox ids on shared channels. Every channel name therefore
starts with a prefix: ``CONFIDE_REDIS_CHANNEL_PREFIX`` if set, else ``confide:`` followed by
the database's deployment id (services/deployment.py), which every relay on that database
shares and no other database has. The listener reads that id before its first subscription
(again after a failure, should the database not answer at start); publications wait for it
in the bounded outbox.

Redis failing is detected however it fails. Every Redis call is bounded by ``timeout``
(``CONFIDE_REDIS_TIMEOUT_SECONDS``), and the subscription is held to a heartbeat: when the
subscriber has heard nothing for half the timeout it sends PING, and when it has heard
nothing (no message, no PONG) for the whole timeout it declares Redis lost. This catches a
Redis that accepts connections but never answers (stopped with SIGSTOP, swapped out, stuck
on a slow disk), which looks exactly like a quiet channel to a plain ``get_message``.

While Redis is lost, ``healthy`` is False (``/readyz`` answers 503, ``confide_fanout_healthy``
is 0) and every connection here is poked at ``poll_interval`` to read its queue from the
database, so nothing is lost; only latency suffers. When the subscription answers again,
every connection is poked once more, so what was committed meanwhile reaches open sockets
without waiting for anyone to reconnect.

Wire format on the channel (binary): node id (16) | mailbox id (16) | envelope id (16) | body.
Notices go on a second channel as node id (16) | mailbox id (16) | JSON payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from confide_server.fanout import LocalFanout
from confide_server.services.deployment import deployment_id
from confide_server.settings import Settings
from confide_server.store.batch import Delivery
from confide_server.store.sqla_async import AsyncEngine
from confide_server.tasks import cancel_all

log = logging.getLogger(__name__)

_PUBLISH_BUFFER = 10_000
_ENVELOPE, _NOTICE = 0, 1
# What a failing Redis raises: its own errors, socket errors, and our own bounds running out.
FAILURES = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Channels:
    """The Redis channels of one deployment."""

    envelopes: bytes
    notices: bytes

    @classmethod
    def named(cls, prefix: str) -> Channels:
        return cls(f"{prefix}:envelopes".encode(), f"{prefix}:notices".encode())


async def deployment_channels(engine: AsyncEngine, settings: Settings) -> Channels:
    """The configured prefix's channels, or those named after the database's deployment id."""
    if settings.redis_channel_prefix:
        return Channels.named(settings.redis_channel_prefix)
    return Channels.named(f"confide:{(await deployment_id(engine)).hex()}")


def connect(url: str, timeout: float) -> Redis:
    """A client whose every socket operation, connecting included, is bounded by ``timeout``."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


class RedisFanout(LocalFanout):
    def __init__(
        self,
        url: str,
        channels: Callable[[], Awaitable[Channels]],
        *,
        poll_interval: float,
        timeout: float,
    ) -> None:
        super().__init__()
        self._url = url
        self._resolve_channels = channels
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._node = os.urandom(16)
        self._outbox: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(_PUBLISH_BUFFER)
        self._healthy = False
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Redis | None = None
        self._subscribed = asyncio.Event()
        self._named = asyncio.Event()
        self.channels: Channels | None = None
        self.dropped = 0

    @classmethod
    def for_relay(cls, settings: Settings, engine: AsyncEngine) -> RedisFanout:
        assert settings.redis_url is not None
        return cls(
            settings.redis_url,
            lambda: deployment_channels(engine, settings),
            poll_interval=settings.redis_poll_interval_seconds,
            timeout=settings.redis_timeout_seconds,
        )

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def start(self) -> None:
        self._client = connect(self._url, self._timeout)
        self._tasks = [
            asyncio.create_task(self._listen(), name="confide-redis-listen"),
            asyncio.create_task(self._publish_loop(), name="confide-redis-publish"),
            asyncio.create_task(self._poll_while_down(), name="confide-redis-poll"),
        ]
        # A relay whose Redis answers starts subscribed, so it misses nothing published by
        # its peers from its first request on; one whose Redis does not starts polling.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._timeout):
                await self._subscribed.wait()

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self._client is not None:
            with contextlib.suppress(*FAILURES):
                async with asyncio.timeout(self._timeout):
                    await self._client.aclose()

    async def check(self) -> bool:
        """The subscription's heartbeat is answered (so /readyz and /metrics agree)."""
        return self._healthy

    def publish(self, deliveries: list[Delivery]) -> None:
        super().publish(deliveries)
        for d in deliveries:
            self._enqueue(_ENVELOPE, d.mailbox_id + d.envelope_id + d.body)

    def notify(self, mailbox_id: bytes, payload: dict[str, object]) -> None:
        super().notify(mailbox_id, payload)
        self._enqueue(_NOTICE, mailbox_id + orjson.dumps(payload))

    def _enqueue(self, kind: int, message: bytes) -> None:
        try:
            self._outbox.put_nowait((kind, self._node + message))
        except asyncio.QueueFull:
            # Remote recipients will find the envelope in the queue when they are poked or
            # reconnect; confide_fanout_dropped makes the drop visible in /metrics.
            self.dropped += 1

    async def _publish_loop(self) -> None:
        assert self._client is not None
        # Until the listener has read the channels' names (the database may be down at
        # start), publications wait here in the bounded outbox.
        await self._named.wait()
        assert self.channels is not None
        names = {_ENVELOPE: self.channels.envelopes, _NOTICE: self.channels.notices}
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with asyncio.timeout(self._timeout):
                    async with self._client.pipeline(transaction=False) as pipe:
                        for kind, message in batch:
                            pipe.publish(names[kind], message)
                        await pipe.execute()
            except FAILURES:
                # If Redis is down or stuck, every listener (ours included) notices by its
                # heartbeat and falls back to polling the queue; here we only count the loss.
                self.dropped += len(batch)

    async def _listen(self) -> None:
        assert self._client is not None
        backoff = 0.1
        while True:
            pubsub = self._client.pubsub()
            try:
                if self.channels is None:
                    self.channels = await self._resolve_channels()
                    self._named.set()
                await self._follow(pubsub, self.channels)
            except (*FAILURES, SQLAlchemyError) as exc:
                if self._healthy:
                    log.warning(
                        "redis fan-out lost (%s); falling back to the queue", type(exc).__name__
                    )
                    backoff = 0.1
                self._healthy = False
                self._subscribed.set()  # start() waits no longer: the relay polls meanwhile
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(*FAILURES):
                    async with asyncio.timeout(self._timeout):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _follow(self, pubsub: PubSub, channels: Channels) -> None:
        """Subscribe and dispatch until Redis fails or stays silent for ``timeout``."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._timeout):
            await pubsub.subscribe(channels.envelopes, channels.notices)
        confirmed = 0
        heard = pinged = loop.time()
        while True:
            now = loop.time()
            if now - heard > self._timeout:
                raise TimeoutError("redis did not answer the subscriber's heartbeat")
            if now - heard >= self._timeout / 2 and now - pinged >= self._timeout / 2:
                async with asyncio.timeout(self._timeout):
                    await pubsub.ping()
                pinged = now
            async with asyncio.timeout(self._timeout):
                message = await pubsub.get_message(timeout=self._timeout / 4)
            if message is None:
                continue
            heard = loop.time()
            if message["type"] == "message":
                self._dispatch(channels, message["channel"], message["data"])
            elif message["type"] == "subscribe":
                confirmed += 1
                if confirmed == 2:
                    self._recovered()

    def _recovered(self) -> None:
        if not self._healthy:
            self._healthy = True
            # Anything published while we were deaf is in the queue: read it now.
            self.poke_all()
        self._subscribed.set()

    def _dispatch(self, channels: Channels, channel: bytes, data: bytes) -> None:
        if not isinstance(data, bytes) or data[:16] == self._node or len(data) < 32:
            return
        mailbox_id = data[16:32]
        if channel == channels.envelopes and len(data) >= 48:
            self.deliver_here(mailbox_id, data[32:48], data[48:])
        elif channel == channels.notices:
            with contextlib.suppress(orjson.JSONDecodeError):
                payload = orjson.loads(data[32:])
                if isinstance(payload, dict):
                    self.notify_here(mailbox_id, payload)

    async def _poll_while_down(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            if not self._healthy:
                self.poke_all()
