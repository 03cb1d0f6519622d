"""Sending wake-ups: a background task, rate-limited per device, never in the send path.

``Pusher.committed`` is called by the relay after every commit (relay.py, on the event loop,
between the writer's batch and its answers), so it does only dictionary work: for each
mailbox with an envelope and no connection on this process, unless it was woken within
``push_min_interval_seconds``, it marks the mailbox pending and wakes the task. The task
waits ``push_grace_seconds``, then reads the subscriptions of the pending mailboxes whose
newest envelope is still queued (one query on the read engine): a device connected to
another relay process, or reconnecting, has acknowledged it by then and is not woken. It
sends
each an empty POST, at most ``push_concurrency`` at a time, each bounded by
``push_timeout_seconds``; a slow push service holds only its own slot. A 404 or 410 answer
deletes the subscription (the browser dropped it). Nothing logged names an endpoint or a
device: failures are logged by exception type or status only, and httpx's own request
lines are kept out of the logs (logs.py, and the levels set here).

The key is read (or made) and httpx imported by the task, off the event loop where they cost,
once the relay is up: neither is on the way to its first answer (test_serve_imports.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from confide_server.clock import Clock
from confide_server.metrics import LabelledTally
from confide_server.push import subscriptions
from confide_server.settings import Settings
from confide_server.store.batch import Delivery
from confide_server.store.database import Database

if TYPE_CHECKING:
    import httpx

    from confide_server.push.vapid import VapidKey

log = logging.getLogger(__name__)

# Mailboxes waiting for the task at most; beyond, wake-ups are dropped (and counted).
MAX_PENDING = 10_000
# The rate limiter forgets devices woken longer ago than the interval once it holds this many.
PRUNE_AT = 4096
# Mailboxes per subscription query.
LOOKUP_BATCH = 500


def _quiet_http_logs() -> None:
    # httpx logs each request's URL at INFO; an endpoint is an identifier of the device.
    # Set on the loggers themselves, so that a root logger at DEBUG does not let them through.
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _key_from_file(path: Path) -> VapidKey:
    from confide_server.push.vapid import VapidKey

    return VapidKey.load_or_create(path)


def _new_pem() -> bytes:
    from confide_server.push.vapid import VapidKey

    return VapidKey.generate().private_pem()


def _key_from_pem(pem: bytes) -> VapidKey:
    from confide_server.push.vapid import VapidKey

    return VapidKey.from_pem(pem)


def _http_client(transport: httpx.AsyncBaseTransport | None, timeout: float) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": "confide-relay"},
    )


class Pusher:
    def __init__(
        self,
        database: Database,
        key_file: Path | None,
        settings: Settings,
        clock: Clock,
        connected: Callable[[bytes], bool],
        *,
        monotonic: Clock = time.monotonic,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key_file = key_file
        self._key: VapidKey | None = None
        self._loaded = asyncio.Event()
        self._database = database
        self._clock = clock
        self._monotonic = monotonic
        self._connected = connected
        self._interval = settings.push_min_interval_seconds
        self._grace = settings.push_grace_seconds
        self._pause = pause
        self._ttl = str(settings.push_ttl_seconds)
        self._contact = settings.push_contact or settings.public_url
        self._timeout = settings.push_timeout_seconds
        self._slots = asyncio.Semaphore(settings.push_concurrency)
        self._transport = transport
        # Mailbox id -> the id of its newest envelope since it was marked.
        self._pending: dict[bytes, bytes] = {}
        self._last: dict[bytes, float] = {}
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self.outcomes = LabelledTally()
        _quiet_http_logs()

    async def key(self) -> VapidKey | None:
        """The relay's VAPID key once it is loaded; None if it cannot be read or made."""
        await self._loaded.wait()
        return self._key

    # --- on the send path: memory only ----------------------------------------------------

    def committed(self, deliveries: Iterable[Delivery]) -> None:
        """Envelopes were made durable: note the mailboxes that have nobody connected here."""
        if self._loaded.is_set() and self._key is None:
            return
        for delivery in deliveries:
            mailbox_id = delivery.mailbox_id
            if mailbox_id in self._pending:
                self._pending[mailbox_id] = delivery.envelope_id
                continue
            if self._connected(mailbox_id):
                continue
            now = self._monotonic()
            last = self._last.get(mailbox_id)
            if last is not None and now - last < self._interval:
                continue
            if len(self._pending) >= MAX_PENDING:
                self.outcomes.labels("dropped").inc()
                continue
            self._last[mailbox_id] = now
            self._pending[mailbox_id] = delivery.envelope_id
            self._wake.set()

    # --- the background task --------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-push")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()

    async def _load(self) -> bool:
        try:
            self._key = await self._load_key()
            self._http = await asyncio.to_thread(_http_client, self._transport, self._timeout)
        except Exception as exc:
            # Push is a convenience: a relay that cannot keep a key still relays messages.
            where = self._key_file or "the database"
            log.warning("Web Push is off: no VAPID key in %s (%s)", where, type(exc).__name__)
            self._key = None
        finally:
            self._loaded.set()
        return self._key is not None

    async def _load_key(self) -> VapidKey:
        if self._key_file is not None:
            return await asyncio.to_thread(_key_from_file, self._key_file)
        from confide_server.push.vapid import stored_pem

        candidate = await asyncio.to_thread(_new_pem)
        async with self._database.write() as conn:
            pem = await stored_pem(conn, candidate)
        return await asyncio.to_thread(_key_from_pem, pem)

    async def _run(self) -> None:
        if not await self._load():
            self._pending.clear()
            return
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending = list(self._pending.values())
            self._pending.clear()
            # Mailboxes marked meanwhile wait for the next round, and their own grace.
            if self._grace:
                await self._pause(self._grace)
            self._prune()
            for start in range(0, len(pending), LOOKUP_BATCH):
                found = await self._lookup(pending[start : start + LOOKUP_BATCH])
                for device_id, endpoint in found:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._send(device_id, endpoint))
                    self._sending.add(task)
                    task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()

    def _prune(self) -> None:
        if len(self._last) < PRUNE_AT:
            return
        cutoff = self._monotonic() - self._interval
        self._last = {m: t for m, t in self._last.items() if t >= cutoff}

    async def _lookup(self, envelope_ids: list[bytes]) -> list[tuple[bytes, str]]:
        try:
            async with self._database.read() as conn:
                return await subscriptions.still_waiting(conn, envelope_ids, self._clock())
        except Exception as exc:  # the database may be briefly away; the next envelope retries
            log.warning("push: could not read subscriptions (%s)", type(exc).__name__)
            return []

    async def _send(self, device_id: bytes, endpoint: str) -> None:
        assert self._http is not None and self._key is not None
        try:
            headers = {
                "Authorization": self._key.authorization(endpoint, self._contact, self._clock()),
                "TTL": self._ttl,
                "Urgency": "high",
            }
            response = await self._http.post(endpoint, content=b"", headers=headers)
        except Exception as exc:  # any failure of one push is that push's alone
            self.outcomes.labels("failed").inc()
            log.info("push: request failed (%s)", type(exc).__name__)
            return
        status = response.status_code
        if status in (404, 410):
            # The browser unsubscribed or the subscription expired at the push service.
            self.outcomes.labels("gone").inc()
            await self._forget(device_id, endpoint)
        elif 200 <= status < 300:
            self.outcomes.labels("sent").inc()
        else:
            self.outcomes.labels("failed").inc()
            log.info("push: the push service answered %d", status)

    async def _forget(self, device_id: bytes, endpoint: str) -> None:
        try:
            async with self._database.write() as conn:
                await subscriptions.remove(conn, device_id, endpoint)
        except Exception as exc:
            log.warning("push: could not delete a dead subscription (%s)", type(exc).__name__)
