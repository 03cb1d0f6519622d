"""The relay's running parts, built from Settings and held by the app (never a global).

``Relay`` owns the engines, the group-commit writer, fan-out, rate limiters, quotas, metrics
and the background tasks (sweeper, retention refresh); ``Relay.start``/``Relay.close`` run
in the app's lifespan. Mailbox operations (sends, acks, queue reads, live connections) go
through ``Relay.mailboxes`` (mailboxes.py), the one door both the WebSocket and HTTP use.
Nothing here knows about WebSockets: ws/ depends on this side, never the reverse.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text

from confide_server.clock import Clock, system_clock
from confide_server.fanout import Fanout, LocalFanout
from confide_server.mailboxes import Mailboxes
from confide_server.metrics import Metrics
from confide_server.push.sender import Pusher
from confide_server.quotas import Quotas
from confide_server.ratelimit import RateLimiter
from confide_server.services import organisation, sweeper
from confide_server.settings import Settings
from confide_server.store.batch import Delivery
from confide_server.store.database import Database
from confide_server.store.engine import is_sqlite, make_engine
from confide_server.store.sqla_async import AsyncEngine
from confide_server.store.writer import Writer
from confide_server.tasks import cancel_all


class Relay:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = Metrics()
        url = settings.resolved_database_url
        self.engine: AsyncEngine = make_engine(url)
        # Reads go through their own engine: on SQLite, writers take the write lock when they
        # begin (see store/engine.py), which read-only work must not wait for.
        self.reader: AsyncEngine = (
            make_engine(url, for_writes=False) if is_sqlite(url) else self.engine
        )
        self.database = Database(self.engine, self.reader)
        self.fanout: Fanout = self._make_fanout()
        self.writer = Writer(
            self.engine,
            clock,
            max_batch=settings.writer_max_batch,
            max_queue_depth=settings.max_queue_depth,
            on_commit=self._committed,
            on_batch=self.metrics.batch.observe,
            idempotency_window=settings.idempotency_window_seconds,
            disk_reserve=settings.disk_reserve_bytes,
        )
        self.metrics.writer_pending.set_function(self.writer.pending)
        self.metrics.fanout_healthy.set_function(lambda: float(self.fanout.healthy))
        self.metrics.fanout_dropped.set_function(lambda: float(self.fanout.dropped))
        self.metrics.storage_writable.set_function(lambda: float(self.writer.writable()))
        self.prekey_fetches = RateLimiter(settings.prekey_fetches_per_minute, clock)
        self.anonymous = RateLimiter(settings.anonymous_requests_per_minute, clock)
        self.redemptions = RateLimiter(settings.invite_redemptions_per_minute, clock)
        self.turn_requests = RateLimiter(settings.turn_requests_per_minute, clock)
        self.quotas = Quotas.from_settings(settings, clock)
        self.mailboxes = Mailboxes(
            self.writer,
            self.reader,
            self.fanout,
            clock,
            default_ttl=settings.default_ttl_seconds,
            max_retention=settings.default_max_retention_seconds,
            connections_per_token=settings.connections_per_token,
        )
        self.pusher = self._make_pusher()
        self._tasks: list[asyncio.Task[None]] = []

    def _make_pusher(self) -> Pusher | None:
        if not self.settings.push_enabled:
            return None
        pusher = Pusher(
            self.database,
            self.settings.push_vapid_key_file,
            self.settings,
            self.clock,
            self.fanout.connected_here,
        )
        self.metrics.push = pusher.outcomes
        return pusher

    def _make_fanout(self) -> Fanout:
        if self.settings.redis_url:
            from confide_server.fanout.redis import RedisFanout

            return RedisFanout.for_relay(self.settings, self.engine)
        return LocalFanout()

    def _committed(self, deliveries: list[Delivery]) -> None:
        self.metrics.accepted.inc(len(deliveries))
        self.fanout.publish(deliveries)
        if self.pusher is not None:
            self.pusher.committed(deliveries)

    async def start(self) -> None:
        await self.refresh_retention()
        self.writer.start()
        await self.fanout.start()
        if self.pusher is not None:
            self.pusher.start()
        self._tasks.append(
            asyncio.create_task(
                sweeper.run_forever(
                    self.engine,
                    self.clock,
                    self.settings.sweep_interval_seconds,
                    self.settings.prekey_max_age_seconds,
                ),
                name="confide-sweeper",
            )
        )
        self._tasks.append(asyncio.create_task(self._refresh_loop(), name="confide-retention"))

    async def close(self) -> None:
        await cancel_all(self._tasks)
        if self.pusher is not None:
            await self.pusher.close()
        await self.writer.close()
        await self.fanout.close()
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()

    @property
    def max_retention(self) -> int:
        """The organisation's retention limit, in seconds (kept by mailboxes.py)."""
        return self.mailboxes.max_retention

    async def refresh_retention(self) -> None:
        """The organisation's retention limit, re-read now and then (the CLI may change it)."""
        with contextlib.suppress(Exception):
            async with self.reader.connect() as conn:
                org = await organisation.get(conn)
            if org is not None:
                self.mailboxes.max_retention = org.max_retention_seconds

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(60)
            await self.refresh_retention()

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "storage": self.writer.writable()}
        with contextlib.suppress(Exception):
            async with self.reader.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = True
        if self.settings.redis_url:
            checks["redis"] = await self.fanout.check()
        return checks
