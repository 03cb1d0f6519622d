"""Fan-out across relay processes over Redis pub/sub, falling back to the queue if Redis drops.

Each process publishes every committed envelope on one channel and delivers what it hears
to the sinks connected to it. Messages carry the publishing process's random id, so a process
ignores its own (it already delivered them in memory). While Redis is unreachable, every
connection here is poked at ``poll_interval`` to read its queue from the database, and once
more on reconnection, so nothing is lost; only latency suffers.

Wire format on the channel (binary): node id (16) | mailbox id (16) | envelope id (16) | body.
Notices go on a second channel as node id (16) | mailbox id (16) | JSON payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from confide_server.fanout import LocalFanout
from confide_server.store.batch import Delivery
from confide_server.tasks import cancel_all

log = logging.getLogger(__name__)

ENVELOPES = b"confide:envelopes"
NOTICES = b"confide:notices"
_PUBLISH_BUFFER = 10_000


class RedisFanout(LocalFanout):
    def __init__(self, url: str, *, poll_interval: float) -> None:
        super().__init__()
        self._url = url
        self._poll_interval = poll_interval
        self._node = os.urandom(16)
        self._outbox: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(_PUBLISH_BUFFER)
        self._healthy = False
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Redis | None = None
        self.dropped = 0

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def start(self) -> None:
        self._client = Redis.from_url(self._url, socket_timeout=5, socket_connect_timeout=2)
        self._tasks = [
            asyncio.create_task(self._listen(), name="confide-redis-listen"),
            asyncio.create_task(self._publish_loop(), name="confide-redis-publish"),
            asyncio.create_task(self._poll_while_down(), name="confide-redis-poll"),
        ]

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self._client is not None:
            await self._client.aclose()

    async def check(self) -> bool:
        if self._client is None:
            return False
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    def publish(self, deliveries: list[Delivery]) -> None:
        super().publish(deliveries)
        for d in deliveries:
            self._enqueue(ENVELOPES, self._node + d.mailbox_id + d.envelope_id + d.body)

    def notify(self, mailbox_id: bytes, payload: dict[str, object]) -> None:
        super().notify(mailbox_id, payload)
        self._enqueue(NOTICES, self._node + mailbox_id + orjson.dumps(payload))

    def _enqueue(self, channel: bytes, message: bytes) -> None:
        try:
            self._outbox.put_nowait((channel, message))
        except asyncio.QueueFull:
            # Remote recipients will find the envelope in the queue when they are poked or
            # reconnect; the counter makes the drop visible in /metrics.
            self.dropped += 1

    async def _publish_loop(self) -> None:
        assert self._client is not None
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for channel, message in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except (RedisError, OSError):
                # If Redis is down, every listener (ours included) notices and falls back to
                # polling the queue; nothing more to do here than count the loss.
                self.dropped += len(batch)

    async def _listen(self) -> None:
        assert self._client is not None
        backoff = 0.1
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(ENVELOPES, NOTICES)
                if not self._healthy:
                    self._healthy = True
                    # Anything published while we were deaf is in the queue: read it now.
                    self.poke_all()
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._dispatch(message["channel"], message["data"])
            except (RedisError, OSError) as exc:
                if self._healthy:
                    log.warning(
                        "redis fan-out lost (%s); falling back to the queue", type(exc).__name__
                    )
                self._healthy = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        if not isinstance(data, bytes) or data[:16] == self._node or len(data) < 32:
            return
        mailbox_id = data[16:32]
        if channel == ENVELOPES and len(data) >= 48:
            self.deliver_here(mailbox_id, data[32:48], data[48:])
        elif channel == NOTICES:
            with contextlib.suppress(orjson.JSONDecodeError):
                payload = orjson.loads(data[32:])
                if isinstance(payload, dict):
                    self.notify_here(mailbox_id, payload)

    async def _poll_while_down(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            if not self._healthy:
                self.poke_all()
